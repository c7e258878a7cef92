"""A scan's cost against how often its pass was scanned before (a crew or season pass is
scanned thousands of times an evening): the median time of ScanService.submit for a multi-use
pass on its first uses and after 1,000 and 5,000 uses, and of applying each such scan at a
second station that follows the first (RemoteEventService.apply, as a live sync batch of one),
in one process, with the ratio to the first uses. Both should cost the same on the 5,000th use
as on the first.

    .venv/bin/python benchmarks/pass_history_bench.py [--uses 5000] [--sample 200]

Real SQLite file (synchronous=FULL, as at a door); no sync, no GUI. Nothing is asserted."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.app import build_core  # noqa: E402
from station.services.passes import PassService  # noqa: E402
from station.services.sync_apply import RemoteEventService  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uses", type=int, default=5000, help="uses before the last sample")
    parser.add_argument("--sample", type=int, default=200, help="scans timed at each point")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pass-history-"))
    core = build_core(root / "door")
    follower = build_core(root / "follower")
    remote = RemoteEventService(follower.ctx)
    try:
        for key in core.ctx.keys.public_keys_b64():
            follower.ctx.keys.trust(key)
        crew = core.passes.create(PassService.validate("Crew", "multi"))
        remote.apply(core.store.events_for_pass(crew.id))
        marks = sorted({0, min(1000, args.uses), args.uses})
        scan_ms: dict[int, float] = {}
        apply_ms: dict[int, float] = {}
        done = 0
        for mark in marks:
            while done < mark:  # untimed uses up to the mark, followed in batches of 500
                n = min(500, mark - done)
                for _ in range(n):
                    core.scans.submit(crew.code)
                remote.apply(core.store.events_for_pass(crew.id)[-n:])
                done += n
            scans, applies = [], []
            for _ in range(args.sample):
                t = time.perf_counter()
                result = core.scans.submit(crew.code)
                scans.append((time.perf_counter() - t) * 1000)
                assert result.accepted, result.message
                event = core.store.events_for_pass(crew.id)[-1]
                t = time.perf_counter()
                remote.apply([event])
                applies.append((time.perf_counter() - t) * 1000)
                done += 1
            scan_ms[mark] = statistics.median(scans)
            apply_ms[mark] = statistics.median(applies)
        assert follower.store.pass_by_id(crew.id) == core.store.pass_by_id(crew.id)
        for mark in marks:
            print(f"pass used {mark:>5} times before: scan at the door median {scan_ms[mark]:6.2f} ms "
                  f"({scan_ms[mark] / scan_ms[0]:.2f}x the first uses); applied at a follower "
                  f"median {apply_ms[mark]:6.2f} ms ({apply_ms[mark] / apply_ms[0]:.2f}x)")
    finally:
        core.close()
        follower.close()


if __name__ == "__main__":
    main()
