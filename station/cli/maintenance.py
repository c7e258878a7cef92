"""`station backup FILE` and `station check`: keeping the database safe."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from station.app import default_data_dir
from station.cli.common import core_options, print_json
from station.services.check import check_database
from station.store.backup import backup
from station.store.db import DB_NAME

# `station check` exits 0 when healthy and FINDINGS_EXIT when it found problems; a file that is
# not a Station database at all gets every command's exit status 3 (store.health.DAMAGED_EXIT).
FINDINGS_EXIT = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = core_options()
    make = subparsers.add_parser(
        "backup", parents=[parent],
        help="copy the database to FILE (consistent while the station runs)")
    make.add_argument("file", type=Path, metavar="FILE")
    make.add_argument("--force", action="store_true", help="replace FILE if it exists")
    make.set_defaults(func=_backup)
    check = subparsers.add_parser(
        "check", parents=[parent],
        help="check the database: SQLite's integrity check and every pass against its events")
    check.add_argument("file", type=Path, metavar="FILE", nargs="?", default=None,
                       help="a database file to check, e.g. a backup (default: the data directory's)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=_check)


def _database(args: argparse.Namespace) -> Path:
    return (args.data_dir or default_data_dir(demo=args.demo)) / DB_NAME


def _backup(args: argparse.Namespace) -> int:
    size = backup(_database(args), args.file, force=args.force)
    print(f"Backed up to {args.file.absolute()} ({size / 1e6:.1f} MB).")
    return 0


def _check(args: argparse.Namespace) -> int:
    report = check_database(args.file if args.file is not None else _database(args))
    if args.json:
        print_json(report.to_json())
    else:
        state = "healthy" if report.healthy else f"{len(report.findings) + report.unlisted} problem(s)"
        print(f"{report.database}: {state} ({report.passes} passes, {report.events} events checked)")
        for finding in report.findings:
            print(f"  {finding.kind}: {finding.message}")
        if report.unlisted:
            print(f"  … and {report.unlisted} more")
        if not report.healthy:
            print("Restore a backup made with `station backup` (stop Station, copy it over the "
                  "database), or ask for help with this report.", file=sys.stderr)
    return 0 if report.healthy else FINDINGS_EXIT
