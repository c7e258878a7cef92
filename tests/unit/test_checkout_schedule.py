"""The scheduled check-out's occurrences (domain/checkout_schedule.py): every station computes
the same ones, so their copies are one fact."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from station.domain.checkout_schedule import Scheduled, due

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_daily_time_in_the_venue_s_zone_is_due_once_between_runs() -> None:
    sched = [Scheduled("lst_hall", time(4, 0))]
    since = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    assert due(sched, since, since + timedelta(hours=5), BERLIN) == []  # 01:00 in Berlin
    found = due(sched, since, since + timedelta(hours=9), BERLIN)  # 05:00 in Berlin
    assert [(d.list_id, d.at) for d in found] == [("lst_hall", "2026-06-02T02:00:00.000Z")]
    assert found[0].data() == {"at": "2026-06-02T02:00:00.000Z", "listId": "lst_hall",
                               "by": "schedule"}
    # The next run starts where this one ended: the same occurrence is not due again.
    assert due(sched, since + timedelta(hours=9), since + timedelta(hours=20), BERLIN) == []


def test_every_station_mints_the_same_id_and_a_venue_differs_from_a_list() -> None:
    since = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)
    now = since + timedelta(days=1)
    a = due([Scheduled(None, time(4, 0))], since, now, BERLIN)
    b = due([Scheduled(None, time(4, 0))], since - timedelta(hours=3), now, BERLIN)
    assert a == b and len(a) == 1
    assert due([Scheduled("lst_x", time(4, 0))], since, now, BERLIN)[0].event_id != a[0].event_id


def test_a_station_off_for_a_week_catches_up_two_days_only() -> None:
    since = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    found = due([Scheduled(None, time(4, 0))], since, since + timedelta(days=7), BERLIN)
    assert len(found) == 2 and found[0].at < found[1].at


def test_a_time_the_clocks_skip_is_taken_after_the_gap() -> None:
    since = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # Berlin springs forward on 29 March
    found = due([Scheduled(None, time(2, 30))], since, since + timedelta(days=1), BERLIN)
    assert [d.at for d in found] == ["2026-03-29T01:30:00.000Z"]  # 03:30 CEST
