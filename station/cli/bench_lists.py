"""`station bench --only lists` (issue 14's figures, docs/checkin-lists.md): the verdict at a
door with a check-in list and three rules against the verdict without one, at N passes and N
door facts in the log, timed in interleaved blocks in one run (the machine is shared: the ratio
is fair, the absolute figures are not), as the door scans (`wait_merged=False`: durable in the
door journal) and as the API does (in the log); then the occupancy read at that many scans."""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from station.app import Core, build_core
from station.cli.bench_data import Fact, fill_passes, record_facts
from station.cli.bench_occupancy import GOAL_MS, Crowd, check_rows, time_reads
from station.domain.checkin_list import CheckinList
from station.domain.door import NO_LIST, Door
from station.domain.models import Direction, Pass, PassStatus, PassType
from station.services.door_probes import venue_zone

GOAL_RATIO = 1.2
REPEAT = 0.1  # a scan repeats one of its door's earlier codes (a guest back too soon)
GENERAL = 0.1  # a general pass at the VIP door (refused by the list's field)
SEEDED = 20  # one VIP pass in this many entered three times in the last minutes (entries a day)
CREATED = "2026-01-01T00:00:00.000Z"


def make_pass(i: int) -> Pass:
    """Pass number i: one in four VIP (multi-use, field tier=vip), the others general single."""
    code = f"L{i:011d}"
    vip = i % 4 == 0
    return Pass(id=f"pas_bench{i:011d}", code=code, name=f"Guest {i}",
                type=PassType.MULTI if vip else PassType.SINGLE, status=PassStatus.ACTIVE,
                uses=0, max_uses=10 if vip else None, public_url=f"https://example.com/p/{code}",
                created_at=CREATED, updated_at=CREATED,
                fields={"tier": "vip" if vip else "general"})


def vip_list(now_local: datetime) -> dict[str, Any]:
    """A list with a field criterion and three rules that admit most scans now: a window open
    since three hours ago, at most 3 entries a day, at least 30 minutes between entries."""
    opens = (now_local - timedelta(hours=3)).strftime("%H:%M")
    closes = (now_local + timedelta(hours=3)).strftime("%H:%M")
    return {"name": "VIP", "fields": {"tier": "vip"},
            "rules": [{"rule": "window", "from": opens, "until": closes},
                      {"rule": "entriesPerDay", "max": 3}, {"rule": "minutesBetween", "min": 30}]}


@dataclass
class Arm:
    label: str
    door: Door
    times: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    sent: list[str] = field(default_factory=list)
    admitted: deque[str] = field(default_factory=deque)


class Draws:
    """The codes the arms scan: fresh passes of the first half (the second half is the crowd
    already through the doors), now and then a general pass or an earlier code again."""

    def __init__(self, size: int, seed: int) -> None:
        self.rng = random.Random(seed)
        half = max(size // 2, 4)
        self.vip = [i for i in range(0, half, 4)]
        self.general = [i for i in range(half) if i % 4]
        self.rng.shuffle(self.vip)
        self.rng.shuffle(self.general)
        self.seeded = self.vip[::SEEDED]  # drawn in the shuffled order, like every VIP pass
        self.half = half
        self.leaving: list[int] = []  # the crowd's passes inside by the VIP list's doors

    def entry(self, arm: Arm) -> str:
        if arm.sent and self.rng.random() < REPEAT:
            return self.rng.choice(arm.sent)
        general = self.rng.random() < GENERAL
        pool = self.general if general else self.vip
        # A small run scans more passes than it has: then a fresh draw may repeat one.
        i = pool.pop() if pool else self.rng.randrange(1 if general else 0, self.half, 4)
        code = make_pass(i).code
        arm.sent.append(code)
        return code

    def exit(self, entered: Arm) -> str:
        """Someone who came in hours ago leaves (their entry long merged into the log); when
        none is left, someone the entry door admitted."""
        if self.leaving:
            return make_pass(self.leaving.pop()).code
        if entered.admitted:
            return entered.admitted.popleft()
        return make_pass(self.rng.randrange(0, self.half, 4)).code


def _pct(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(int(q * len(sorted_ms)), len(sorted_ms) - 1)]


def _goal(ok: bool) -> str:
    return "[PASS]" if ok else "[MISS]"


def _setup(core: Core, size: int, facts: int, draws: Draws, seed: int) -> CheckinList:
    started = time.perf_counter()
    fill_passes(core.store, size, make_pass)
    now = core.ctx.now()
    lst = core.lists.create(vip_list(now.astimezone(venue_zone(core.ctx, now))), by="bench")
    main = core.lists.create({"name": "Main"}, by="bench")
    balcony = core.lists.create({"name": "Balcony", "types": ["single"]}, by="bench")
    filled = time.perf_counter() - started
    # The crowd: the second half of the passes, in and out over the last six hours.
    crowd = Crowd(make_pass, range(draws.half, max(size, draws.half + 1)),
                  lambda p: [lst.id, main.id] if p.fields["tier"] == "vip"
                  else [main.id, balcony.id, None], seed)
    started = time.perf_counter()
    seq = record_facts(core.store, crowd.facts(facts, now - timedelta(hours=6),
                                               now - timedelta(hours=1)))
    recorded = time.perf_counter() - started
    print(f"lists: {size:,} passes written in {filled:.1f} s (one in four VIP by the field "
          f"tier); {facts:,} entries and exits of another door over lists VIP, Main, Balcony "
          f"and none, appended in {recorded:.1f} s ({facts / max(recorded, 1e-9):,.0f}/s, "
          "the store's occupancy hook included)")
    wrong = check_rows(core.store, crowd, make_pass, 200, seed)
    if wrong is not None:
        raise SystemExit(f"The occupancy rows are not the fold of the log ({wrong}); "
                         "this is a bug to report, the figures would mean nothing.")
    print(f"  occupancy rows = the facts' counts on every list, and the fold of the log for "
          f"200 sampled passes; {sum(crowd.counts().values()):,} inside")
    draws.leaving = [i for i, on in crowd.inside.items() if on == lst.id]
    draws.rng.shuffle(draws.leaving)
    # Three entries (and exits) in the last minutes: those passes are at the VIP list's
    # entries-a-day limit (a rule refusal, as a real door sees some).
    at = now - timedelta(minutes=4)
    seeds = [Fact(make_pass(i), at + timedelta(seconds=30 * k + i % 30 / 1000),
                  Direction.EXIT if k % 2 else Direction.ENTRY, lst.id)
             for k in range(6) for i in draws.seeded]
    seeds.sort(key=lambda f: f.at)
    record_facts(core.store, seeds, seq)
    return lst


def _time_mode(core: Core, arms: list[Arm], draws: Draws, scans: int, block: int,
               wait: bool) -> int:
    """Blocks of `block` scans of each arm in turn until each has `scans`; one untimed block
    each first (the journal's and the reader's first statements). Returns scans made."""
    entered = arms[1]
    made = 0
    rounds = max(1, -(-scans // block))
    for r in range(rounds + 1):
        for arm in arms:
            for _ in range(block):
                payload = draws.exit(entered) if arm.door.direction is Direction.EXIT \
                    else draws.entry(arm)
                t0 = time.perf_counter()
                result = core.scans.submit(payload, "hid", door=arm.door, wait_merged=wait)
                took = (time.perf_counter() - t0) * 1000
                made += 1
                if arm is entered and result.accepted:
                    entered.admitted.append(payload)
                if r == 0:
                    continue  # the warm-up block
                arm.times.append(took)
                arm.outcomes["admitted" if result.accepted else str(result.reason)] += 1
    return made


def _outcomes(arm: Arm) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in arm.outcomes.most_common())


def bench_lists(tmp: Path, size: int, scans: int, seed: int, facts: int | None = None,
                block: int = 10) -> bool:
    """Prints the figures and their goal lines; True when every goal is met. Blocks of 10
    (300 a door, not 60 of 50): a burst of the shared machine's other work falls on every
    door alike, so the p95s compare the doors, not the moments they ran at."""
    facts = size if facts is None else facts
    core = build_core(tmp / "data")
    ok = True
    try:
        draws = Draws(size, seed)
        lst = _setup(core, size, facts, draws, seed)
        core.scans.merger.start()
        rules = "; ".join(str(r) for r in _rule_texts(lst))
        print(f"  list {lst.name}: tier vip; {rules}. {scans:,} scans a row, in blocks of "
              f"{block} taken in turn; ms")
        print(f"  {'path':<6} {'door':<12} {'p50':>7} {'p95':>7}  outcomes")
        made = facts + len(draws.seeded) * 6
        for mode, wait in (("door", False), ("API", True)):
            arms = [Arm("no list", NO_LIST), Arm(f"{lst.name} entry", Door(lst)),
                    Arm(f"{lst.name} exit", Door(lst, Direction.EXIT))]
            made += _time_mode(core, arms, draws, scans, block, wait)
            core.scans.merger.merge_pending()
            for arm in arms:
                arm.times.sort()
                print(f"  {mode:<6} {arm.label:<12} {statistics.median(arm.times):>7.3f} "
                      f"{_pct(arm.times, 0.95):>7.3f}  {_outcomes(arm)}")
            base = _pct(arms[0].times, 0.95)
            for arm in arms[1:]:
                ratio = _pct(arm.times, 0.95) / base
                ok &= ratio <= GOAL_RATIO
                print(f"{_goal(ratio <= GOAL_RATIO)} {mode}: {arm.label} p95 "
                      f"{_pct(arm.times, 0.95):.3f} ms = {ratio:.2f}x no list {base:.3f} ms at "
                      f"{size:,} passes (goal <= {GOAL_RATIO}x)", flush=True)
        reads = time_reads(core.lists, 2000)
        p95 = _pct(reads, 0.95)
        ok &= p95 <= GOAL_MS
        print(f"{_goal(p95 <= GOAL_MS)} occupancy query (GET /api/v1/occupancy, the Scan view's "
              f"inside now) at {made:,} scans: p50 {statistics.median(reads):.3f} ms, p95 "
              f"{p95:.3f} ms over {len(reads):,} calls (goal <= {GOAL_MS:g} ms)", flush=True)
    finally:
        core.close()
    return ok


def _rule_texts(lst: CheckinList) -> list[str]:
    names: dict[str, Callable[[dict[str, Any]], str]] = {
        "window": lambda r: f"window {r['from']}-{r['until']} every day",
        "entriesPerDay": lambda r: f"at most {r['max']} entries a day",
        "minutesBetween": lambda r: f"at least {r['min']} minutes between entries",
    }
    return [names[r["rule"]](r) if r["rule"] in names else str(r)
            for r in lst.to_json().get("rules", [])]
