"""`aigw subscriptions ...`: the admin API's subscriptions from the command line.

    aigw subscriptions list
    aigw subscriptions create --scope product/starter [--id team-b] [--name "Team B"]
                              [--expires 2027-06-30] [--suspended]
    aigw subscriptions show|suspend|reactivate|cancel|delete ID
    aigw subscriptions regenerate ID primary|secondary
    aigw subscriptions set ID [--name N] [--scope S] [--expires DATE|never]
    aigw subscriptions products | audit [--limit N]

The admin listener is --admin (default http://127.0.0.1:9090); the admin key comes from the
environment variable AIGW_ADMIN_KEY or the file --admin-key-file, never from the command
line, where other users of the machine could read it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gateway.tenants.client import AdminClient, AdminError

KEY_VARIABLE = "AIGW_ADMIN_KEY"
COLUMNS = ("id", "state", "scope", "source", "expirationDate", "displayName")


def add_subscriptions_command(commands: Any) -> None:
    """Register `aigw subscriptions` on the CLI's subcommands."""
    parser = commands.add_parser("subscriptions", help="manage subscriptions at run time")
    parser.add_argument("--admin", default="http://127.0.0.1:9090", metavar="URL")
    parser.add_argument("--admin-key-file", metavar="PATH", help=f"default: ${KEY_VARIABLE}")
    parser.add_argument("--json", action="store_true", help="print the API's JSON")
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every subscription: gateway.yaml's and the API's")
    create = actions.add_parser("create", help="a new subscription; prints its keys once")
    create.add_argument("--scope", required=True, help="all-apis, product/<id> or api/<id>")
    create.add_argument("--id")
    create.add_argument("--name")
    create.add_argument("--expires", help="an ISO 8601 date or time (UTC)")
    create.add_argument("--suspended", action="store_true", help="create it suspended")
    for action in ("show", "suspend", "reactivate", "cancel", "delete"):
        actions.add_parser(action, help=f"{action} a subscription").add_argument("id")
    regenerate = actions.add_parser("regenerate", help="a new primary or secondary key")
    regenerate.add_argument("id")
    regenerate.add_argument("key", choices=("primary", "secondary"))
    change = actions.add_parser("set", help="change the name, scope or expiration")
    change.add_argument("id")
    change.add_argument("--name")
    change.add_argument("--scope")
    change.add_argument("--expires", help="an ISO 8601 date or time, or 'never'")
    actions.add_parser("products", help="the products and their APIs")
    audit = actions.add_parser("audit", help="the latest changes, newest first")
    audit.add_argument("--limit", type=int, default=50)
    parser.set_defaults(handler=run_subscriptions)


def run_subscriptions(args: argparse.Namespace) -> int:
    client = AdminClient(args.admin, _admin_key(args))
    try:
        answer = _call(client, args)
    except AdminError as error:
        print(f"aigw subscriptions {args.action}: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        _print(args.action, answer)
    return 0


def _admin_key(args: argparse.Namespace) -> str:
    if args.admin_key_file:
        return Path(args.admin_key_file).read_text(encoding="utf-8").strip()
    key = os.environ.get(KEY_VARIABLE, "").strip()
    if not key:
        raise ValueError(f"set {KEY_VARIABLE} or --admin-key-file to the admin key")
    return key


def _call(client: AdminClient, args: argparse.Namespace) -> Any:
    action = args.action
    if action == "list":
        return client.call("GET", "/subscriptions")
    if action == "create":
        body = {"scope": args.scope, "state": "suspended" if args.suspended else "active"}
        body |= _given(id=args.id, displayName=args.name, expirationDate=args.expires)
        return client.call("POST", "/subscriptions", body)
    if action == "show":
        return client.call("GET", f"/subscriptions/{args.id}")
    if action in ("suspend", "reactivate", "cancel"):
        return client.call("POST", f"/subscriptions/{args.id}/{action}")
    if action == "delete":
        return client.call("DELETE", f"/subscriptions/{args.id}")
    if action == "regenerate":
        return client.call("POST", f"/subscriptions/{args.id}/regenerate/{args.key}")
    if action == "set":
        expires = "" if args.expires == "never" else args.expires
        body = _given(displayName=args.name, scope=args.scope, expirationDate=expires)
        return client.call("PATCH", f"/subscriptions/{args.id}", body)
    if action == "products":
        return client.call("GET", "/products")
    return client.call("GET", f"/audit?limit={args.limit}")


def _given(**fields: str | None) -> dict[str, str]:
    return {name: value for name, value in fields.items() if value is not None}


def _print(action: str, answer: Any) -> None:
    if action == "list":
        _table(answer["subscriptions"], COLUMNS)
    elif action == "products":
        for product in answer["products"]:
            print(f"{product['id']}: {', '.join(product['apis']) or '(no APIs)'}")
    elif action == "audit":
        for entry in answer["entries"]:
            print(f"{entry['time']} {entry['action']} {entry['subscription']} by {entry['actor']}")
    elif action == "delete":
        print("deleted")
    else:
        _table([answer], COLUMNS)
        for which in ("primaryKey", "secondaryKey"):
            if which in answer:
                print(f"{which}: {answer[which]}")
        if "primaryKey" in answer or "secondaryKey" in answer:
            print("(shown this once: the gateway keeps only their hashes)", file=sys.stderr)


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    cells = [[str(row.get(c) or "-") for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    for line in [list(columns), *cells]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
