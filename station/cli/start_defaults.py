"""What `scripts/start` adds to the arguments it passes to `station`.

The rule: `scripts/start` is for trying the station, so it runs the window on the demo data unless
the user named data (`--data-dir`, `--demo`, or STATION_DATA_DIR in the environment) or asked
for a command other than the window (`serve`, `passes`, `scan`, …), which then runs exactly as
`station` would. So `scripts/start --port 8081` is still the demo; `scripts/start serve` is not.

Run as `python -m station.cli.start_defaults ARGS…`: prints the extra argument (`--demo`) or
nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from station.cli import build_parser, command_in

DATA_OPTIONS = ("--data-dir", "--demo")


def extra_arguments(words: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    if environ.get("STATION_DATA_DIR"):
        return []
    if any(w in DATA_OPTIONS or w.startswith("--data-dir=") for w in words):
        return []
    if any(w in ("-h", "--help", "--version") for w in words):
        return []
    if command_in(build_parser(), words) not in (None, "gui"):
        return []
    return ["--demo"]


if __name__ == "__main__":
    print(" ".join(extra_arguments(sys.argv[1:], os.environ)))
