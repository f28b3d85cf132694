"""LocalAws: Cognito and S3 on loopback, at least as strict as AWS, kept across restarts.

moto's server (its WSGI app, in this process) does the work; a WSGI layer of ours in front of
it refuses what AWS refuses and moto lets through (see aws_cognito.py and aws_s3.py), and,
given a data directory, writes Cognito and S3 state to disk before each answer that changed
it (aws_state.py), so users, their ids, passwords, signing keys, buckets and objects come
back on the next start, after a clean stop or a crash.

The WSGI layer lives in aws_front.py; requests go through it one at a time.

Run alone: `python -m dynamotalk.local.aws --port 4566 --data-dir .dynamotalk/aws`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import attrs

from dynamotalk.local.aws_front import StrictAws
from dynamotalk.local.aws_state import SavedState, StateError
from dynamotalk.local.emulators import DUMMY_CREDENTIALS, EmulatorError, _wait_http, free_port

__all__ = ["LocalAws", "StateError"]


@attrs.define
class LocalAws:
    """Cognito and S3 for the local stack and the tests; same shape as MotoServer."""

    endpoint: str
    _server: Any
    _thread: threading.Thread

    @classmethod
    def start(cls, port: int | None = None, data_dir: Path | None = None) -> LocalAws:
        """Serve on 127.0.0.1; with `data_dir`, restore what it holds and keep writing to it.

        moto's state lives in this process, so run one LocalAws with a data directory per
        process (a second one would share, and replace, the first one's state).
        """
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        for name, value in DUMMY_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        state = None
        if data_dir is not None:
            state = SavedState(data_dir)
            try:
                state.restore()
            except StateError as error:
                raise EmulatorError(str(error)) from error
        app = StrictAws(DomainDispatcherApplication(create_backend_app), state)
        port = port or free_port()
        server = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler
        )
        thread = threading.Thread(target=server.serve_forever, name="local-aws", daemon=True)
        thread.start()
        endpoint = f"http://127.0.0.1:{port}"
        _wait_http(f"{endpoint}/moto-api/", 30)
        return cls(endpoint=endpoint, server=server, thread=thread)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)
        self._server.server_close()
        state = self._server.app.state
        if state is not None:
            state.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cognito and S3 on loopback, as strict as AWS")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    try:
        aws = LocalAws.start(args.port or None, args.data_dir)
    except EmulatorError as error:
        print(f"local aws: {error}", file=sys.stderr)
        return 2
    print(aws.endpoint, flush=True)
    while not stopping.wait(0.5):
        pass
    aws.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
