"""`station decode [--json] IMAGE...`: print the codes in image files; records no scan."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from station.capture.decode_files import FILE_BUDGET_MS, decode_files
from station.capture.decoders import ENGINES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files to decode")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per image")
    parser.add_argument("--engine", choices=ENGINES, default="zxing", help="QR decoder (default: zxing)")
    parser.add_argument(
        "--budget-ms", type=float, default=FILE_BUDGET_MS,
        help="time allowed for retries per image, in ms of a fast machine: a slower or busier one gets "
        "more, by its measured slowness (default %(default).0f)",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "decode", help="decode QR codes in image files (no scan is recorded)", description=__doc__
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    try:
        results = decode_files(args.images, engine=args.engine, budget_ms=args.budget_ms)
        for result in results:
            if result.error:
                failed += 1
                print(f"station decode: {result.error}", file=sys.stderr)
                continue
            if args.json:
                print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
            elif not result.detections:
                print(f"{result.path}: no QR code found ({result.ms:.1f} ms)")
            else:
                for d in result.detections:
                    print(f"{result.path}: {d.format} {d.text} ({result.ms:.1f} ms)")
    except RuntimeError as exc:  # the chosen engine is missing (libzbar0)
        print(f"station decode: {exc}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command without the rest of the CLI (used by tests and `python -m`)."""
    parser = argparse.ArgumentParser(prog="station decode", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
