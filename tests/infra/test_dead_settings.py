"""No dead settings: a stage setting reaches the code that reads it, end to end.

  Pulumi.<stage>.yaml -> StageSettings (infra/settings.py) -> read by the Pulumi program
  -> a function's environment -> Settings.from_env (src/dynamotalk/settings.py)
  -> a Settings field -> read by the handlers or the package.

Each link is checked on the source itself (the AST), so a setting that stops anywhere on the
way fails here: `maxMessageChars` reached the Lambda environment and Settings, and nothing read
`Settings.max_message_chars`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import attrs
import pytest

from dynamotalk.domain.user_limits import LIMIT_SETTINGS
from dynamotalk.settings import Settings
from infra.settings import CONFIG_KEYS, StageSettings
from tests.infra.stack_runner import run
from tests.infra.test_stack import stage_settings

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_SOURCES = sorted(
    [*(ROOT / "src" / "dynamotalk").rglob("*.py"), *(ROOT / "lambdas").glob("*.py")]
)
SETTINGS_PY = ROOT / "src" / "dynamotalk" / "settings.py"
SETTINGS_RECEIVERS = {
    "s",
    "settings",
    "settings()",
    "bootstrap.settings()",
    "self.settings",
    "self._settings",
}
"""How the code names a Settings instance (the composition root's `s = settings()`, ...)."""
UNREAD_ON_PURPOSE = {
    "stage": "required so a function never runs without knowing its stage; nothing reads it yet",
}
"""Settings fields nobody reads, each with its reason; the test fails if one gets used."""


def attributes_read(path: Path, receivers: set[str]) -> set[str]:
    """Names of attributes read as `<receiver>.<name>` in one file."""
    return {
        node.attr
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and ast.unparse(node.value) in receivers
    }


def read_by_settings_properties() -> set[str]:
    """Fields Settings' own properties read (`issuer` reads `cognito_issuer`), besides from_env."""
    (cls,) = [
        n
        for n in ast.parse(SETTINGS_PY.read_text()).body
        if isinstance(n, ast.ClassDef) and n.name == "Settings"
    ]
    return {
        node.attr
        for method in cls.body
        if isinstance(method, ast.FunctionDef) and method.name != "from_env"
        for node in ast.walk(method)
        if isinstance(node, ast.Attribute) and ast.unparse(node.value) == "self"
    }


def env_names_from_env_reads() -> set[str]:
    """The environment variables Settings.from_env looks up."""
    (cls,) = [
        n
        for n in ast.parse(SETTINGS_PY.read_text()).body
        if isinstance(n, ast.ClassDef) and n.name == "Settings"
    ]
    (from_env,) = [m for m in cls.body if isinstance(m, ast.FunctionDef) and m.name == "from_env"]
    return {
        node.value
        for node in ast.walk(from_env)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.isupper()
        and node.value.startswith(("DYNAMOTALK_", "AWS_"))
    }


def test_every_stage_setting_is_read_by_the_pulumi_program() -> None:
    fields = {f.name for f in attrs.fields(StageSettings)}
    assert {field for field, _ in CONFIG_KEYS.values()} <= fields
    read: set[str] = set()
    for path in sorted((ROOT / "infra").glob("*.py")):
        if path.name != "settings.py":
            read |= attributes_read(path, {"settings"})
    assert fields - read == set(), "stage settings the program never reads"


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_variable_infra_sets_is_read_by_settings(stage: str) -> None:
    recorder, _ = run(stage_settings(stage))
    # Settings.from_env hands the environment to parse_limits, which reads one per limit.
    read = env_names_from_env_reads() | {s.env for s in LIMIT_SETTINGS}
    for function in recorder.of("aws:lambda/function:Function"):
        variables = set(function.inputs["environment"]["variables"])
        assert variables - read == set(), (function.name, variables - read)


def test_every_settings_field_is_used_by_the_running_code() -> None:
    fields = {f.name for f in attrs.fields(Settings)}
    used = read_by_settings_properties()
    properties = {name for name, value in vars(Settings).items() if isinstance(value, property)}
    for path in RUNTIME_SOURCES:
        if path != SETTINGS_PY:
            used |= attributes_read(path, SETTINGS_RECEIVERS)
    assert properties <= used, "Settings properties nobody reads"
    dead = fields - used
    assert dead == set(UNREAD_ON_PURPOSE), dead - set(UNREAD_ON_PURPOSE) or (
        "used now, drop it from UNREAD_ON_PURPOSE",
        set(UNREAD_ON_PURPOSE) - dead,
    )


def test_this_check_finds_a_field_nobody_reads(tmp_path: Path) -> None:
    # The check itself: a composition root that builds the service without reading
    # max_message_chars (the old bootstrap.service) leaves it dead.
    old = tmp_path / "old_wiring.py"
    old.write_text("def service():\n    s = settings()\n    return ChatService(s.table_name)\n")
    assert "max_message_chars" not in attributes_read(old, SETTINGS_RECEIVERS)
    assert "table_name" in attributes_read(old, SETTINGS_RECEIVERS)
    wiring = ROOT / "src" / "dynamotalk" / "bootstrap.py"
    assert "max_message_chars" in attributes_read(wiring, SETTINGS_RECEIVERS)


def test_max_message_chars_reaches_the_domain_through_the_composition_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real bootstrap.service() built from a Lambda-like environment (memory
    stores): a message one character over the stage's limit is refused, one at it is kept."""
    from dynamotalk import bootstrap
    from dynamotalk.domain.errors import TooLarge
    from dynamotalk.domain.models import Principal, RoomKind

    env = {
        "AWS_REGION": "eu-west-1",
        "DYNAMOTALK_STAGE": "dev",
        "DYNAMOTALK_TABLE": "t",
        "DYNAMOTALK_BUCKET": "b",
        "DYNAMOTALK_STORAGE": "memory",
        "DYNAMOTALK_MAX_MESSAGE_CHARS": "12",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    caches = (bootstrap.settings, bootstrap.service, bootstrap._session, bootstrap._management)
    for cached in caches:
        cached.cache_clear()
    try:
        service = bootstrap.service()
        assert service.limits.max_text == 12
        alice = Principal(user_id="u-alice", username="alice")
        room = service.create_room(alice, "lobby", RoomKind.PUBLIC)
        service.post_message(alice, room.room_id, "x" * 12, "c1")
        with pytest.raises(TooLarge, match="longer than 12"):
            service.post_message(alice, room.room_id, "x" * 13, "c2")
    finally:
        for cached in caches:
            cached.cache_clear()


def test_max_message_chars_above_the_domain_ceiling_is_refused() -> None:
    from dynamotalk.domain.limits import Limits
    from dynamotalk.settings import SettingsError

    env = {
        "AWS_REGION": "eu-west-1",
        "DYNAMOTALK_STAGE": "dev",
        "DYNAMOTALK_TABLE": "t",
        "DYNAMOTALK_BUCKET": "b",
    }
    ceiling = Limits().max_text
    assert Settings.from_env(env).max_message_chars == ceiling
    with pytest.raises(SettingsError, match=f"1..{ceiling}"):
        Settings.from_env({**env, "DYNAMOTALK_MAX_MESSAGE_CHARS": str(ceiling + 1)})
