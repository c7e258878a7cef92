"""The door with a check-in list, through the real services on a real store: which passes a
list admits, entry and exit with re-entry, capacity and its override, and lists created and
edited as list.changed events (bad input changes nothing)."""

from __future__ import annotations

import pytest

from station.app import Core
from station.domain.door import Door
from station.domain.errors import Conflict, InvalidInput
from station.domain.events import EventType
from station.domain.models import Direction, Pass, PassType, Reason, Verdict
from station.domain.times import to_iso
from station.store import stats
from station.store.door_reads import inside_counts
from tests.fakes import FakeClock


def _pass(core: Core, name: str, tier: str = "general", kind: str = "single") -> Pass:
    return core.passes.create(core.passes.validate(name, kind, fields={"tier": tier}))


def _list_events(core: Core) -> list[dict[str, object]]:
    return [dict(r) for r in core.store.db().query(
        "SELECT data FROM events WHERE type = ?", [EventType.LIST_CHANGED])]


def _scan_data(core: Core, scan_id: str) -> dict[str, object]:
    event = core.store.db().execute(
        "SELECT e.data FROM scans s JOIN events e ON e.id = s.event_id WHERE s.id = ?",
        [scan_id]).fetchone()
    import json
    scan: dict[str, object] = json.loads(event[0])["scan"]
    return scan


def test_a_vip_list_refuses_a_general_pass_and_admits_a_vip_one(core: Core) -> None:
    vip = core.lists.create({"name": "VIP", "fields": {"tier": "vip"}}, by="Mia")
    door = Door(vip)
    general, guest = _pass(core, "Gene"), _pass(core, "Vera", "vip")

    refused = core.scans.submit(general.code, door=door)
    assert (refused.verdict, refused.reason) == (Verdict.REJECTED, Reason.WRONG_LIST)
    assert "VIP" in refused.message and "use another entrance" in refused.message
    admitted = core.scans.submit(guest.code, door=door)
    assert admitted.verdict is Verdict.ACCEPTED
    assert _scan_data(core, admitted.scan.id)["list"] == vip.id
    # The refused general pass is untouched: it still enters at a door with no list.
    assert core.scans.submit(general.code).verdict is Verdict.ACCEPTED
    assert inside_counts(core.store) == {vip.id: 1, None: 1}


def test_entry_exit_reentry_on_a_reentry_list(core: Core, clock: FakeClock) -> None:
    hall = core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    p = _pass(core, "Rita")
    since = to_iso(clock())
    first = core.scans.submit(p.code, door=Door(hall))
    assert first.accepted
    twice = core.scans.submit(p.code, door=Door(hall))
    assert (twice.verdict, twice.reason) == (Verdict.REJECTED, Reason.ALREADY_INSIDE)
    clock.advance(minutes=30)
    out = core.scans.submit(p.code, door=Door(hall, Direction.EXIT))
    assert out.accepted and out.message == "Exit recorded"
    assert inside_counts(core.store) == {}
    clock.advance(minutes=30)
    again = core.scans.submit(p.code, door=Door(hall))
    assert again.accepted, again.message
    assert _scan_data(core, again.scan.id)["reentry"] is True
    assert _scan_data(core, out.scan.id)["direction"] == "exit"
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 1  # the exit and the re-entry spent no use
    assert inside_counts(core.store) == {hall.id: 1}
    # One admission: neither the exit nor the re-entry is counted as one.
    assert stats.counters(core.store, since, since).admitted_since == 1


def test_without_reentry_a_used_single_pass_stays_used(core: Core) -> None:
    main = core.lists.create({"name": "Main"}, by="Mia")
    p = _pass(core, "Una")
    assert core.scans.submit(p.code, door=Door(main)).accepted
    assert core.scans.submit(p.code, door=Door(main, Direction.EXIT)).accepted
    again = core.scans.submit(p.code, door=Door(main))
    assert (again.verdict, again.reason) == (Verdict.REJECTED, Reason.USED)


def test_capacity_reached_refuses_and_an_override_admits_and_is_recorded(core: Core) -> None:
    small = core.lists.create({"name": "Lounge", "capacity": 2}, by="Mia")
    door = Door(small)
    a, b, c = (_pass(core, n) for n in ("Ada", "Bo", "Cy"))
    assert core.scans.submit(a.code, door=door).accepted
    assert core.scans.submit(b.code, door=door).accepted
    full = core.scans.submit(c.code, door=door)
    assert (full.verdict, full.reason) == (Verdict.REJECTED, Reason.CAPACITY_REACHED)
    assert "Lounge is full (2 of 2 inside)" in full.message
    stored = core.store.pass_by_id(c.id)
    assert stored is not None and stored.uses == 0  # the refusal spent nothing

    over = core.scans.submit(c.code, door=door, override_by="Mia")
    assert over.accepted and over.warning == "Admitted over capacity on Mia's override."
    assert _scan_data(core, over.scan.id)["override"] == {"by": "Mia"}
    assert inside_counts(core.store) == {small.id: 3}
    # An exit makes room again, without an override.
    assert core.scans.submit(a.code, door=Door(small, Direction.EXIT)).accepted
    d = _pass(core, "Di")
    assert core.scans.submit(d.code, door=door).verdict is Verdict.REJECTED  # 2 of 2 again
    assert core.scans.submit(b.code, door=Door(small, Direction.EXIT)).accepted
    assert core.scans.submit(d.code, door=door).accepted


def test_an_exit_is_accepted_for_a_used_or_revoked_pass_and_spends_nothing(core: Core) -> None:
    p = _pass(core, "Max", kind="multi")
    assert core.scans.submit(p.code).accepted  # a door with no list
    core.passes.revoke(p.id, by="Mia")
    out = core.scans.submit(p.code, door=Door(direction=Direction.EXIT))
    assert out.accepted and out.message == "Exit recorded"
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 1
    assert inside_counts(core.store) == {}


def test_lists_are_created_and_edited_as_events_and_bad_input_changes_nothing(core: Core) -> None:
    for bad in ({"types": ["single"]}, {"name": "X", "capacity": 0}, {"name": "X", "rules": [{"kind": "eval"}]},
                {"name": "X", "validFrom": "2026-06-02T00:00:00Z", "validUntil": "2026-06-01T00:00:00Z"},
                "not an object"):
        with pytest.raises(InvalidInput):
            core.lists.create(bad, by="Mia")
    assert _list_events(core) == [] and core.lists.all() == []

    vip = core.lists.create({"name": "VIP", "types": ["single"], "capacity": 50}, by="Mia")
    with pytest.raises(Conflict, match="named 'VIP' exists"):
        core.lists.create({"name": "vip"}, by="Mia")
    with pytest.raises(InvalidInput):
        core.lists.edit("VIP", {"capacity": -1}, by="Mia")
    edited = core.lists.edit("vip", {"capacity": 80, "reentry": True}, by="Ola")
    assert (edited.capacity, edited.reentry, edited.types) == (80, True, (PassType.SINGLE,))
    assert core.lists.get(vip.id) == edited == core.lists.find("VIP")
    import json
    changes = [json.loads(str(e["data"])) for e in _list_events(core)]
    assert [c["by"] for c in changes] == ["Mia", "Ola"]
    assert changes[1]["changes"] == {"capacity": 80, "reentry": True}  # only the keys it set


def test_entry_rules_read_the_pass_s_entries_in_the_venue_s_zone(core: Core, clock: FakeClock) -> None:
    core.store.set_setting("venue_timezone", "Europe/Berlin")  # the clock's 18:00Z is 20:00 there
    club = core.lists.create({"name": "Club", "reentry": True, "rules": [
        {"rule": "window", "from": "19:00", "until": "23:00"},
        {"rule": "minutesBetween", "min": 30},
        {"rule": "entriesPerDay", "max": 2}]}, by="Mia")
    inside, out = Door(club), Door(club, Direction.EXIT)
    p = _pass(core, "Ilse", kind="multi")
    assert core.scans.submit(p.code, door=inside).accepted
    clock.advance(minutes=10)
    assert core.scans.submit(p.code, door=out).accepted
    clock.advance(minutes=10)
    soon = core.scans.submit(p.code, door=inside)
    assert (soon.verdict, soon.reason) == (Verdict.REJECTED, Reason.ENTRY_RULE)
    assert _scan_data(core, soon.scan.id)["rule"] == 1 and "30" in soon.message
    clock.advance(minutes=20)
    assert core.scans.submit(p.code, door=inside).accepted  # 40 minutes after the first
    assert core.scans.submit(p.code, door=out).accepted
    clock.advance(minutes=40)
    third = core.scans.submit(p.code, door=inside)
    assert (third.reason, _scan_data(core, third.scan.id)["rule"]) == (Reason.ENTRY_RULE, 2)
    clock.advance(hours=2)  # 23:30 in Berlin
    late = core.scans.submit(_pass(core, "Lou").code, door=inside)
    assert (late.reason, _scan_data(core, late.scan.id)["rule"]) == (Reason.ENTRY_RULE, 0)
    assert "19:00" in late.message


def test_an_undone_entry_leaves_nobody_inside(core: Core) -> None:
    hall = core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    p = _pass(core, "Olaf")
    entered = core.scans.submit(p.code, door=Door(hall))
    assert inside_counts(core.store) == {hall.id: 1}
    core.scans.undo(entered.scan.id, by="Mia")
    assert inside_counts(core.store) == {}
    again = core.scans.submit(p.code, door=Door(hall))
    assert again.accepted and "re-entry" not in again.message  # a first entry again, a use


def test_a_door_with_no_list_records_today_s_scan(core: Core) -> None:
    core.lists.create({"name": "VIP", "fields": {"tier": "vip"}}, by="Mia")  # exists, not used
    p = _pass(core, "Nora", kind="multi")
    for result in (core.scans.submit(p.code), core.scans.submit(p.code, door=Door())):
        assert result.accepted
        assert set(_scan_data(core, result.scan.id)) == set(result.scan.to_api())
    rows = core.store.db().execute("SELECT DISTINCT direction, list_id, reentry FROM scans").fetchall()
    assert [tuple(r) for r in rows] == [("entry", None, 0)]
    assert inside_counts(core.store) == {None: 2}  # a double entry: both counted, never lost
