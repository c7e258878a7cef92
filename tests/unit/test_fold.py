"""The fold: the same set of events gives the same state in any order."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from station.domain.events import Event, EventType
from station.domain.fold import DUPLICATE_OFFLINE, REVOKED_OFFLINE, fold, fold_next
from station.domain.hlc import Stamp
from station.domain.models import PassStatus

PASS = {"id": "pas_1", "code": "AbCd1234EfGh", "name": "Guest", "type": "single", "maxUses": None,
        "validFrom": None, "validUntil": None, "clientId": None, "fields": {}, "publicUrl": "u",
        "createdAt": "2026-06-01T10:00:00.000Z"}


def ev(n: int, type_: str, data: dict[str, object], wall: int, origin: str = "sta_a") -> Event:
    return Event(id=f"evt_{n:04d}", type=type_, timestamp=f"2026-06-01T10:{n % 60:02d}:00.000Z",
                 data=data, origin=origin, origin_seq=n, hlc=Stamp(wall, 0).encode(), pass_id="pas_1")


def scan(n: int, wall: int, origin: str, accepted: bool = True) -> Event:
    return ev(n, EventType.PASS_SCANNED, {**PASS, "scan": {
        "id": f"scn_{n}", "verdict": "accepted" if accepted else "rejected", "stationId": origin,
        "scannedAt": "2026-06-01T10:00:00.000Z"}}, wall, origin)


def command(n: int, wall: int, to: str, trigger: str, origin: str = "sta_a") -> Event:
    return ev(n, EventType.PASS_STATUS_CHANGED, {**PASS, "to": to, "trigger": trigger}, wall, origin)


def test_two_offline_doors_admitting_one_single_pass_flag_the_later_one() -> None:
    created = ev(0, EventType.PASS_CREATED, PASS, 100)
    at_a = scan(1, 200, "sta_a")
    at_b = scan(2, 250, "sta_b")
    result = fold([at_b, created, at_a])
    assert result.pass_ is not None
    assert result.pass_.status is PassStatus.USED
    assert result.pass_.uses == 2
    assert [(c.scan_id, c.kind) for c in result.conflicts] == [("scn_2", DUPLICATE_OFFLINE)]


def test_scan_after_unseen_revocation_is_flagged() -> None:
    events = [ev(0, EventType.PASS_CREATED, PASS, 100), command(1, 200, "revoked", "revoke"),
              scan(2, 300, "sta_b")]
    result = fold(events)
    assert result.pass_ is not None and result.pass_.status is PassStatus.REVOKED
    assert [c.kind for c in result.conflicts] == [REVOKED_OFFLINE]


def test_revert_returns_a_single_pass_to_active() -> None:
    events = [ev(0, EventType.PASS_CREATED, PASS, 100), scan(1, 200, "sta_a"),
              ev(2, EventType.SCAN_REVERTED, {"scanId": "scn_1"}, 300)]
    result = fold(events)
    assert result.pass_ is not None and result.pass_.status is PassStatus.ACTIVE
    assert result.pass_.uses == 0


def test_scan_without_created_event_gives_a_provisional_pass() -> None:
    result = fold([scan(1, 200, "sta_b")])
    assert result.pass_ is not None and result.pass_.provisional
    assert result.pass_.status is PassStatus.USED


def test_rejected_scans_change_nothing() -> None:
    result = fold([ev(0, EventType.PASS_CREATED, PASS, 100), scan(1, 200, "sta_a", accepted=False)])
    assert result.pass_ is not None and result.pass_.status is PassStatus.ACTIVE and result.pass_.uses == 0


operations = st.lists(
    st.tuples(
        st.sampled_from(["scan", "reject", "revoke", "activate", "expire", "revert"]),
        st.integers(101, 400),  # wall clock ms
        st.sampled_from(["sta_a", "sta_b", "sta_c"]),
    ),
    max_size=25,
)


def build(ops: list[tuple[str, int, str]], multi: bool) -> list[Event]:
    base = {**PASS, "type": "multi", "maxUses": 3} if multi else PASS
    events = [ev(0, EventType.PASS_CREATED, base, 100)]
    for n, (kind, wall, origin) in enumerate(ops, start=1):
        if kind in ("scan", "reject"):
            events.append(scan(n, wall, origin, accepted=kind == "scan"))
        elif kind == "revert":
            events.append(ev(n, EventType.SCAN_REVERTED, {"scanId": f"scn_{max(n - 1, 1)}"}, wall, origin))
        else:
            to = {"revoke": "revoked", "activate": "active", "expire": "expired"}[kind]
            events.append(command(n, wall, to, kind, origin))
    return events


@settings(max_examples=300)
@given(operations, st.booleans(), st.randoms(use_true_random=False))
def test_any_permutation_folds_to_the_same_state(ops: list[tuple[str, int, str]], multi: bool,
                                                 rnd: random.Random) -> None:
    events = build(ops, multi)
    expected = fold(events)
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert fold(shuffled) == expected
    # Receiving an event twice (a redelivery) changes nothing either.
    assert fold(shuffled + shuffled[: len(shuffled) // 2]) == expected


@settings(max_examples=600)
@given(operations, st.booleans(), st.booleans(), st.sampled_from(["sta_a", "sta_b", "sta_c"]),
       st.booleans())
def test_a_scan_after_the_whole_log_folds_onto_the_log_fold(
        ops: list[tuple[str, int, str]], multi: bool, accepted: bool, origin: str,
        created: bool) -> None:
    """`created` False: a pass this door knows only from scans (admitted on its signature
    before its pass.created event arrived: provisional), as a new door downloading its history."""
    events = build(ops, multi)
    if not created:
        events = events[1:]
    before = fold(events).pass_
    if before is None:
        assert not created  # no event made the pass: nothing to fold onto
        return
    after_all = scan(len(events) + 500, 401, origin, accepted)  # wall 401 > any op's: sorts last
    quick = fold_next(before, after_all)
    full = fold([*events, after_all]).pass_
    if quick is not None:
        assert quick == full
    if not accepted or before.status is not PassStatus.ACTIVE:
        assert quick is None  # a refusal or a conflict needs the log


def test_fold_next_counts_a_multi_pass_to_its_last_use() -> None:
    events = build([("scan", 200, "sta_a"), ("scan", 210, "sta_b")], multi=True)
    before = fold(events).pass_
    assert before is not None and before.uses == 2 and before.status is PassStatus.ACTIVE
    third = scan(9, 300, "sta_a")
    quick = fold_next(before, third)
    assert quick is not None
    assert quick == fold([*events, third]).pass_
    assert (quick.uses, quick.status) == (3, PassStatus.USED)
    assert fold_next(quick, scan(10, 310, "sta_a")) is None  # used up: a conflict, the log decides


def movement(n: int, wall: int, origin: str, **extra: object) -> Event:
    """An accepted scan that is an exit (direction) or a re-entry: a movement, not a use."""
    event = scan(n, wall, origin)
    return Event(**{**{f: getattr(event, f) for f in event.__slots__},  # type: ignore[attr-defined]
                    "data": {**event.data, "scan": {**event.data["scan"], **extra}}})


def test_an_exit_or_a_re_entry_spends_no_use_in_the_fold_or_fold_next() -> None:
    created, entry = ev(0, EventType.PASS_CREATED, {**PASS, "type": "multi", "maxUses": 2}, 100), \
        scan(1, 200, "sta_a")
    exit_ = movement(2, 300, "sta_b", direction="exit")
    back = movement(3, 400, "sta_a", reentry=True)
    result = fold([created, entry, exit_, back])
    assert result.pass_ is not None
    assert (result.pass_.uses, result.pass_.status, result.conflicts) == (1, PassStatus.ACTIVE, ())
    assert result.accepted_scan_ids == ("scn_1",)
    one = fold([created, entry]).pass_
    assert one is not None
    assert fold_next(one, exit_) == fold([created, entry, exit_]).pass_ == one


def test_the_door_reads_where_a_single_pass_was_admitted_not_where_it_left() -> None:
    from datetime import UTC, datetime

    from station.domain.explain import explain
    from station.domain.models import Reason

    events = [ev(0, EventType.PASS_CREATED, PASS, 100), scan(1, 200, "sta_a"),
              movement(2, 300, "sta_b", direction="exit")]
    p = fold(events).pass_
    said = explain(Reason.USED, p, events, {"sta_a": "Main door", "sta_b": "Side exit"},
                   datetime(2026, 6, 1, 12, tzinfo=UTC))
    assert said.startswith("Already used at Main door")


def test_the_latest_attention_note_wins_in_any_order() -> None:
    created = ev(0, EventType.PASS_CREATED, {**PASS, "attention": "Wheelchair access"}, 100)
    set_ = ev(1, EventType.PASS_ATTENTION_SET, {"id": "pas_1", "attention": "Check ID — under 18"}, 200)
    cleared = ev(2, EventType.PASS_ATTENTION_SET, {"id": "pas_1", "attention": None}, 300)
    assert fold([created]).pass_.attention == "Wheelchair access"  # type: ignore[union-attr]
    assert fold([set_, created]).pass_.attention == "Check ID — under 18"  # type: ignore[union-attr]
    assert fold([cleared, set_, created]).pass_.attention is None  # type: ignore[union-attr]
    assert "attention" not in fold([cleared, created]).pass_.to_api()  # type: ignore[union-attr]
