"""Properties of one station over a real store: a single-use pass is never admitted twice."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.app import Core, build_core
from station.domain.errors import Conflict
from station.domain.events import EventType
from station.domain.fold import fold
from station.domain.models import PassStatus, Verdict
from station.services.scans import UNDO_WINDOW
from tests.fakes import FakeClock


def live_admissions(core: Core, pass_id: str) -> int:
    events = core.store.events_for_pass(pass_id)
    reverted = {e.data["scanId"] for e in events if e.type == EventType.SCAN_REVERTED}
    return sum(1 for e in events if e.type == EventType.PASS_SCANNED
               and e.data["scan"]["verdict"] == "accepted" and e.data["scan"]["id"] not in reverted)


def test_concurrent_scans_of_one_single_pass_admit_exactly_one(core: Core) -> None:
    p = core.passes.create(core.passes.validate("Guest"))
    results: list[Verdict] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def door() -> None:
        barrier.wait()
        for _ in range(5):
            verdict = core.scans.submit(p.code, "camera").verdict
            with lock:
                results.append(verdict)

    threads = [threading.Thread(target=door) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(Verdict.ACCEPTED) == 1 and len(results) == 40
    assert live_admissions(core, p.id) == 1


actions = st.lists(st.sampled_from(["scan", "scan", "scan", "revoke", "activate", "undo", "later"]),
                   max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions, st.booleans())
def test_single_use_never_admitted_twice_and_cache_matches_fold(steps: list[str], multi: bool) -> None:
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        core = build_core(Path(tmp), now=clock)
        try:
            kind = "multi" if multi else "single"
            p = core.passes.create(core.passes.validate("Guest", kind, max_uses=2 if multi else None))
            last_admitted: str | None = None
            admitted_at = clock()
            for step in steps:
                current = core.store.pass_by_id(p.id)
                assert current is not None
                if step == "scan":
                    result = core.scans.submit(p.code)
                    if result.accepted:
                        last_admitted, admitted_at = result.scan.id, clock()
                elif step == "revoke" and current.status is not PassStatus.REVOKED:
                    core.passes.revoke(p.id)
                elif step == "activate" and current.status is PassStatus.REVOKED:
                    core.passes.activate(p.id)
                elif step == "undo" and last_admitted:
                    if clock() - admitted_at > UNDO_WINDOW:
                        # Too late: refused, and the admission stands.
                        before = core.store.events_for_pass(p.id)
                        with pytest.raises(Conflict, match="too old"):
                            core.scans.undo(last_admitted)
                        assert core.store.events_for_pass(p.id) == before
                    else:
                        core.scans.undo(last_admitted)
                    last_admitted = None
                elif step == "later":
                    clock.advance(seconds=30)
                limit = 2 if multi else 1
                assert live_admissions(core, p.id) <= limit
                # The row in `passes` is only a cache: it always equals the fold of the log.
                assert core.store.pass_by_id(p.id) == fold(core.store.events_for_pass(p.id)).pass_
        finally:
            core.close()
