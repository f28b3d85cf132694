"""Delete the published versions of a stage's functions that no alias calls any more.

With SnapStart (`snapStart`), every `pulumi up` that changes a function publishes a version,
and each version's snapshot stays cached, and billed, for as long as the version exists
(docs/DEPLOY.md, "SnapStart"). Pulumi keeps the old ones; this deletes them. Run it after
`pulumi up` has finished:

    python -m infra.prune_versions --stage prod [--region eu-west-1] [--dry-run]

A version newer than the newest one an alias calls is kept: a deployment may have published
it and not yet moved the alias. A function with no alias (SnapStart turned off since) loses
every published version: only $LATEST is called.
"""

from __future__ import annotations

import argparse
from typing import Any

from dynamotalk.routes import FUNCTIONS, function_name


def unused_versions(client: Any, name: str) -> list[str]:
    """Versions of `name` no alias calls (routing weights included), oldest first."""
    called: set[str] = set()
    for page in client.get_paginator("list_aliases").paginate(FunctionName=name):
        for alias in page["Aliases"]:
            called.add(alias["FunctionVersion"])
            called |= set(alias.get("RoutingConfig", {}).get("AdditionalVersionWeights", {}))
    published = [
        int(version["Version"])
        for page in client.get_paginator("list_versions_by_function").paginate(FunctionName=name)
        for version in page["Versions"]
        if version["Version"] != "$LATEST"
    ]
    if not called:  # no alias (SnapStart turned off): nothing calls any version
        return [str(v) for v in sorted(published)]
    newest_called = max(int(v) for v in called if v.isdigit())
    return [str(v) for v in sorted(published) if v < newest_called and str(v) not in called]


def prune(client: Any, stage: str, dry_run: bool = False) -> dict[str, list[str]]:
    """Delete (or, dry, only list) every function's unused versions; returns them by function."""
    pruned: dict[str, list[str]] = {}
    for function in FUNCTIONS:
        name = function_name(stage, function.module)
        versions = unused_versions(client, name)
        for version in [] if dry_run else versions:
            client.delete_function(FunctionName=name, Qualifier=version)
        pruned[name] = versions
    return pruned


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    import boto3

    client = boto3.client("lambda", region_name=args.region)
    for name, versions in prune(client, args.stage, args.dry_run).items():
        verb = "would delete" if args.dry_run else "deleted"
        print(f"{name}: {verb} {', '.join(versions) or 'nothing'}")


if __name__ == "__main__":
    main()
