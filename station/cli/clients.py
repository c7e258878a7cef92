"""`station clients …`: create and list clients."""

from __future__ import annotations

import argparse

from station.cli.common import core_options, open_core, print_json, table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = core_options()
    group = subparsers.add_parser("clients", help="create and list clients")
    sub = group.add_subparsers(dest="clients_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", parents=[parent], help="create a client")
    create.add_argument("--name", required=True)
    create.add_argument("--email")
    create.add_argument("--phone")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)
    listing = sub.add_parser("list", parents=[parent], help="list clients, newest first")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)


def _create(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        client = core.clients.create(args.name, args.email, args.phone)
    finally:
        core.close()
    if args.json:
        print_json(client.to_api())
    else:
        print(f"{client.id}  {client.name}  {client.email or ''}  {client.phone or ''}".rstrip())
    return 0


def _list(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        page = core.clients.list(limit=args.limit)
    finally:
        core.close()
    if args.json:
        print_json([c.to_api() for c in page.items])
    else:
        rows = [[c.id, c.name, c.email or "", c.phone or ""] for c in page.items]
        print(table(rows, ["ID", "NAME", "EMAIL", "PHONE"]))
    return 0
