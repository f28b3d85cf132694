"""The `dynamotalk` command: `dev` runs the local stack, `chat` is the terminal client, `mcp`
the MCP server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dynamotalk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the whole chat locally (no AWS account)")
    dev.add_argument("--port", type=int, default=8787, help="API port (default 8787)")
    dev.add_argument(
        "--web-port",
        type=int,
        default=None,
        help="web client port, its own origin as on CloudFront (default: --port + 1)",
    )
    dev.add_argument(
        "--data-dir", type=Path, default=Path(".dynamotalk"), help="where the stack keeps data"
    )
    dev.add_argument("--in-memory", action="store_true", help="keep chat data in memory only")
    dev.add_argument(
        "--fresh", action="store_true", help="remove the data kept in --data-dir, start clean"
    )
    dev.add_argument(
        "--max-restarts",
        type=int,
        default=3,
        help="restarts of a dead DynamoDB Local before the stack stops (default 3)",
    )
    dev.add_argument("--quiet", action="store_true", help="print nothing but errors")
    dev.add_argument(
        "--management-on-api-port",
        action="store_true",
        help="serve the @connections API on --port's loop only, not on a thread and port of its"
        " own (slower; for comparison, bench/p4_local_load.py)",
    )
    dev.add_argument(
        "--print-metrics",
        action="store_true",
        help="also print each function's EMF metrics line, as Lambda writes it (default: totals"
        " only, at GET /_local/metrics)",
    )

    chat = commands.add_parser("chat", help="terminal chat client for a local or deployed stage")
    chat.add_argument("--url", default=None, help="local stack base URL (reads its config.json)")
    chat.add_argument("--config", default=None, help="URL or path of a stage's config.json")
    chat.add_argument("--user", default=None, help="username to sign in (or sign up) as")
    chat.add_argument("--password", default=None, help="password (default: prompt)")
    chat.add_argument("--email", default=None, help="e-mail, to sign up if the user is new")
    chat.add_argument("--room", default=None, help="room to open first (default: the lobby)")
    chat.add_argument(
        "--script", action="store_true", help="read commands from stdin without a prompt"
    )

    mcp = commands.add_parser(
        "mcp", help="MCP server (stdio) acting as DYNAMOTALK_USER / DYNAMOTALK_PASSWORD"
    )
    mcp.add_argument("--url", default=None, help="local stack base URL (reads its config.json)")
    mcp.add_argument("--config", default=None, help="URL or path of a stage's config.json")

    args = parser.parse_args(argv)
    if args.command == "mcp":
        from dynamotalk.client.mcp_server import main as mcp_main

        return mcp_main(args)
    if args.command == "dev":
        from dynamotalk.local.stack import Options, run

        options = Options(
            port=args.port,
            data_dir=args.data_dir,
            in_memory=args.in_memory,
            quiet=args.quiet,
            web_port=args.web_port,
            fresh=args.fresh,
            max_restarts=args.max_restarts,
            management_on_api_port=args.management_on_api_port,
            print_metrics=args.print_metrics,
        )
        try:
            return run(options)
        except KeyboardInterrupt:
            return 0
    from dynamotalk.client.terminal import main as chat_main

    return chat_main(args)


if __name__ == "__main__":
    sys.exit(main())
