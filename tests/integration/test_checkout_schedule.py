"""The scheduled automatic check-out (docs/checkin-lists.md), with an injected clock on real
stores: recorded once at its time, dated that time (an entry after it stays inside), and two
doors that both run it leave one fact in each log, the counts equal to the fold."""

from __future__ import annotations

from pathlib import Path

from station.app import Core, build_core
from station.domain.door import Door
from station.domain.events import Event, EventType
from station.domain.occupancy import fold_events
from station.domain.times import to_iso
from station.services.checkout_schedule import CHECKED_SETTING, VENUE_SETTING, ScheduledCheckout
from station.services.sweeper import ExpirySweeper
from station.services.sync_apply import RemoteEventService
from station.store.door_reads import inside_counts
from station.store.rows import event_from_row
from tests.fakes import FakeClock
from tests.waiting import wait_until


def _events(core: Core, type_: str | None = None) -> list[Event]:
    rows = core.store.fetch_all("SELECT * FROM events ORDER BY hlc, origin, id")
    return [e for e in map(event_from_row, rows) if type_ is None or e.type == type_]


def _checkouts(core: Core) -> list[Event]:
    return _events(core, EventType.OCCUPANCY_CHECKOUT)


def _fold_equals_rows(core: Core) -> None:
    folded = fold_events(_events(core))
    assert inside_counts(core.store) == {k: v for k, v in folded.by_list.items() if v}


def test_a_list_s_check_out_is_recorded_once_at_its_time(core: Core, clock: FakeClock) -> None:
    core.store.set_setting("venue_timezone", "Europe/Berlin")  # the clock's 18:00Z is 20:00
    hall = core.lists.create({"name": "Hall", "reentry": True, "checkoutAt": "04:00"}, by="Mia")
    assert hall.checkout_at == "04:00"
    schedule = ScheduledCheckout(core.ctx, core.lists)
    assert schedule.run() == 0  # the first run notes the time: nothing before it
    for name in ("Ada", "Bo"):
        p = core.passes.create(core.passes.validate(name))
        assert core.scans.submit(p.code, door=Door(hall)).accepted
    assert inside_counts(core.store) == {hall.id: 2}
    clock.advance(hours=7)  # 03:00 in Berlin
    assert schedule.run() == 0
    clock.advance(minutes=90)  # 04:30: an entry after the check-out's time, before the run
    late = core.passes.create(core.passes.validate("Cy"))
    assert core.scans.submit(late.code, door=Door(hall)).accepted
    assert schedule.run() == 1
    assert inside_counts(core.store) == {hall.id: 1}  # only the one who came after 04:00
    [checkout] = _checkouts(core)
    assert checkout.data == {"at": "2026-06-02T02:00:00.000Z", "listId": hall.id,
                             "by": "schedule"}
    assert schedule.run() == 0 and len(_checkouts(core)) == 1
    _fold_equals_rows(core)


def test_two_doors_checking_out_at_the_same_time_leave_one_fact(
        core: Core, clock: FakeClock, tmp_path: Path) -> None:
    other = build_core(tmp_path / "door-b", now=clock)
    try:
        for a, b in ((core, other), (other, core)):
            for key in a.ctx.keys.public_keys_b64():
                b.ctx.keys.trust(key)
        core.store.set_setting(VENUE_SETTING, "04:00")
        other.store.set_setting(VENUE_SETTING, "04:00")
        schedules = [ScheduledCheckout(c.ctx, c.lists) for c in (core, other)]
        assert [s.run() for s in schedules] == [0, 0]
        p = core.passes.create(core.passes.validate("Ada"))
        assert core.scans.submit(p.code).accepted
        to_b = RemoteEventService(other.ctx)
        to_b.apply(_events(core))
        assert inside_counts(other.store) == {None: 1}
        clock.advance(hours=24)  # one 04:00 passed, whatever zone the test machine is in
        # Both doors run the schedule before either hears of the other's check-out.
        assert [s.run() for s in schedules] == [1, 1]
        mine, theirs = _checkouts(core), _checkouts(other)
        assert [e.id for e in mine] == [e.id for e in theirs] and mine[0].origin != theirs[0].origin
        RemoteEventService(core.ctx).apply(theirs)
        to_b.apply(mine)
        for c in (core, other):
            assert len(_checkouts(c)) == 1  # the same id: the copy is the fact already held
            assert inside_counts(c.store) == {}
            _fold_equals_rows(c)
        # A third run, or one after the copy arrived, writes nothing.
        assert [s.run() for s in schedules] == [0, 0]
    finally:
        other.close()


def test_the_sweeper_runs_the_schedule(core: Core, clock: FakeClock) -> None:
    core.store.set_setting(VENUE_SETTING, "04:00")
    core.store.set_setting(CHECKED_SETTING, to_iso(clock()))
    p = core.passes.create(core.passes.validate("Ada"))
    assert core.scans.submit(p.code).accepted
    clock.advance(hours=24)
    sweeper = ExpirySweeper(core.passes, 3600, ScheduledCheckout(core.ctx, core.lists))
    sweeper.start()
    try:
        wait_until(lambda: len(_checkouts(core)) == 1, what="the scheduled check-out")
    finally:
        sweeper.stop()
    assert inside_counts(core.store) == {}
