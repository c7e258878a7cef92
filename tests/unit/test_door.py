"""The decision at the door: today's verdict with a list, direction, re-entry, capacity and rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station.domain.checkin_list import parse_checkin_list
from station.domain.door import (
    NO_LIST, Door, admitted_entries, decide_at_door, parse_direction, scan_extras,
)
from station.domain.errors import InvalidInput
from station.domain.events import Event, EventType
from station.domain.fold import fold
from station.domain.hlc import Stamp
from station.domain.occupancy import fold_events
from station.domain.models import Direction, Pass, PassStatus, PassType, Reason, Verdict
from station.domain.occupancy import Presence
from station.domain.rules import decide
from station.domain.times import to_iso
from tests.unit.made_passes import guest

NOW = datetime(2026, 6, 5, 19, 0, tzinfo=UTC)  # a Friday
INSIDE = Presence(open_lists=("lst",), visited=frozenset({"lst"}))
LEFT = Presence(visited=frozenset({"lst"}))  # entered this visit, then exited


def door(direction: Direction = Direction.ENTRY, **data: Any) -> Door:
    return Door(parse_checkin_list({"name": "VIP", **data}, default_id="lst"), direction)


USED = {"status": PassStatus.USED, "uses": 1}
TABLE: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], Reason | None, str | None]] = [
    # (case, list, pass, inputs, reason, message)
    ("on the list", {"fields": {"tier": "vip"}}, {"fields": {"tier": "vip"}}, {}, None, None),
    ("wrong list", {"fields": {"tier": "vip"}}, {}, {}, Reason.WRONG_LIST,
     "VIP admits tier vip only — use another entrance"),
    ("revoked beats wrong list", {"fields": {"tier": "vip"}}, {"status": PassStatus.REVOKED}, {},
     Reason.REVOKED, None),
    ("list not open yet", {"validFrom": "2026-06-05T20:00:00Z"}, {}, {}, Reason.ENTRY_RULE,
     "VIP opens 05 Jun 20:00"),
    ("re-entry list: scanned in twice", {"reentry": True}, {}, {"presence": INSIDE},
     Reason.ALREADY_INSIDE, "Already inside: no exit since the last entry — scan the exit first or "
     "call a manager"),
    ("re-entry list: used single pass back after its exit", {"reentry": True}, USED,
     {"presence": LEFT}, None, "Ada · re-entry"),
    ("no re-entry on this list", {}, USED, {"presence": LEFT}, Reason.USED, None),
    ("re-entry list: a new visit spends a use", {"reentry": True}, USED, {}, Reason.USED, None),
    ("re-entry list: revoked stays out", {"reentry": True},
     {"status": PassStatus.REVOKED, "uses": 1}, {"presence": LEFT}, Reason.REVOKED, None),
    ("re-entry list: expired stays out", {"reentry": True},
     {"uses": 1, "status": PassStatus.USED, "valid_until": "2026-06-05T18:00:00.000Z"},
     {"presence": LEFT}, Reason.EXPIRED, None),
    ("time window refuses, explained",
     {"rules": [{"rule": "window", "days": ["fri"], "from": "20:00", "until": "23:00"}]}, {}, {},
     Reason.ENTRY_RULE, "Entry allowed from 20:00"),
    ("time window admits", {"rules": [{"rule": "window", "from": "18:00", "until": "23:00"}]},
     {}, {}, None, None),
    ("entries per day", {"reentry": True, "rules": [{"rule": "entriesPerDay", "max": 2}]}, USED,
     {"presence": LEFT, "entries": (NOW - timedelta(hours=2), NOW - timedelta(hours=1))},
     Reason.ENTRY_RULE, "Already entered twice today; next entry tomorrow"),
    ("capacity reached", {"capacity": 300}, {}, {"inside_on_list": 300}, Reason.CAPACITY_REACHED,
     "VIP is full (300 of 300 inside) — wait for someone to leave or ask a manager to override"),
    ("below capacity", {"capacity": 300}, {}, {"inside_on_list": 299}, None, None),
]


@pytest.mark.parametrize(("list_data", "pass_over", "inputs", "reason", "message"),
                         [c[1:] for c in TABLE], ids=[c[0] for c in TABLE])
def test_door_table(list_data: dict[str, Any], pass_over: dict[str, Any], inputs: dict[str, Any],
                    reason: Reason | None, message: str | None) -> None:
    got = decide_at_door(guest(**pass_over), NOW, door(**list_data), tz=UTC, **inputs)
    assert got.decision.reason == reason
    assert got.decision.verdict is (Verdict.ACCEPTED if reason is None else Verdict.REJECTED)
    assert got.message == message


def test_a_re_entry_is_not_a_use_and_says_so() -> None:
    got = decide_at_door(guest(**USED), NOW, door(reentry=True), presence=LEFT, tz=UTC)
    assert got.accepted and got.reentry and got.decision.new_status is None
    first = decide_at_door(guest(), NOW, door(reentry=True), tz=UTC)
    assert first.accepted and not first.reentry and first.decision.new_status is PassStatus.USED


def test_a_manager_override_admits_over_capacity_and_is_marked() -> None:
    got = decide_at_door(guest(), NOW, door(capacity=2), inside_on_list=2, override=True, tz=UTC)
    assert got.accepted and got.overridden
    assert not decide_at_door(guest(), NOW, door(capacity=2), inside_on_list=1, override=True,
                              tz=UTC).overridden  # an override nobody needed is not recorded


def test_the_rule_that_refused_is_named() -> None:
    rules = [{"rule": "entriesPerDay", "max": 9}, {"rule": "minutesBetween", "min": 30}]
    got = decide_at_door(guest(type=PassType.MULTI), NOW, door(rules=rules),
                         entries=(NOW - timedelta(minutes=10),), tz=UTC)
    assert got.decision.reason is Reason.ENTRY_RULE and got.rule == 1
    assert got.message == "Next entry from 19:20" and got.retry_at == NOW + timedelta(minutes=20)


def test_attention_is_passed_through_on_accept_and_confirmed_if_the_list_asks() -> None:
    note = "Check ID — under 18"
    plain = decide_at_door(guest(attention=note), NOW, door(), tz=UTC)
    assert plain.attention == note and not plain.confirm
    asks = decide_at_door(guest(attention=note), NOW, door(confirmAttention=True), tz=UTC)
    assert asks.attention == note and asks.confirm
    assert not decide_at_door(guest(), NOW, door(confirmAttention=True), tz=UTC).confirm
    refused = decide_at_door(guest(attention=note, **USED), NOW, door(), tz=UTC)
    assert refused.attention is None


@pytest.mark.parametrize("status", list(PassStatus))
def test_an_exit_is_always_let_through_and_spends_no_use(status: PassStatus) -> None:
    for d in (door(Direction.EXIT, fields={"tier": "vip"}), Door(None, Direction.EXIT)):
        got = decide_at_door(guest(status=status), NOW, d, presence=INSIDE, tz=UTC)
        assert got.accepted and got.decision.new_status is None and not got.decision.expire
        assert got.message == "Exit recorded"
    stray = decide_at_door(guest(), NOW, Door(None, Direction.EXIT), tz=UTC)
    assert stray.accepted and stray.message == "Exit recorded (was not recorded as inside)"


times = st.integers(-3 * 86400, 3 * 86400).map(lambda s: to_iso(NOW + timedelta(seconds=s)))
passes = st.builds(
    guest,
    type=st.sampled_from(PassType),
    status=st.sampled_from(PassStatus),
    uses=st.integers(0, 12),
    max_uses=st.none() | st.integers(1, 10),
    valid_from=st.none() | times,
    valid_until=st.none() | times,
    provisional=st.booleans(),
    attention=st.none() | st.sampled_from(["Check ID — under 18", "Wheelchair access"]),
)
presences = st.sampled_from([Presence(), INSIDE, LEFT])


@settings(max_examples=500, deadline=None)
@given(passes, st.integers(-4 * 86400, 4 * 86400), presences,
       st.lists(st.integers(0, 86400).map(lambda s: NOW - timedelta(seconds=s)), max_size=5),
       st.integers(0, 5000), st.booleans())
def test_no_list_at_an_entry_door_is_exactly_todays_decide(
        p: Pass, offset: int, presence: Presence, entries: list[datetime], inside: int,
        override: bool) -> None:
    now = NOW + timedelta(seconds=offset)
    got = decide_at_door(p, now, NO_LIST, presence=presence, entries=entries,
                         inside_on_list=inside, override=override, tz=UTC)
    today = decide(p, now)
    assert got.decision == today
    assert (got.message, got.confirm, got.reentry, got.overridden, got.rule, got.retry_at) == \
        (None, False, False, False, None, None)
    assert got.attention == (p.attention if today.verdict is Verdict.ACCEPTED else None)


def test_direction_from_the_api_or_the_command_line() -> None:
    assert parse_direction(None) is Direction.ENTRY and parse_direction("exit") is Direction.EXIT
    # What a door says (`station scan --direction out`) means the same.
    assert parse_direction("in") is Direction.ENTRY and parse_direction("out") is Direction.EXIT
    with pytest.raises(InvalidInput,
                       match=r"^direction 'sideways' is not one of entry, exit \(or in, out\)\.$"):
        parse_direction("sideways")


def recorded(n: int, at: datetime, d: Door, decision: Any, **extra: Any) -> Event:
    """The pass.scanned event a service would write for this decision."""
    scan = {"id": f"scn_{n}", "verdict": str(decision.decision.verdict), "stationId": "sta_a",
            "scannedAt": to_iso(at), **scan_extras(d, decision, **extra)}
    return Event(id=f"evt_{n}", type=EventType.PASS_SCANNED, timestamp=to_iso(at),
                 data={**PASS_DATA, "scan": scan}, origin="sta_a", origin_seq=n,
                 hlc=Stamp(int(at.timestamp() * 1000), 0).encode(), pass_id="pas_1")


PASS_DATA = {**guest().to_api(), "type": "single"}


def test_a_visit_recorded_with_scan_extras_folds_back_into_the_same_state() -> None:
    """entry -> exit -> re-entry on a re-entry list; entry again refused already_inside."""
    created = Event(id="evt_0", type=EventType.PASS_CREATED, timestamp=PASS_DATA["createdAt"],
                    data=PASS_DATA, origin="sta_a", origin_seq=0, hlc=Stamp(1, 0).encode(),
                    pass_id="pas_1")
    entry_door, exit_door = door(reentry=True), door(Direction.EXIT, reentry=True)
    log = [created]

    def scan_at(minutes: int, d: Door) -> Any:
        at = NOW + timedelta(minutes=minutes)
        state = fold(log).pass_
        assert state is not None
        got = decide_at_door(state, at, d, presence=fold_events(log).presence("pas_1"),
                             entries=admitted_entries(log), tz=UTC)
        log.append(recorded(len(log), at, d, got))
        return got

    assert scan_at(0, entry_door).accepted
    assert scan_at(5, entry_door).decision.reason is Reason.ALREADY_INSIDE
    assert scan_at(60, exit_door).accepted
    back = scan_at(90, entry_door)
    assert back.accepted and back.reentry
    assert fold(log).pass_.uses == 1  # type: ignore[union-attr]
    assert fold_events(log).inside == 1 and fold_events(log).on("lst") == 1
    assert admitted_entries(log) == [NOW, NOW + timedelta(minutes=90)]
    assert log[-1].data["scan"]["reentry"] is True and log[-1].data["scan"]["list"] == "lst"
    assert "direction" not in log[1].data["scan"] and log[3].data["scan"]["direction"] == "exit"


def test_no_list_entry_adds_nothing_to_the_scan() -> None:
    got = decide_at_door(guest(), NOW)
    assert scan_extras(NO_LIST, got) == {}
    over = decide_at_door(guest(attention="VIP"), NOW, door(capacity=1), inside_on_list=1,
                          override=True, tz=UTC)
    assert scan_extras(door(capacity=1), over, override_by="Mia", confirmed_by="Ali") == {
        "list": "lst", "override": {"by": "Mia"}, "attention": {"note": "VIP", "confirmedBy": "Ali"}}
