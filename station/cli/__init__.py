"""The `station` command line. Each command group lives in its own module and registers itself."""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence

from station import __version__
from station.domain.errors import StationError, StorageError
from station.store.health import DAMAGED_EXIT, DamagedDatabase, is_damage

# Each module exposes `register(subparsers)`; a parser's `func(args) -> int` runs the command.
COMMAND_MODULES: tuple[str, ...] = (
    "station.cli.run",
    "station.cli.passes",
    "station.cli.clients",
    "station.cli.scans",
    "station.cli.lists",
    "station.cli.venue",
    "station.cli.bench",
    "station.cli.keys",
    "station.cli.decode",
    "station.cli.hub",
    "station.cli.maintenance",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="station", description="Event entry scanning station.")
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:  # noqa: SLF001 - argparse keeps subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def command_in(parser: argparse.ArgumentParser, words: Sequence[str]) -> str | None:
    """The command a command line names (`station --demo` names none: it means the window)."""
    commands = _commands(parser)
    return next((word for word in words if word in commands), None)


def main(argv: Sequence[str] | None = None) -> int:
    # Everything the station writes is private to its user: the database and its -wal/-shm,
    # secrets, exports, the hub's files (issue: the data folder was world-readable).
    os.umask(0o077)
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if command_in(parser, words) is None and not any(
        word in ("-h", "--help", "--version") for word in words
    ):
        # `station` alone, or with only options (`station --demo`), starts the station window.
        words = ["gui", *words]
    args = parser.parse_args(words)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:  # a command group without its action, e.g. `station passes`
        parser.parse_args([*words, "--help"])
        return 2
    try:
        return func(args)
    except DamagedDatabase as exc:
        print(f"station: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except StorageError as exc:  # the disk, not the input: exit 1, as any failed run
        print(f"station: error: {exc}", file=sys.stderr)
        return 1
    except StationError as exc:
        print(f"station: error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        # Damage the start-up probe cannot see (a page in the middle of the file) shows up when
        # SQLite reads it: the same sentence, not a traceback. Anything else is a bug.
        if not is_damage(exc):
            raise
        print(f"station: error: {DamagedDatabase(None, f'is damaged (SQLite: {exc})')}",
              file=sys.stderr)
        return DAMAGED_EXIT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `station passes list | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
