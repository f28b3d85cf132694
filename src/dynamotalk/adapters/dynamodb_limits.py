"""RateLimiter on DynamoDB: per-user fixed-window counters, one conditional UpdateItem each.

Item: PK `LIMIT#{user}`, SK `{group}#{window_s}#{window}` (tables/keys.py), one number attribute per
quota, named after the quota and its own window, and the table's TTL attribute set to the end
of the item's window plus a margin (DynamoDB deletes it later, for free; a late delete is
harmless because the next window is another item). All the quotas of one action (a second and
a minute for messages; count and bytes for uploads) are counted by the same update:

    ADD #q0 :n0, #q1 :n1 SET #ttl = :ttl
    IF (attribute_not_exists(#q0) OR #q0 <= :max0) AND (attribute_not_exists(#q1) OR ...)

where :max is the quota's limit minus the amount. The condition and the increment are one
atomic step in DynamoDB, so concurrent requests (even from many Lambda containers) can never
count past a limit, and no read comes first. A refused update writes nothing and returns the
old item (ReturnValuesOnConditionCheckFailure=ALL_OLD) to tell which window refused. Cost: one
write unit per request, allowed or refused (a failed conditional write is billed as a write).

A refusal is remembered in the container until the refusing window ends: a counted quota only
grows within its window, so a flood of one-unit requests after a refusal is refused again
without a call (no write unit, no round trip). Only charges of one unit each are remembered
(a smaller upload may still fit where a larger one did not).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from dynamotalk.adapters.dynamodb.table import THROTTLED, busy
from dynamotalk.domain.user_limits import Charge, attribute_of, item_window, retry_after_ms
from dynamotalk.tables import CHAT_TABLE
from dynamotalk.tables import keys as k

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TTL_MARGIN_S = 60
REFUSALS_KEPT = 10_000
"""Remembered refusals per container; past this, those whose window has ended are dropped."""


class DynamoRateLimiter:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table_name = table_name
        self._refused_until: dict[tuple[str, str], int] = {}

    def take(self, user_id: str, group: str, charges: Sequence[Charge], now_ms: int) -> int | None:
        if not charges:
            return None
        if any(c.amount > c.quota.limit for c in charges):
            return retry_after_ms(charges, {}, now_ms)  # can never pass in this window
        unit = all(c.amount == 1 for c in charges)
        until = self._refused_until.get((user_id, group), 0) if unit else 0
        if until > now_ms:
            return until - now_ms
        longest = item_window(charges)
        window = longest.window_of(now_ms)
        names: dict[str, str] = {"#ttl": CHAT_TABLE.ttl_attribute}
        values: dict[str, Any] = {
            ":ttl": {"N": str((window + 1) * longest.window_s + TTL_MARGIN_S)}
        }
        adds, conditions = [], []
        for n, charge in enumerate(charges):
            names[f"#q{n}"] = attribute_of(charge.quota, now_ms)
            values[f":n{n}"] = {"N": str(charge.amount)}
            values[f":max{n}"] = {"N": str(charge.quota.limit - charge.amount)}
            adds.append(f"#q{n} :n{n}")
            conditions.append(f"(attribute_not_exists(#q{n}) OR #q{n} <= :max{n})")
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={
                    "PK": {"S": k.limit_pk(user_id)},
                    "SK": {"S": k.limit_sk(group, longest.window_s, window)},
                },
                UpdateExpression=f"ADD {', '.join(adds)} SET #ttl = :ttl",
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code == "ConditionalCheckFailedException":
                old: dict[str, Any] = dict(error.response.get("Item") or {})  # type: ignore[call-overload]
                counts = {k: int(v["N"]) for k, v in old.items() if "N" in v}
                wait = retry_after_ms(charges, counts, now_ms)
                if unit:
                    self._remember(user_id, group, now_ms + wait, now_ms)
                return wait
            if code in THROTTLED:
                raise busy() from error
            raise
        return None

    def _remember(self, user_id: str, group: str, until_ms: int, now_ms: int) -> None:
        if len(self._refused_until) >= REFUSALS_KEPT:
            self._refused_until = {k: v for k, v in self._refused_until.items() if v > now_ms}
        self._refused_until[(user_id, group)] = until_ms
