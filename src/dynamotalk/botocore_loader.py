"""A botocore data loader that looks only for the services the functions call, and clients
built on first use.

To create a client, botocore checks that the service is known by listing every service it
ships: `Loader.list_available_services` lists each of its ~450 data directories and stats the
versions inside, once per model type (service-2, endpoint-rule-set-1...), and caches that per
loader. That listing was about 55 ms of a handler's cold start (P3, docs/PERFORMANCE.md) for
an answer that is always the same few names. This loader answers from `USED_SERVICES` alone,
looked up in the same search paths (AWS_DATA_PATH first, then botocore's own data), so every
model, ruleset and endpoint still comes from the botocore the runtime ships.

Only public botocore API: `Loader`, its `search_paths` and `file_loader`, and the session's
`register_component("data_loader", ...)`.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.loaders import Loader

USED_SERVICES = frozenset(
    {"apigatewaymanagementapi", "bedrock-runtime", "dynamodb", "events", "s3", "sqs", "ssm"}
    | {"cognito-idp"}  # account_erasure's AdminDeleteUser (issue 18)
)
"""Every service a function builds a client for (bootstrap.py): nothing else can be created
on a session that uses this loader."""


class UsedServicesLoader(Loader):
    """botocore's loader, except that the list of known services holds only `USED_SERVICES`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._known: dict[str, list[str]] = {}

    def list_available_services(self, type_name: str) -> list[str]:
        if type_name not in self._known:
            self._known[type_name] = sorted(
                service for service in USED_SERVICES if self._has(service, type_name)
            )
        return self._known[type_name]

    def _has(self, service: str, type_name: str) -> bool:
        for root in self.search_paths:
            folder = os.path.join(root, service)
            if os.path.isdir(folder) and any(
                self.file_loader.exists(os.path.join(folder, version, type_name))
                for version in os.listdir(folder)
            ):
                return True
        return False


def botocore_session() -> Any:
    """A botocore session whose data loader is `UsedServicesLoader` (AWS_DATA_PATH honoured)."""
    import botocore.session

    session = botocore.session.Session()
    data_path = session.get_config_variable("data_path") or ""
    extra = [path for path in data_path.split(os.pathsep) if path]
    session.register_component("data_loader", UsedServicesLoader(extra_search_paths=extra))
    return session


class OnFirstUse:
    """A boto3 client created the first time it is used: S3 is needed by few invocations, and
    building its client costs ~30 ms of cold start that most functions never need."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)
