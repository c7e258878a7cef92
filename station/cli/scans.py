"""`station scan PAYLOAD` and `station scans export FILE.csv`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from station.cli.common import core_options, open_core, print_json
from station.domain.door import Door, parse_direction
from station.domain.errors import StorageError
from station.domain.models import Source
from station.services.imports import export_scans
from station.services.scans import ScanResult


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = core_options()
    scan = subparsers.add_parser("scan", parents=[parent], help="record a scan and print the verdict")
    scan.add_argument("payload", metavar="PAYLOAD", help="QR text (pass URL) or pass code")
    scan.add_argument("--source", choices=[s.value for s in Source], default=Source.MANUAL.value)
    scan.add_argument("--operator")
    scan.add_argument("--list", metavar="NAME|ID", help="the door's check-in list")
    scan.add_argument("--direction", choices=("in", "out", "entry", "exit"),
                      help="in (entry, the default) or out (exit)")
    scan.add_argument("--json", action="store_true")
    scan.set_defaults(func=_scan)

    group = subparsers.add_parser("scans", help="scan records")
    sub = group.add_subparsers(dest="scans_command", metavar="ACTION", required=True)
    export = sub.add_parser("export", parents=[parent], help="write every scan to a CSV file")
    export.add_argument("file", metavar="FILE.csv", type=Path)
    export.set_defaults(func=_export)


def verdict_line(result: ScanResult) -> str:
    word = "ACCEPTED" if result.accepted else "REFUSED"
    line = f"{word}: {result.message}"
    if result.warning:
        line += f" ({result.warning})"
    return line


def _scan(args: argparse.Namespace) -> int:
    # A payload given on the command line arrives decoded by the OS locale: surrogate escapes
    # mark bytes that were not valid UTF-8, which payload checks refuse.
    try:
        core = open_core(args)
    except StorageError as exc:  # e.g. a full disk cannot even open the database's -shm
        raise exc.about("record the scan", "nothing was admitted") from exc.__cause__
    try:
        lst = core.lists.get(args.list) if args.list is not None else None
        door = Door(lst, parse_direction(args.direction))
        result = core.scans.submit(args.payload, args.source, args.operator, door=door)
    finally:
        core.close()
    if args.json:
        print_json(result.to_json())
    else:
        print(verdict_line(result))
    return 0


def _export(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        count = export_scans(core.store, args.file)
    finally:
        core.close()
    print(f"wrote {count} scans to {args.file}", file=sys.stderr)
    return 0
