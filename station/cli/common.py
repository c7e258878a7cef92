"""Options and helpers shared by the command modules."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from station.app import Core, build_core, default_data_dir
from station.domain.errors import InvalidInput


def core_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--data-dir", type=Path, default=None,
                        help="data directory (default: $STATION_DATA_DIR or the user data folder)")
    parent.add_argument("--demo", action="store_true",
                        help="use the demo data directory, seeded with sample passes")
    return parent


def open_core(args: argparse.Namespace) -> Core:
    data_dir = args.data_dir or default_data_dir(demo=args.demo)
    return build_core(data_dir, demo=args.demo)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, *body])


def field_pairs(pairs: list[str]) -> dict[str, str]:
    """`--field K=V` given any number of times."""
    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"--field takes KEY=VALUE, not {pair[:40]!r}.")
        fields[key.strip()] = value
    return fields
