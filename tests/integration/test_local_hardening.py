"""The pure pieces of the hardening emulation: S3's form tagging rules and Cognito's password
policy check, as LocalAws applies them (the real-interface tests are in tests/security/)."""

from __future__ import annotations

import pytest

from dynamotalk import webheaders
from dynamotalk.local.aws_s3 import S3Refusal, form_tags
from dynamotalk.upload_expiry import UNREFERENCED_TAG, unreferenced_tagging
from dynamotalk.userpool import PasswordPolicy, user_pool_spec


def tagging(*tags: tuple[str, str]) -> dict[str, str]:
    body = "".join(f"<Tag><Key>{k}</Key><Value>{v}</Value></Tag>" for k, v in tags)
    return {"tagging": f"<Tagging><TagSet>{body}</TagSet></Tagging>"}


def test_the_upload_tagging_field_reads_back_as_the_unreferenced_tag() -> None:
    assert form_tags({"tagging": unreferenced_tagging()}) == dict([UNREFERENCED_TAG])
    assert form_tags({}) == {}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"tagging": "<Tagging><TagSet>"}, "MalformedXML"),
        ({"tagging": "<Other/>"}, "MalformedXML"),
        ({"tagging": '<!DOCTYPE x [<!ENTITY a "b">]><Tagging><TagSet/></Tagging>'}, "MalformedXML"),
        (tagging(("a", "1"), ("a", "2")), "InvalidTag"),
        (tagging(("aws:owner", "me")), "InvalidTag"),
        (tagging(("k" * 129, "v")), "InvalidTag"),
        (tagging(*((f"k{i}", "v") for i in range(11))), "BadRequest"),
    ],
)
def test_tagging_s3_refuses_is_refused(fields: dict[str, str], code: str) -> None:
    refusal = form_tags(fields)
    assert isinstance(refusal, S3Refusal)
    assert refusal.status == 400
    assert refusal.code == code


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("abcdefghij1", "Password not long enough"),
        ("abcdefghijkl", "Password must have numeric characters"),
        ("ABCDEFGHIJK1", "Password must have lowercase characters"),
        ("ÀÉÎÕÜàéîõü12", "Password must have lowercase characters"),  # ASCII letters, as Cognito
        ("x" * 255 + "1", None),
        ("x" * 256 + "1", "Password is too long"),
        ("abcdefghijk1", None),
    ],
)
def test_the_prod_policy_answers_as_cognito_does(password: str, problem: str | None) -> None:
    refusal = user_pool_spec(protected=True).password_policy.refusal(password)
    assert refusal == (
        None if problem is None else f"Password did not conform with policy: {problem}"
    )


def test_a_policy_read_back_from_cognito_is_the_one_provisioned() -> None:
    for protected in (False, True):
        policy = user_pool_spec(protected).password_policy
        assert PasswordPolicy.from_request(policy.request()) == policy


def test_symbols_and_uppercase_when_the_policy_asks() -> None:
    policy = PasswordPolicy(minimum_length=8, require_symbols=True, require_uppercase=True)
    assert policy.refusal("abcdefg1A") == (
        "Password did not conform with policy: Password must have symbol characters"
    )
    assert policy.refusal("abcdefg1!") == (
        "Password did not conform with policy: Password must have uppercase characters"
    )
    assert policy.refusal("abcdefg1A!") is None


@pytest.mark.parametrize(
    ("url", "source"),
    [
        (
            "wss://ab1.execute-api.eu-west-1.amazonaws.com/dev",
            "wss://ab1.execute-api.eu-west-1.amazonaws.com",
        ),
        (
            "https://cognito-idp.eu-west-1.amazonaws.com/",
            "https://cognito-idp.eu-west-1.amazonaws.com",
        ),
        ("http://127.0.0.1:8787/api", "http://127.0.0.1:8787"),
        ("HTTPS://Example.COM:443/x", "https://example.com"),
    ],
)
def test_csp_sources_are_scheme_host_and_port(url: str, source: str) -> None:
    assert webheaders.source_of(url) == source


def test_a_url_without_host_or_with_another_scheme_is_no_source() -> None:
    for bad in ("javascript:alert(1)", "data:text/html,x", "https:///nohost"):
        with pytest.raises(ValueError, match="not an http"):
            webheaders.source_of(bad)
