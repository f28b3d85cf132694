"""The route tables (routes.py) and the handler tables (lambdas/) match: every routed action or
HTTP route has a handler and every handler a route, checked when a handler module loads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.p3_cold_start import function_environment
from dynamotalk import routes, wire
from dynamotalk.domain.commands import Ping, SendMessage, Sync

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, lambdas.http_api as http, lambdas.ws_default as ws
print(json.dumps({
    "ws": sorted(c.__name__ for c in ws.HANDLERS),
    "http": sorted(http.ROUTES),
    "http_handlers": sorted(http.HANDLERS),
}))
"""


def test_the_handler_modules_load_and_their_tables_match_the_routes() -> None:
    env = {**os.environ, **function_environment("http_api"), "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    )
    tables = json.loads(out.stdout.splitlines()[-1])
    assert tables["ws"] == sorted(c.__name__ for c in routes.WS_ACTIONS.values())
    http_routes = [r for r in routes.HTTP_ROUTES if r.module == "http_api"]
    assert tables["http"] == sorted(r.route_key for r in http_routes)
    assert tables["http_handlers"] == sorted({r.handler for r in http_routes})


def test_the_check_refuses_a_route_without_a_handler_and_a_handler_without_a_route() -> None:
    routes.check_handlers("m", {Ping, Sync}, {Sync, Ping})
    with pytest.raises(RuntimeError, match=r"routes without a handler: Ping; .*: none"):
        routes.check_handlers("m", {Ping, Sync}, {Sync})
    with pytest.raises(RuntimeError, match=r"without a handler: none; .*: SendMessage"):
        routes.check_handlers("m", {Ping}, {Ping, SendMessage})
    with pytest.raises(RuntimeError, match=r"without a handler: health"):
        routes.check_handlers("m", ["health", "get_me"], ["get_me"])


def test_each_action_names_one_command_and_action_of_inverts_it() -> None:
    assert len(set(routes.WS_ACTIONS.values())) == len(routes.WS_ACTIONS)
    for action, command in routes.WS_ACTIONS.items():
        assert routes.action_of(command) == action
        assert routes.ws_route_for(action) == action
    assert routes.ws_route_for("fly") == routes.ws_route_for(None) == "$default"


def test_http_route_keys_are_unique() -> None:
    keys = [r.route_key for r in routes.HTTP_ROUTES]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "command",
    [Ping(), Sync("r"), Sync("r", "m", 5), SendMessage("r", "hi", "c1")],
    ids=lambda c: type(c).__name__,
)
def test_command_frame_is_what_parse_frame_reads_back(command: object) -> None:
    frame = wire.command_frame(command, request_id="q1")  # type: ignore[arg-type]
    assert frame["action"] == routes.action_of(type(command))  # type: ignore[arg-type]
    assert None not in frame.values()
    parsed = wire.parse_frame(json.dumps(frame))
    assert (parsed.request_id, parsed.command) == ("q1", command)
    assert "requestId" not in wire.command_frame(command)  # type: ignore[arg-type]


def test_only_routes_py_spells_an_action_in_the_server() -> None:
    names = "|".join(routes.WS_ACTIONS)
    spelled = re.compile(rf"""["']({names})["']""")
    files = [*(ROOT / "lambdas").glob("*.py"), *(ROOT / "infra").glob("*.py")]
    files += [*(ROOT / "src" / "dynamotalk" / "wire").glob("*.py")]
    files += [*(ROOT / "src" / "dynamotalk" / "edge").glob("*.py")]
    # An event's type (the typing event, in wire's EVENT_TYPE) is another fact than the
    # action of the same name.
    texts = {p.name: re.sub(r'ev\.\w+: "[\w.]+"', "", p.read_text()) for p in files}
    assert [name for name, text in texts.items() if spelled.search(text)] == []
