"""Check-in lists and occupancy across doors, through a real nats-server hub on 127.0.0.1:
a list edited at one door applies at the others, and "inside now" converges on every door
after entries and exits made apart (issue 14)."""

from __future__ import annotations

import dataclasses
import random
import time

from station.app import Station
from station.domain.checkin_list import CheckinList
from station.domain.door import Door
from station.domain.events import Event
from station.domain.models import Direction, Reason, Verdict
from station.domain.occupancy import fold_events
from station.net.sync.hub import HubServer
from station.services.passes import PassService
from station.store.door_reads import inside_counts
from station.store.rows import event_from_row
from tests.sync.conftest import StationFactory, converged, free_port, in_sync, wait_for


def _all_events(station: Station) -> list[Event]:
    return [event_from_row(r) for r in station.core.store.fetch_all("SELECT * FROM events")]


def _list_at(station: Station, ref: str) -> CheckinList | None:
    return station.core.lists.find(ref)


def test_a_list_edited_at_one_door_applies_at_another_within_a_second(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="two stations in sync")
    vip = a.core.lists.create({"name": "VIP", "fields": {"tier": "vip"}}, by="Mia")
    wait_for(lambda: _list_at(b, "VIP") is not None, what="the list at B")
    general = a.core.passes.create(PassService.validate("Gene", "multi", fields={"tier": "gen"}))
    guest = a.core.passes.create(PassService.validate("Vita", "multi", fields={"tier": "vip"}))
    wait_for(lambda: b.core.store.pass_by_id(general.id) is not None
             and b.core.store.pass_by_id(guest.id) is not None, what="the passes at B")
    door_b = Door(_list_at(b, "VIP"))  # B's door works on the list as it was when chosen
    refused = b.core.scans.submit(general.code, door=door_b)
    assert (refused.verdict, refused.reason) == (Verdict.REJECTED, Reason.WRONG_LIST)
    assert "use another entrance" in refused.message
    assert b.core.scans.submit(guest.code, door=door_b).accepted  # the VIP pass comes in

    # A manager at A opens the VIP door to every tier; B applies the edit on its own, and its
    # door decides by the list as edited, not by the copy it was given.
    started = time.monotonic()
    a.core.lists.edit("VIP", {"fields": {}}, by="Mia")
    wait_for(lambda: (_list_at(b, "VIP") or vip).fields == {}, what="the edit at B")
    print(f"list edit at A applied at B after {(time.monotonic() - started) * 1000:.0f} ms")
    admitted = b.core.scans.submit(general.code, door=door_b)
    assert admitted.verdict is Verdict.ACCEPTED, admitted.message
    wait_for(converged(a, b), what="convergence")
    assert a.core.lists.all() == b.core.lists.all()


def test_occupancy_converges_on_three_doors_after_600_movements_with_a_partition(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    doors = [make_station(name, url) for name in ("Door A", "Door B", "Door C")]
    a, b, c = doors
    wait_for(in_sync(a, b, c), what="three stations in sync")
    hall = a.core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    a.core.lists.create({"name": "Bar", "reentry": True}, by="Mia")
    passes = a.core.passes.create_many(
        [PassService.validate(f"Guest {i}", "multi") for i in range(40)])
    wait_for(lambda: all(len(s.core.lists.all()) == 2 and s.core.store.count_passes() == 40
                         for s in doors), what="the lists and passes on every door")

    rng = random.Random(14)
    outcomes: dict[str, int] = {}

    def move(count: int, at: list[Station]) -> None:
        for i in range(count):
            door = rng.choice(at)
            lst = door.core.lists.find(rng.choice(("Hall", "Bar")))
            direction = rng.choice((Direction.ENTRY, Direction.ENTRY, Direction.EXIT))
            # Every other scan as the window and the camera make it: decided on the door
            # journal's overlay and merged into the log (then synced) a moment later.
            result = door.core.scans.submit(rng.choice(passes).code, door=Door(lst, direction),
                                            wait_merged=i % 2 == 0)
            key = f"{direction}:{result.reason or result.verdict}"
            outcomes[key] = outcomes.get(key, 0) + 1

    move(200, doors)
    # C is cut off (its sync points at an address where no hub answers) and keeps scanning.
    assert c.sync is not None
    c.sync.retarget(dataclasses.replace(hub.target, port=free_port()))
    wait_for(lambda: not c.sync.status().connected, what="C to be offline")  # type: ignore[union-attr]
    move(200, doors)
    assert c.sync.status().pending > 0
    c.sync.retarget(hub.target)
    move(200, doors)
    print("outcomes:", dict(sorted(outcomes.items())))
    assert outcomes.get(f"{Direction.EXIT}:{Verdict.ACCEPTED}") and \
        outcomes.get(f"{Direction.ENTRY}:{Reason.ALREADY_INSIDE}")  # both kinds happened

    wait_for(lambda: all(d.core.scans.merger.pending_count() == 0 for d in doors),
             what="every door's journal merged")
    wait_for(converged(a, b, c), what="convergence after C reconnected")
    expected = {k: v for k, v in fold_events(_all_events(a)).by_list.items() if v}
    assert expected.get(hall.id)  # somebody is inside, so the check means something
    for door in doors:
        assert inside_counts(door.core.store) == expected


def test_everyone_out_at_one_door_empties_the_venue_at_every_door(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="two stations in sync")
    hall = a.core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    passes = a.core.passes.create_many(
        [PassService.validate(f"Guest {i}", "multi") for i in range(6)])
    wait_for(lambda: b.core.store.count_passes() == 6 and b.core.lists.find("Hall") is not None,
             what="the passes and the list at B")
    for i, p in enumerate(passes):
        door = (a, b)[i % 2]
        assert door.core.scans.submit(p.code, door=Door(door.core.lists.find("Hall"))).accepted
    assert b.core.scans.submit(passes[0].code).accepted  # and one at a door with no list
    wait_for(converged(a, b), what="both doors holding every entry")
    assert inside_counts(b.core.store) == {hall.id: 6, None: 1}

    after = a.core.lists.checkout("Hall", by="Mia")
    assert after.inside == 1  # the door with no list keeps its guest
    wait_for(lambda: inside_counts(b.core.store) == {None: 1}, what="the check-out at B")
    a.core.lists.checkout(by="Mia")
    wait_for(lambda: inside_counts(b.core.store) == {}, what="the venue empty at B")
    # A new visit: the guest comes back in at B (on a re-entry list, not a re-entry).
    assert b.core.scans.submit(passes[1].code, door=Door(b.core.lists.find("Hall"))).accepted
    wait_for(converged(a, b), what="convergence")
    for door in (a, b):
        assert inside_counts(door.core.store) == {hall.id: 1} == {
            k: v for k, v in fold_events(_all_events(door)).by_list.items() if v}


def test_a_pass_note_set_at_one_door_shows_at_another(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="two stations in sync")
    p = a.core.passes.create(PassService.validate("Kim", "multi"))
    wait_for(lambda: b.core.store.pass_by_id(p.id) is not None, what="the pass at B")
    assert b.core.scans.submit(p.code).attention is None

    a.core.passes.set_attention(p.code, "Check ID — under 18", by="Mia")
    wait_for(lambda: (b.core.store.pass_by_id(p.id) or p).attention == "Check ID — under 18",
             what="the note at B")
    assert b.core.scans.submit(p.code).attention == "Check ID — under 18"
    a.core.passes.set_attention(p.code, None, by="Mia")
    wait_for(lambda: (b.core.store.pass_by_id(p.id) or p).attention is None,
             what="the note cleared at B")
    wait_for(converged(a, b), what="convergence")


def test_a_list_deleted_at_one_door_stops_admitting_at_another(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="two stations in sync")
    a.core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    ada, bo = a.core.passes.create_many([PassService.validate(n, "multi") for n in ("Ada", "Bo")])
    wait_for(lambda: b.core.store.count_passes() == 2 and _list_at(b, "Hall") is not None,
             what="the passes and the list at B")
    door_b = Door(_list_at(b, "Hall"))  # B's door keeps the list it was set to all evening
    assert b.core.scans.submit(ada.code, door=door_b).accepted
    wait_for(converged(a, b), what="the entry at A")

    a.core.lists.delete("Hall", by="Mia")
    wait_for(lambda: b.core.lists.all() == [], what="the deletion at B")
    refused = b.core.scans.submit(bo.code, door=door_b)
    assert (refused.verdict, refused.reason) == (Verdict.REJECTED, Reason.WRONG_LIST)
    assert "Hall was deleted" in refused.message
    assert b.core.scans.submit(ada.code, door=dataclasses.replace(
        door_b, direction=Direction.EXIT)).accepted  # nobody is kept in
    wait_for(converged(a, b), what="convergence")
    for door in (a, b):  # everyone on it was checked out with it
        assert inside_counts(door.core.store) == {}
