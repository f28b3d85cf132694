"""The web app client of the user pool (infra/auth.py): users write their e-mail address only,
never `email_verified` or `phone_number_verified`, whichever stage (issue 13, F5)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dynamotalk.userpool import VERIFIED_ATTRIBUTES, AppClientSpec, user_pool_spec
from infra.settings import settings_from
from tests.infra.stack_runner import Recorder, run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    config = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("dynamotalk:")}
    recorder, _ = run(settings_from("dev", config.get("aws:region"), raw))
    return recorder


def test_the_client_sets_its_write_attributes_explicitly(recorder: Recorder) -> None:
    (client,) = recorder.of("aws:cognito/userPoolClient:UserPoolClient")
    written = client.inputs.get("writeAttributes")
    # Unset, Cognito lets users write every standard attribute: the list must be explicit.
    assert written, "the app client must list its write attributes"
    assert written == ["email"]
    assert not set(written) & set(VERIFIED_ATTRIBUTES)
    assert "email_verified" in client.inputs["readAttributes"]


@pytest.mark.parametrize("protected", [False, True])
def test_every_stage_and_the_local_stack_share_the_client(protected: bool) -> None:
    request = user_pool_spec(protected).client.request("pool")
    assert request["WriteAttributes"] == ["email"]
    assert "email_verified" not in request["WriteAttributes"]


def test_a_client_spec_that_lets_users_verify_themselves_is_refused() -> None:
    for attribute in VERIFIED_ATTRIBUTES:
        with pytest.raises(ValueError, match="never write"):
            AppClientSpec(write_attributes=("email", attribute))
