"""LocalAws keeps Cognito and S3 across restarts: after a clean stop and after kill -9.

LocalAws runs as its own process (`python -m dynamotalk.local.aws`), as in `dynamotalk dev`,
so a crash is a real SIGKILL and nothing survives in memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dynamotalk.adapters.cognito import CognitoIdentity
from dynamotalk.adapters.s3 import S3AttachmentStore
from dynamotalk.local.emulators import free_port
from dynamotalk.local.provision import client, ensure_bucket, ensure_user_pool
from tests.support.cognito import PASSWORD, unique

LOCAL_AWS = [sys.executable, "-m", "dynamotalk.local.aws"]
STAGE = "restart"
BUCKET = "dynamotalk-restart-attachments"


class Running:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [*LOCAL_AWS, "--port", str(self.port), "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        assert line == self.endpoint, line or self.process.stderr.read().decode()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(20) == 0

    def crash(self) -> None:
        self.process.kill()
        self.process.wait(20)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[Running]]:
    processes: list[Running] = []
    yield processes
    for running in processes:
        if running.process.poll() is None:
            running.crash()


def start(started: list[Running], data_dir: Path) -> Running:
    running = Running(data_dir)
    started.append(running)
    return running


def provision(endpoint: str) -> tuple[str, str]:
    pool = ensure_user_pool(client("cognito-idp", endpoint), STAGE)
    ensure_bucket(client("s3", endpoint), BUCKET, [])
    return pool


def identity(endpoint: str, pool_id: str, client_id: str) -> CognitoIdentity:
    return CognitoIdentity(
        issuer=f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}",
        client_id=client_id,
        jwks_url=f"{endpoint}/{pool_id}/.well-known/jwks.json",
    )


def sign_in(endpoint: str, client_id: str, username: str) -> dict[str, str]:
    reply = client("cognito-idp", endpoint).initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )
    tokens: dict[str, str] = reply["AuthenticationResult"]
    return tokens


@pytest.mark.parametrize("ending", ["clean stop", "kill -9"])
def test_users_tokens_and_uploads_survive_a_restart(
    ending: str, tmp_path: Path, started: list[Running]
) -> None:
    data_dir = tmp_path / "aws"
    first = start(started, data_dir)
    pool_id, client_id = provision(first.endpoint)
    cognito = client("cognito-idp", first.endpoint)
    name = unique("Rita")
    cognito.sign_up(
        ClientId=client_id,
        Username=name,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )
    cognito.confirm_sign_up(ClientId=client_id, Username=name, ConfirmationCode="000000")
    old_tokens = sign_in(first.endpoint, client_id, name)
    before = identity(first.endpoint, pool_id, client_id).verify(old_tokens["IdToken"])
    store = S3AttachmentStore(client("s3", first.endpoint), BUCKET)
    form = store.upload_form("avatars/u/1/me.png", "image/png", 100, 60)
    uploaded = httpx.post(
        form.url, data=dict(form.fields), files={"file": ("me.png", b"png!", "image/png")}
    )
    assert uploaded.status_code == 204, uploaded.text

    if ending == "clean stop":
        first.stop()
    else:
        first.crash()
    second = start(started, data_dir)

    assert provision(second.endpoint) == (pool_id, client_id), "same pool and client ids"
    # The token issued before the restart verifies against the restarted pool's JWKS.
    restarted = identity(second.endpoint, pool_id, client_id)
    assert restarted.verify(old_tokens["IdToken"]) == before
    # The user signs in again (by username in another case, and by e-mail) as the same sub.
    again = restarted.verify(sign_in(second.endpoint, client_id, name.upper())["IdToken"])
    by_email = restarted.verify(
        sign_in(second.endpoint, client_id, f"{name}@example.com")["IdToken"]
    )
    assert again == before
    assert by_email == before
    with pytest.raises(Exception, match="UsernameExistsException"):
        client("cognito-idp", second.endpoint).sign_up(
            ClientId=client_id, Username=name, Password=PASSWORD
        )
    s3 = client("s3", second.endpoint)
    kept = s3.get_object(Bucket=BUCKET, Key="avatars/u/1/me.png")
    assert kept["Body"].read() == b"png!"
    assert kept["ContentType"] == "image/png"
    second.stop()


def test_a_fresh_data_directory_starts_clean(tmp_path: Path, started: list[Running]) -> None:
    first = start(started, tmp_path / "one")
    kept_pool = provision(first.endpoint)
    first.stop()
    other = start(started, tmp_path / "two")
    assert provision(other.endpoint) != kept_pool
    pools = client("cognito-idp", other.endpoint).list_user_pools(MaxResults=60)["UserPools"]
    assert len(pools) == 1
    other.stop()


def test_state_from_another_version_is_refused_in_plain_words(
    tmp_path: Path, started: list[Running]
) -> None:
    data_dir = tmp_path / "aws"
    first = start(started, data_dir)
    first.stop()
    (data_dir / "FORMAT").write_text("dynamotalk-localaws 0 moto 0.0\n")
    process = subprocess.run(
        [*LOCAL_AWS, "--data-dir", str(data_dir)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 2
    assert b"start with --fresh" in process.stderr
    assert b"Traceback" not in process.stderr


def test_the_cognito_journal_keeps_every_answered_write_through_kill_9(
    tmp_path: Path, started: list[Running]
) -> None:
    """Sign-ups, confirmations, sign-ins, refreshes and attribute changes append to the journal
    instead of rewriting every pool; after kill -9 (and a record torn by the crash) each of
    them is back, and a later write is kept too."""
    data_dir = tmp_path / "aws"
    first = start(started, data_dir)
    pool_id, client_id = provision(first.endpoint)
    snapshot = (data_dir / "cognito.pickle").read_bytes()
    cognito = client("cognito-idp", first.endpoint)
    names = [unique("Jo") for _ in range(4)]
    tokens = {}
    for name in names:
        cognito.sign_up(
            ClientId=client_id,
            Username=name,
            Password=PASSWORD,
            UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
        )
        cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=name)
        tokens[name] = sign_in(first.endpoint, client_id, name)
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id, Username=names[0], UserAttributes=[{"Name": "name", "Value": "Jo"}]
    )
    cognito.admin_disable_user(UserPoolId=pool_id, Username=names[1])
    refreshed = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens[names[2]]["RefreshToken"]},
    )["AuthenticationResult"]["IdToken"]
    assert (data_dir / "cognito.pickle").read_bytes() == snapshot, "journaled, not rewritten"
    journal = data_dir / "cognito.journal"
    assert journal.stat().st_size > 0

    first.crash()
    with journal.open("ab") as torn:  # a record the crash cut short: never acknowledged
        torn.write(b"\x00\x10\x00\x00\x01\x02\x03\x04half a rec")
    second = start(started, data_dir)
    cognito = client("cognito-idp", second.endpoint)
    users = {
        u["Username"]: u
        for u in cognito.list_users(UserPoolId=pool_id)["Users"]
        if u["Username"] in {n.lower() for n in names}
    }
    assert len(users) == len(names)
    assert all(u["UserStatus"] == "CONFIRMED" for u in users.values())
    assert {"Name": "name", "Value": "Jo"} in users[names[0].lower()]["Attributes"]
    assert users[names[1].lower()]["Enabled"] is False
    with pytest.raises(Exception, match="NotAuthorizedException"):
        sign_in(second.endpoint, client_id, names[1])
    restarted = identity(second.endpoint, pool_id, client_id)
    assert restarted.verify(refreshed) == restarted.verify(tokens[names[2]]["IdToken"])
    again = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": tokens[names[3]]["RefreshToken"]},
    )["AuthenticationResult"]["IdToken"]
    assert restarted.verify(again) == restarted.verify(tokens[names[3]]["IdToken"])
    # A sign-out rewrites the snapshot and empties the journal; a write after the torn record
    # was dropped (not appended behind it) survives the next crash too.
    cognito.global_sign_out(AccessToken=tokens[names[0]]["AccessToken"])
    assert journal.stat().st_size == 0
    late = unique("Late")
    cognito.sign_up(ClientId=client_id, Username=late, Password=PASSWORD)
    cognito.admin_confirm_sign_up(UserPoolId=pool_id, Username=late)
    second.crash()
    third = start(started, data_dir)
    sign_in(third.endpoint, client_id, late)
    with pytest.raises(Exception, match="NotAuthorizedException"):
        client("cognito-idp", third.endpoint).initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens[names[0]]["RefreshToken"]},
        )
    third.stop()
