"""What check-in lists cost in the pure domain (docs/checkin-lists.md), before any store work.

    .venv/bin/python benchmarks/door_rules_bench.py [--calls 20000] [--facts 200000]

Prints the cost of one verdict: today's decide() against decide_at_door() at a door with a list
(fields, validity window, re-entry, capacity) and three rules (a weekday window, entries per
day, minutes between), best of 5 rounds; and the time of a full occupancy fold of N shuffled
entry/exit facts over 50,000 passes (the rebuild the store runs in the background, never at
the door: the door reads maintained counters).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import timeit
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from station.domain.checkin_list import parse_checkin_list  # noqa: E402
from station.domain.door import Door, decide_at_door  # noqa: E402
from station.domain.hlc import Stamp  # noqa: E402
from station.domain.models import Pass, PassStatus, PassType  # noqa: E402
from station.domain.occupancy import Kind, Movement, Presence, fold_occupancy  # noqa: E402
from station.domain.rules import decide  # noqa: E402

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 6, 5, 19, 0, tzinfo=UTC)  # a Friday evening


def verdicts(calls: int) -> None:
    p = Pass(id="pas_1", code="AbCd1234EfGh", name="Ada", type=PassType.MULTI,
             status=PassStatus.ACTIVE, uses=3, public_url="", created_at="2026-01-01T00:00:00.000Z",
             updated_at="2026-01-01T00:00:00.000Z", fields={"tier": "vip"},
             valid_until="2026-12-01T00:00:00.000Z")
    door = Door(parse_checkin_list({
        "name": "VIP", "fields": {"tier": "vip"}, "reentry": True, "capacity": 500,
        "validFrom": "2026-06-01T00:00:00Z", "validUntil": "2026-06-30T00:00:00Z",
        "rules": [{"rule": "window", "days": ["fri", "sat"], "from": "18:00", "until": "02:00"},
                  {"rule": "entriesPerDay", "max": 3}, {"rule": "minutesBetween", "min": 30}],
    }, default_id="lst_vip"))
    entries = [NOW - timedelta(hours=2), NOW - timedelta(hours=26)]
    presence = Presence(visited=frozenset({"lst_vip"}))

    def at_door() -> object:
        return decide_at_door(p, NOW, door, presence=presence, entries=entries,
                              inside_on_list=10, tz=TZ)

    assert decide_at_door(p, NOW, door, presence=presence, entries=entries, inside_on_list=10,
                          tz=TZ).accepted  # every check runs to the end
    for name, fn in (("decide()", lambda: decide(p, NOW)),
                     ("decide_at_door(), list + 3 rules", at_door)):
        best = min(timeit.repeat(fn, number=calls, repeat=5)) / calls * 1e6
        print(f"{name}: {best:.1f} µs per verdict (best of 5 × {calls:,})")


def occupancy(facts: int) -> None:
    rnd = random.Random(1)
    inside: set[str] = set()
    movements = []
    for n in range(facts):
        pass_id = f"pas_{rnd.randrange(50_000)}"
        kind = Kind.EXIT if pass_id in inside and rnd.random() < 0.6 else Kind.ENTRY
        (inside.discard if kind is Kind.EXIT else inside.add)(pass_id)
        movements.append(Movement(f"evt_{n}", (Stamp(n, 0).encode(), "sta_a", f"evt_{n}"), kind,
                                  pass_id, rnd.choice(["lst_ga", "lst_vip", None]), f"scn_{n}"))
    rnd.shuffle(movements)
    start = time.perf_counter()
    result = fold_occupancy(movements)
    took = time.perf_counter() - start
    print(f"occupancy fold of {facts:,} facts: {took * 1000:.0f} ms ({result.inside:,} inside)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--facts", type=int, default=200_000)
    args = parser.parse_args()
    verdicts(args.calls)
    occupancy(args.facts)


if __name__ == "__main__":
    main()
