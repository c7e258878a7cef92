"""`station keys create NAME | list | revoke ID`: API keys for the embedded API."""

from __future__ import annotations

import argparse
import sys

from station.app import Core
from station.cli.common import core_options, open_core, print_json, table
from station.net.integrations import DEFAULT_RATE_LIMIT, ApiKeys


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = core_options()
    group = subparsers.add_parser("keys", help="create, list and revoke API keys")
    sub = group.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", parents=[parent], help="create a key (printed once)")
    create.add_argument("name", metavar="NAME", help="what the key is for, e.g. Zapier")
    create.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT, metavar="N",
                        help=f"requests per minute (default {DEFAULT_RATE_LIMIT}, as the vendor API; "
                             "raise it only for trusted local tools such as a benchmark)")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)

    listing = sub.add_parser("list", parents=[parent], help="list keys (never their secret part)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    revoke = sub.add_parser("revoke", parents=[parent], help="revoke a key at once")
    revoke.add_argument("key_id", metavar="ID")
    revoke.set_defaults(func=_revoke)


def _keys(core: Core) -> ApiKeys:
    return ApiKeys(core.store, core.ctx.now)


def _create(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        created = _keys(core).create(args.name, args.rate_limit)
    finally:
        core.close()
    if args.json:
        print_json({**created.key.to_api(), "key": created.secret})
        return 0
    print(created.secret)
    print(f"API key {created.key.id} ({created.key.name}, {created.key.rate_limit} requests/min). "
          "It is shown only now: store it somewhere safe.", file=sys.stderr)
    return 0


def _list(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        keys = _keys(core).list()
    finally:
        core.close()
    if args.json:
        print_json([k.to_api() for k in keys])
        return 0
    rows = [[k.id, k.name, k.prefix + "…", str(k.rate_limit), k.created_at,
             "revoked " + k.revoked_at if k.revoked_at else "active"] for k in keys]
    print(table(rows, ["ID", "NAME", "KEY", "PER MIN", "CREATED", "STATE"]))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        key = _keys(core).revoke(args.key_id)
    finally:
        core.close()
    print(f"revoked {key.id} ({key.name})")
    return 0
