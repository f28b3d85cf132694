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
from typing import Any

import attrs
import pytest

from dynamotalk.domain.user_limits import LIMIT_SETTINGS, UserLimits
from dynamotalk.settings import DEFAULT_REGION_ENV, ENV, Settings, environment
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
UNREAD_ON_PURPOSE: dict[str, str] = {}
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


def env_names_settings_reads() -> set[str]:
    """The environment variables Settings.from_env looks up, recorded as it runs (the per-user
    limits included: from_env hands the environment to parse_limits, which reads one each)."""
    seen: set[str] = set()

    class Recording(dict[str, str]):
        def get(self, key: str, default: Any = None) -> Any:
            seen.add(key)
            return super().get(key, default)

    # AWS_REGION unset, so the fallback to AWS_DEFAULT_REGION is looked up too.
    Settings.from_env(Recording({**MINIMAL_ENV, DEFAULT_REGION_ENV: "eu-west-1"}))
    return seen


MINIMAL_ENV = {ENV["stage"]: "dev", ENV["table_name"]: "t", ENV["bucket_name"]: "b"}
NOT_SET_BY_INFRA = {
    "region": "Lambda's runtime sets AWS_REGION itself (a reserved variable)",
    "dynamodb_endpoint": "local stack only: where its DynamoDB listens",
    "s3_endpoint": "local stack only: where LocalAws listens",
    "cognito_endpoint": "local stack only: where LocalAws listens",
    "cognito_issuer": "tests only: an issuer other than Cognito's own",
    "bedrock_endpoint": "tests only: a stand-in Bedrock runtime",
    "bot_breaker_threshold": "tests only: a breaker that opens after fewer failures",
    "bot_breaker_cooldown_s": "tests only: a breaker that half-opens sooner",
    "session_sweep_s": "local stack only: EventBridge's schedule runs the sweeper on AWS",
    "ssm_endpoint": "local stack only: where LocalAws (moto's SSM) listens",
    "push_local_origin": "local stack only: its push-service emulator, outside the allowlist",
}
"""Settings fields no deployed function's environment sets, each with its reason; a field that
infra never sets and has no reason here is dead (as DYNAMOTALK_DOWNLOAD_BASE_URL was)."""


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
    """And the other way: a Settings field no function's environment sets has its reason."""
    recorder, _ = run(stage_settings(stage))
    read = env_names_settings_reads()
    set_by_infra: set[str] = set()
    for function in recorder.of("aws:lambda/function:Function"):
        variables = set(function.inputs["environment"]["variables"])
        assert variables - read == set(), (function.name, variables - read)
        set_by_infra |= variables
    by_name = {name: field for field, name in ENV.items()}
    fields = {by_name[name] for name in set_by_infra if name in by_name}
    if set_by_infra >= {s.env for s in LIMIT_SETTINGS}:
        fields.add("user_limits")
    unset = {f.name for f in attrs.fields(Settings)} - fields
    assert unset == set(NOT_SET_BY_INFRA), unset ^ set(NOT_SET_BY_INFRA)


def test_the_local_stacks_environment_names_only_variables_settings_reads() -> None:
    from dynamotalk.local.emulators import DUMMY_CREDENTIALS
    from dynamotalk.local.provision import LocalResources

    resources = LocalResources(
        stage="local",
        table_name="t",
        bucket_name="b",
        user_pool_id="us-east-1_abc",
        user_pool_client_id="client",
        dynamodb_endpoint="http://127.0.0.1:8000",
        aws_endpoint="http://127.0.0.1:4566",
    )
    env = resources.environment("http://127.0.0.1:3001", auto_confirm=True)
    # Besides Settings' own, only the AWS SDK's: the emulators' keys (and default region).
    assert set(env) - env_names_settings_reads() <= set(DUMMY_CREDENTIALS)
    settings = Settings.from_env(env)
    assert (settings.table_name, settings.user_pool_id, settings.s3_endpoint) == (
        "t",
        "us-east-1_abc",
        "http://127.0.0.1:4566",
    )
    assert settings.auto_confirm is True
    assert settings.management_endpoint == "http://127.0.0.1:3001"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("stage", "prod", "prod"),
        ("region", "eu-west-2", "eu-west-2"),
        ("table_name", "chat", "chat"),
        ("bucket_name", "files", "files"),
        ("user_pool_id", "eu-west-1_x", "eu-west-1_x"),
        ("user_pool_client_id", "c", "c"),
        ("management_endpoint", "https://m", "https://m"),
        ("auto_confirm", True, True),
        ("max_message_chars", 12, 12),
        ("dynamodb_endpoint", "http://d", "http://d"),
        ("s3_endpoint", "http://s", "http://s"),
        ("cognito_endpoint", "http://c", "http://c"),
        ("cognito_issuer", "https://i", "https://i"),
        ("bot", "local", "local"),
        ("bot_queue_url", "https://q", "https://q"),
        ("bot_model_id", "m.v1", "m.v1"),
        ("bot_max_tokens", 100, 100),
        ("bot_temperature", 0.7, 0.7),
        ("bedrock_endpoint", "http://b", "http://b"),
        ("bot_breaker_threshold", 7, 7),
        ("bot_breaker_cooldown_s", 2.5, 2.5),
        ("session_sweep_s", 9.0, 9.0),
    ],
)
def test_each_variable_name_in_settings_env_sets_its_field(
    field: str, value: object, expected: object
) -> None:
    """settings.ENV is the one place the names are spelled: environment(field=value) written by
    infra or the local stack is what from_env reads back into that field."""
    env = {**environment(region="eu-west-1"), **MINIMAL_ENV, **environment(**{field: value})}
    assert getattr(Settings.from_env(env), field) == expected
    assert getattr(
        Settings.from_env({**environment(region="eu-west-1"), **MINIMAL_ENV}), field
    ) != (expected)


def test_settings_env_names_every_field_but_the_per_user_limits() -> None:
    fields = {f.name for f in attrs.fields(Settings)}
    assert set(ENV) == fields - {"user_limits"}
    with pytest.raises(TypeError, match="no environment variable for 'max_text'"):
        environment(max_text=5)
    limits = environment(user_limits=UserLimits())
    assert set(limits) == {s.env for s in LIMIT_SETTINGS}
    assert Settings.from_env({**MINIMAL_ENV, **environment(region="r-1")}).region == "r-1"


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
