"""IAM's evaluation of one identity-based policy document (AWS: "Policy evaluation logic",
"IAM JSON policy elements: Resource/Action").

An explicit Deny wins, else an applicable Allow is needed, else the call is implicitly denied.
`*` and `?` match in Action (case-insensitive) and Resource (case-sensitive, per ARN segment; a
`*` that ends a segment may run past colons). Where we do not evaluate something we are
stricter than AWS: an Allow carrying a Condition is not counted; a Deny carrying one is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal

from dynamotalk.permissions import PolicyDocument

Decision = Literal["allow", "implicit_deny", "explicit_deny"]


@cache
def _pattern(pattern: str, resource: bool) -> re.Pattern[str]:
    parts: list[str] = []
    for index, char in enumerate(pattern):
        if char == "*":
            ends_segment = index + 1 == len(pattern) or pattern[index + 1] == ":"
            parts.append(".*" if ends_segment or not resource else "[^:]*")
        elif char == "?":
            parts.append("[^:]" if resource else ".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), 0 if resource else re.IGNORECASE)


def action_matches(pattern: str, action: str) -> bool:
    """IAM Action matching: prefix and name are case-insensitive, `*` and `?` wildcards."""
    return _pattern(pattern, False).fullmatch(action) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    """IAM Resource matching: case-sensitive; wildcards stay in their colon-separated segment,
    except a `*` that ends a segment, which may run on past colons."""
    return _pattern(pattern, True).fullmatch(resource) is not None


def listed(value: Any) -> list[str]:
    """A policy element's value as a list (IAM allows a string or a list)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _applies(statement: Mapping[str, Any], action: str, resource: str) -> bool:
    if "Action" in statement:
        on_action = any(action_matches(p, action) for p in listed(statement["Action"]))
    elif "NotAction" in statement:
        on_action = not any(action_matches(p, action) for p in listed(statement["NotAction"]))
    else:
        return False
    if "Resource" in statement:
        on_resource = any(resource_matches(p, resource) for p in listed(statement["Resource"]))
    elif "NotResource" in statement:
        on_resource = not any(
            resource_matches(p, resource) for p in listed(statement["NotResource"])
        )
    else:
        return False
    return on_action and on_resource


def evaluate(document: PolicyDocument | None, action: str, resource: str) -> Decision:
    """IAM's decision for one request under one identity-based policy document."""
    statements = (document or {}).get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, Mapping) or not _applies(statement, action, resource):
            continue
        effect = statement.get("Effect")
        if effect == "Deny":
            return "explicit_deny"  # a Deny's Condition is not evaluated: it always counts
        if effect == "Allow" and "Condition" not in statement:
            allowed = True
    return "allow" if allowed else "implicit_deny"
