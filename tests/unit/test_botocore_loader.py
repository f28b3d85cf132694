"""The lean botocore loader: every service a function uses is known, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import UnknownServiceError

from dynamotalk.botocore_loader import USED_SERVICES, UsedServicesLoader, botocore_session

SRC = Path(__file__).resolve().parents[2] / "src" / "dynamotalk"


def test_every_client_the_functions_build_is_a_used_service() -> None:
    named = set()
    for path in SRC.rglob("*.py"):
        if {"local", "client"} & set(path.relative_to(SRC).parts):
            continue  # the local stack and the terminal client never run on Lambda
        named |= set(
            re.findall(r"""(?:_client|\.client)\(\s*["']([a-z0-9-]+)["']""", path.read_text())
        )
    assert named
    assert named <= USED_SERVICES


def test_each_used_service_gets_a_client_and_others_are_unknown() -> None:
    session = boto3.session.Session(botocore_session=botocore_session(), region_name="eu-west-1")
    assert isinstance(session._session.get_component("data_loader"), UsedServicesLoader)
    for service in sorted(USED_SERVICES):
        client = session.client(service, aws_access_key_id="k", aws_secret_access_key="s")
        assert client.meta.service_model.service_name == service
    with pytest.raises(UnknownServiceError):
        session.client("ec2", aws_access_key_id="k", aws_secret_access_key="s")
    assert session.get_available_services() == sorted(USED_SERVICES)


def test_aws_data_path_still_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = botocore_session().get_component("data_loader")
    assert loader.search_paths[0] == str(tmp_path)
