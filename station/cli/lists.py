"""`station lists create|list|edit|checkout|delete`: check-in lists (gates) from the command line, as the API's
/api/v1/lists makes them (docs/checkin-lists.md): only the options given are sent, and the
list is checked whole, so a bad option changes nothing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from station.cli.common import core_options, field_pairs, open_core, print_json, table
from station.domain.checkin_list import CheckinList, admits
from station.domain.errors import InvalidInput
from station.domain.models import PassType

BY = "cli"  # who made the change, in its list.changed event


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = core_options()
    group = subparsers.add_parser("lists", help="check-in lists (gates): create, list, edit, delete")
    sub = group.add_subparsers(dest="lists_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", parents=[parent], help="create a check-in list")
    create.add_argument("--name", required=True)
    _list_options(create)
    create.set_defaults(func=_create)

    listing = sub.add_parser("list", parents=[parent], help="the lists and who is inside now")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    edit = sub.add_parser("edit", parents=[parent],
                          help="change a list: only the options given change")
    edit.add_argument("ref", metavar="NAME|ID")
    edit.add_argument("--name")
    _list_options(edit)
    edit.set_defaults(func=_edit)

    checkout = sub.add_parser("checkout", parents=[parent],
                              help="everyone out now: of one list, or of the venue")
    checkout.add_argument("ref", metavar="NAME|ID", nargs="?", default=None)
    checkout.set_defaults(func=_checkout)

    delete = sub.add_parser("delete", parents=[parent],
                            help="delete a list at every door (everyone on it checked out)")
    delete.add_argument("ref", metavar="NAME|ID")
    delete.set_defaults(func=_delete)


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", action="append", choices=[t.value for t in PassType],
                        dest="types", help="a pass type it admits (repeat for both; none: any)")
    parser.add_argument("--field", action="append", metavar="K=V",
                        help="a custom field value a pass must have, e.g. tier=vip")
    parser.add_argument("--client", metavar="ID", help="admit only this client's passes")
    parser.add_argument("--valid-from", metavar="TIME")
    parser.add_argument("--valid-until", metavar="TIME")
    parser.add_argument("--reentry", action=argparse.BooleanOptionalAction, default=None,
                        help="a pass that went out may come back in")
    parser.add_argument("--capacity", metavar="N|none", help="people inside at most")
    parser.add_argument("--rules", metavar="JSON",
                        help='entry rules, e.g. \'[{"rule": "entriesPerDay", "max": 2}]\'')
    parser.add_argument("--confirm-attention", action=argparse.BooleanOptionalAction,
                        default=None, help="the door confirms a pass's note before it counts")
    parser.add_argument("--checkout-at", metavar="HH:MM|none",
                        help="check everyone on the list out every day at this time")
    parser.add_argument("--json", action="store_true")


def _body(args: argparse.Namespace) -> dict[str, Any]:
    """The API's keys for the options given (none given: none sent)."""
    body: dict[str, Any] = {}
    if args.name is not None:
        body["name"] = args.name
    if args.types is not None:
        body["types"] = args.types
    if args.field is not None:
        body["fields"] = field_pairs(args.field)
    for key, value in (("clientId", args.client), ("validFrom", args.valid_from),
                       ("validUntil", args.valid_until), ("reentry", args.reentry),
                       ("confirmAttention", args.confirm_attention)):
        if value is not None:
            body[key] = value
    if args.capacity is not None:
        body["capacity"] = _capacity(args.capacity)
    if args.checkout_at is not None:
        body["checkoutAt"] = None if args.checkout_at.strip().lower() == "none" else args.checkout_at
    if args.rules is not None:
        try:
            body["rules"] = json.loads(args.rules)
        except ValueError:
            raise InvalidInput("--rules is not valid JSON; write a JSON array like "
                               '\'[{"rule": "entriesPerDay", "max": 2}]\'.') from None
    return body


def _capacity(text: str) -> int | None:
    if text.strip().lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"--capacity takes a whole number or none, not {text[:20]!r}.") from None


def _print_list(lst: CheckinList, as_json: bool) -> None:
    if as_json:
        print_json(lst.to_json())
    else:
        print(f"{lst.name} ({lst.id}): admits {admits(lst) or 'every pass'}"
              f"{', re-entry' if lst.reentry else ''}"
              f"{f', capacity {lst.capacity}' if lst.capacity else ''}"
              f"{f', {len(lst.rules)} rules' if lst.rules else ''}")


def _create(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        made = core.lists.create(_body(args), by=BY)
    finally:
        core.close()
    _print_list(made, args.json)
    return 0


def _edit(args: argparse.Namespace) -> int:
    body = _body(args)
    if not body:
        raise InvalidInput("Say what to change, e.g. --capacity 300; see station lists edit --help.")
    core = open_core(args)
    try:
        edited = core.lists.edit(args.ref, body, by=BY)
    finally:
        core.close()
    _print_list(edited, args.json)
    return 0


def _checkout(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        now = core.lists.checkout(args.ref, by=BY)
    finally:
        core.close()
    print(f"checked out {'everyone on ' + args.ref if args.ref else 'everyone'}; "
          f"inside now: {now.inside}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        gone = core.lists.delete(args.ref, by=BY)
        now = core.lists.occupancy()
    finally:
        core.close()
    print(f"deleted {gone.name}: its doors admit nobody now; inside now: {now.inside}")
    return 0


def _list(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        now = core.lists.occupancy()
    finally:
        core.close()
    if args.json:
        print_json({"inside": now.inside, "lists": [
            {**x.list_.to_json(), "inside": x.inside} for x in now.lists]})
        return 0
    rows = [[x.list_.name, x.list_.id, admits(x.list_) or "every pass",
             "yes" if x.list_.reentry else "no", str(x.inside),
             str(x.list_.capacity) if x.list_.capacity else "-"] for x in now.lists]
    print(table(rows, ["NAME", "ID", "ADMITS", "RE-ENTRY", "INSIDE", "CAPACITY"]))
    print(f"inside now: {now.inside}")
    return 0
