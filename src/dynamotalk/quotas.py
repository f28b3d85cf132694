"""AWS's own limits that the code, the Pulumi program and the local stack all obey.

One home for each: the gateway enforces them locally, infra sizes functions by them, the
domain stays under them. Each names the AWS page it comes from (see docs/LOCAL.md).
"""

from __future__ import annotations

# API Gateway WebSocket APIs ("Amazon API Gateway quotas for configuring and running a
# WebSocket API", developer guide).
WS_FRAME_BYTES = 32 * 1024
"""Largest WebSocket frame; a bigger one closes the connection with 1009."""
WS_MESSAGE_BYTES = 128 * 1024
"""Largest WebSocket message (frames joined); also the largest PostToConnection payload."""
WS_IDLE_TIMEOUT_S = 10 * 60
"""A connection with no frame either way for this long is closed (1001, 'Going away')."""
CLIENT_PING_INTERVAL_S = WS_IDLE_TIMEOUT_S * 2 // 5
"""Clients send `ping` this often (4 minutes) on an otherwise quiet socket: well before the idle
timeout, with room for one lost ping."""
WS_CONNECTION_MAX_S = 2 * 60 * 60
"""Longest life of one WebSocket connection."""
INTEGRATION_TIMEOUT_S = 29
"""API Gateway waits this long for a Lambda integration (both APIs), then answers 504."""

# Amazon Cognito ("Things to know about Lambda triggers", Cognito developer guide).
COGNITO_TRIGGER_TIMEOUT_S = 5
"""Cognito waits this long for a user-pool trigger, then retries and finally fails the call."""

# HTTP API ("Amazon API Gateway quotas for configuring and running an HTTP API").
HTTP_PAYLOAD_BYTES = 10 * 1024 * 1024
"""Largest HTTP API request payload."""

# Lambda ("Lambda quotas").
LAMBDA_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024
"""Largest response of a synchronous invocation (request too)."""
LAMBDA_MAX_TIMEOUT_S = 900

# API Gateway account quota ("Amazon API Gateway quotas", account-level).
ACCOUNT_REQUESTS_PER_S = 10_000
"""Requests per second per Region, every API of the account together (PostToConnection counts):
a soft quota raised through Service Quotas. Past it API Gateway answers 429."""
