"""`station venue show|set`: the venue's time zone and its daily check-out of everyone, as
`GET/PATCH /api/v1/venue` reads and sets them (docs/checkin-lists.md, "The venue"). Only the
options given change; both are checked before either is written."""

from __future__ import annotations

import argparse
from typing import Any

from station.cli.common import core_options, open_core, print_json
from station.domain.errors import InvalidInput
from station.services.venue import Venue, check_checkout_at, check_timezone


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = core_options()
    group = subparsers.add_parser("venue", help="the venue's time zone and daily check-out")
    sub = group.add_subparsers(dest="venue_command", metavar="ACTION", required=True)

    show = sub.add_parser("show", parents=[parent], help="the venue's settings")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)

    change = sub.add_parser("set", parents=[parent],
                            help="change the venue's settings: only the options given change")
    change.add_argument("--timezone", metavar="IANA|none",
                        help="the zone the lists' rules and check-outs are read in, e.g. "
                             "Europe/Berlin (none: this machine's)")
    change.add_argument("--checkout-at", metavar="HH:MM|none",
                        help="check everyone in the venue out every day at this time")
    change.add_argument("--json", action="store_true")
    change.set_defaults(func=_set)


def _none(text: str) -> str | None:
    return None if text.strip().lower() == "none" else text


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if args.timezone is not None:
        changes["timezone"] = check_timezone(_none(args.timezone), "--timezone")
    if args.checkout_at is not None:
        changes["checkoutAt"] = check_checkout_at(_none(args.checkout_at), "--checkout-at")
    if not changes:
        raise InvalidInput("Say what to change, e.g. --timezone Europe/Berlin; see station "
                           "venue set --help.")
    return changes


def _print(venue: Venue, as_json: bool) -> None:
    if as_json:
        print_json(venue.to_json())
        return
    print(f"time zone: {venue.timezone or 'this machine’s'}")
    print(f"everyone out every day at: {venue.checkout_at or 'never'}")


def _show(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        venue = core.venue.get()
    finally:
        core.close()
    _print(venue, args.json)
    return 0


def _set(args: argparse.Namespace) -> int:
    changes = _changes(args)  # checked before the data directory is opened
    core = open_core(args)
    try:
        venue = core.venue.change(changes)
    finally:
        core.close()
    _print(venue, args.json)
    return 0
