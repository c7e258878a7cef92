"""Services on a real SQLite file: lifecycle, events after commit, the bad inputs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from station.app import Core, build_core
from station.domain.errors import Conflict, InvalidInput, NotFound
from station.domain.events import Event, EventType
from station.domain.models import PassStatus, Reason, Verdict
from station.domain.times import to_iso
from station.store.releases import pending_releases, release_done
from tests.fakes import FakeClock
from tests.format1 import format1_url


def collect(core: Core) -> list[Event]:
    seen: list[Event] = []
    core.bus.subscribe(seen.append)
    return seen


def test_create_then_scan_single_use(core: Core) -> None:
    seen = collect(core)
    p = core.passes.create(core.passes.validate("VIP Guest", fields={"table": "4"}))
    assert len(p.code) == 12 and p.public_url.startswith("https://passes.station.example/p/")
    first = core.scans.submit(p.public_url, "camera")
    assert first.verdict is Verdict.ACCEPTED and first.pass_ and first.pass_.status is PassStatus.USED
    second = core.scans.submit(p.code, "hid")
    assert second.verdict is Verdict.REJECTED and second.reason == Reason.USED
    assert second.message.startswith("Already used at This station at ")
    assert [e.type for e in seen] == [
        EventType.PASS_CREATED, EventType.PASS_SCANNED, EventType.PASS_STATUS_CHANGED,
        EventType.PASS_SCANNED,
    ]
    changed = seen[2].data
    assert (changed["from"], changed["to"], changed["trigger"]) == ("active", "used", "scan")
    assert core.store.pass_by_code(p.code).uses == 1  # type: ignore[union-attr]


def test_multi_use_counts_to_max_uses(core: Core) -> None:
    p = core.passes.create(core.passes.validate("Weekend", "multi", max_uses=2))
    a = core.scans.submit(p.code)
    b = core.scans.submit(p.code)
    c = core.scans.submit(p.code)
    assert (a.verdict, b.verdict, c.verdict) == (Verdict.ACCEPTED, Verdict.ACCEPTED, Verdict.REJECTED)
    assert b.warning == "That was the last use of this pass."
    assert c.reason == Reason.MAX_USES_REACHED


def test_revoke_and_activate(core: Core) -> None:
    seen = collect(core)
    p = core.passes.create(core.passes.validate("Guest"))
    revoked = core.passes.revoke(p.code, reason="chargeback", by="Mia")
    assert revoked.status is PassStatus.REVOKED
    refused = core.scans.submit(p.code)
    assert refused.reason == Reason.REVOKED and refused.message == "Revoked by Mia: chargeback"
    assert core.passes.revoke(p.id) == revoked  # a replay: the pass as it is, no event
    assert core.passes.activate(p.id).status is PassStatus.ACTIVE
    assert core.passes.activate(p.id).status is PassStatus.ACTIVE  # likewise
    assert core.scans.submit(p.code).verdict is Verdict.ACCEPTED
    with pytest.raises(Conflict, match="only a revoked pass"):
        core.passes.activate(p.id)  # used: not a replay, refused as before
    changes = [(e.data["from"], e.data["to"]) for e in seen if e.type == EventType.PASS_STATUS_CHANGED]
    assert changes == [("active", "revoked"), ("revoked", "active"), ("active", "used")]


def test_expiry_by_sweep_emits_status_changed_once(core: Core, clock: FakeClock) -> None:
    seen = collect(core)
    p = core.passes.create(core.passes.validate("Guest", valid_until=to_iso(clock() + timedelta(hours=1))))
    assert core.passes.expire_due() == []
    clock.advance(hours=2)
    expired = core.passes.expire_due()
    assert [x.id for x in expired] == [p.id] and expired[0].status is PassStatus.EXPIRED
    assert core.passes.expire_due() == []
    status_events = [e for e in seen if e.type == EventType.PASS_STATUS_CHANGED]
    assert [(e.data["to"], e.data["by"]) for e in status_events] == [("expired", "system")]
    assert core.scans.submit(p.code).reason == Reason.EXPIRED


def test_expiry_at_scan_time_records_the_status_change(core: Core, clock: FakeClock) -> None:
    seen = collect(core)
    p = core.passes.create(core.passes.validate("Guest", valid_until=to_iso(clock() + timedelta(minutes=5))))
    clock.advance(minutes=6)
    result = core.scans.submit(p.code)
    assert result.reason == Reason.EXPIRED and result.pass_ and result.pass_.status is PassStatus.EXPIRED
    assert [e.type for e in seen][-2:] == [EventType.PASS_STATUS_CHANGED, EventType.PASS_SCANNED]
    assert core.passes.expire_due() == []  # the sweep finds nothing left to do


def test_not_yet_valid(core: Core, clock: FakeClock) -> None:
    p = core.passes.create(core.passes.validate("Early", valid_from=to_iso(clock() + timedelta(days=1))))
    assert core.scans.submit(p.code).reason == Reason.NOT_YET_VALID
    clock.advance(days=1, seconds=1)
    assert core.scans.submit(p.code).verdict is Verdict.ACCEPTED


def test_undo_restores_the_pass_and_keeps_the_fact(core: Core, clock: FakeClock) -> None:
    p = core.passes.create(core.passes.validate("Guest"))
    admitted = core.scans.submit(p.code)
    after = core.scans.undo(admitted.scan.id, by="door")
    assert after.status is PassStatus.ACTIVE and after.uses == 0
    with pytest.raises(Conflict, match="already undone"):
        core.scans.undo(admitted.scan.id)
    again = core.scans.submit(p.code)
    assert again.verdict is Verdict.ACCEPTED
    clock.advance(minutes=5)
    with pytest.raises(Conflict, match="too old"):
        core.scans.undo(again.scan.id)
    types = [e.type for e in core.passes.history(p.code)]
    assert types.count(EventType.PASS_SCANNED) == 2 and EventType.SCAN_REVERTED in types


def test_an_undone_single_use_admission_records_its_release_in_the_undo_transaction(
        core: Core, clock: FakeClock) -> None:
    single = core.scans.submit(core.passes.create(core.passes.validate("Ann", "single")).code)
    multi = core.scans.submit(core.passes.create(core.passes.validate("Bo", "multi")).code)
    # Without sync (no releaser) there is no hub claim to give back, so nothing is recorded.
    core.scans.undo(multi.scan.id)
    core.scans.undo(single.scan.id)
    assert pending_releases(core.store) == []

    told: list[list[tuple[str, str]]] = []
    # The releaser runs after commit: another connection already sees the pending release.
    core.scans.releaser = lambda: told.append(pending_releases(core.store))
    p = core.passes.create(core.passes.validate("Cy", "single"))
    m = core.passes.create(core.passes.validate("Di", "multi"))
    first = core.scans.submit(p.code)
    core.scans.undo(core.scans.submit(m.code).scan.id)  # a multi-use pass is never claimed
    core.scans.undo(first.scan.id)
    expected = (p.id, first.scan.scanned_at)
    assert told == [[expected]]
    with pytest.raises(Conflict):  # a refused undo records nothing more
        core.scans.undo(first.scan.id)
    clock.advance(seconds=30)
    second = core.scans.submit(p.code)
    core.scans.undo(second.scan.id)
    # One row per pass, for the later admission (releasing up to it covers the first too).
    later = (p.id, second.scan.scanned_at)
    assert pending_releases(core.store) == [later]
    release_done(core.store, *expected)  # told about the earlier one only: the row stays
    assert pending_releases(core.store) == [later]
    release_done(core.store, *later)
    assert pending_releases(core.store) == []


def test_signed_pass_never_synced_here_is_admitted_once(core: Core, tmp_path: Path, clock: FakeClock) -> None:
    # Another station of the same organisation (same keys) creates a pass we never saw.
    other = build_core(tmp_path / "other", now=clock)
    try:
        for key in core.ctx.keys.public_keys_b64():
            other.ctx.keys.trust(key)
        for key in other.ctx.keys.public_keys_b64():
            core.ctx.keys.trust(key)
        foreign = other.passes.create(other.passes.validate("Walk-in"))
    finally:
        other.close()
    first = core.scans.submit(foreign.public_url, "camera")
    assert first.verdict is Verdict.ACCEPTED and first.warning and "signature" in first.warning
    stored = core.store.pass_by_id(foreign.id)
    assert stored is not None and stored.provisional and stored.status is PassStatus.USED
    second = core.scans.submit(foreign.public_url, "camera")
    assert second.reason == Reason.USED


def test_pass_signed_by_a_stranger_is_refused(core: Core, tmp_path: Path, clock: FakeClock) -> None:
    stranger = build_core(tmp_path / "stranger", now=clock)
    try:
        forged = stranger.passes.create(stranger.passes.validate("Gatecrasher"))
    finally:
        stranger.close()
    result = core.scans.submit(forged.public_url.replace(stranger.ctx.base_url, core.ctx.base_url))
    assert result.reason == Reason.BAD_SIGNATURE


def test_token_for_another_code_is_refused(core: Core) -> None:
    a = core.passes.create(core.passes.validate("A"))
    b = core.passes.create(core.passes.validate("B"))
    swapped = format1_url(core, a).replace(a.code, b.code, 1)
    assert core.scans.submit(swapped).reason == Reason.BAD_SIGNATURE
    assert core.store.pass_by_id(b.id).uses == 0  # type: ignore[union-attr]


def test_a_format_2_pass_scans_accepted_then_already_used(core: Core) -> None:
    p = core.passes.create(core.passes.validate("Compact", valid_until="2099-01-01T00:00:00Z"))
    token = p.public_url.rsplit("/", 1)[1]
    assert token.isdigit() and p.public_url.startswith("https://")
    first = core.scans.submit(p.public_url, "camera")
    assert first.verdict is Verdict.ACCEPTED and first.pass_ and first.pass_.id == p.id
    assert first.warning is None  # a known pass, not admitted on its signature
    again = core.scans.submit(p.public_url.lower(), "hid")  # a wedge scanner typing it in lower case
    assert (again.verdict, again.reason) == (Verdict.REJECTED, Reason.USED)
    bare = core.scans.submit(token, "hid")
    assert bare.reason == Reason.USED


def test_a_format_1_pass_printed_before_still_scans(core: Core) -> None:
    p = core.passes.create(core.passes.validate("Printed last year", type="multi", max_uses=2))
    old = format1_url(core, p)
    assert "?token=" in old
    assert core.scans.submit(old, "camera").verdict is Verdict.ACCEPTED
    assert core.scans.submit(p.public_url, "camera").verdict is Verdict.ACCEPTED
    third = core.scans.submit(old, "camera")
    assert third.reason == Reason.MAX_USES_REACHED


def test_an_altered_format_2_token_is_refused_and_changes_nothing(core: Core) -> None:
    p = core.passes.create(core.passes.validate("A"))
    last = p.public_url[-1]
    altered = p.public_url[:-1] + ("1" if last != "1" else "2")
    assert core.scans.submit(altered).reason == Reason.BAD_SIGNATURE
    assert core.store.pass_by_id(p.id).uses == 0  # type: ignore[union-attr]


def test_list_search_and_paging(core: Core) -> None:
    client = core.clients.create("Zed", "zed@example.com")
    created = [core.passes.create(core.passes.validate(f"Guest {i}")) for i in range(25)]
    zed = core.passes.create(core.passes.validate("Zed Pass", client_id=client.id))
    core.passes.revoke(created[3].id)
    page1 = core.passes.list(limit=10)
    page2 = core.passes.list(limit=10, cursor=page1.next_cursor)
    page3 = core.passes.list(limit=10, cursor=page2.next_cursor)
    ids = [p.id for p in page1.items + page2.items + page3.items]
    assert len(ids) == 26 == len(set(ids)) and page3.next_cursor is None
    assert ids[0] == zed.id  # newest first
    assert [p.id for p in core.passes.list(search="zed@EXAMPLE").items] == [zed.id]
    assert [p.id for p in core.passes.list(search=created[7].code).items] == [created[7].id]
    assert [p.id for p in core.passes.list(status="revoked").items] == [created[3].id]
    assert core.passes.list(search="100%_").items == []  # LIKE wildcards are literal


def test_failed_transaction_publishes_nothing(core: Core) -> None:
    seen = collect(core)
    with pytest.raises(NotFound):
        core.passes.create(core.passes.validate("Guest", client_id="cli_missing"))
    assert seen == [] and core.store.count_passes() == 0 and core.store.count_events() == 0


@pytest.mark.allow_log("station.services.bus", "failed on evt_")
def test_subscriber_failure_does_not_fail_the_scan(core: Core) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("observer bug")

    core.bus.subscribe(broken)
    p = core.passes.create(core.passes.validate("Guest"))
    assert core.scans.submit(p.code).verdict is Verdict.ACCEPTED


def test_every_decided_scan_is_told_after_commit_unknown_codes_too(core: Core) -> None:
    """The door's window shows scans from every source through `decided`; a refused unknown code
    records no event, so the bus alone would never show it."""
    told: list[tuple[str, int]] = []
    core.scans.decided.subscribe(lambda r: told.append((r.scan.id, len(core.store.list_scans().items))))
    p = core.passes.create(core.passes.validate("Guest"))
    first = core.scans.submit(p.code, "api")
    unknown = core.scans.submit("ZZZZZZZZZZZZ", "api")
    with pytest.raises(InvalidInput):
        core.scans.submit("abc\x00def", "api")
    # each told once, in order, and only once its scan row was committed (readable elsewhere)
    assert told == [(first.scan.id, 1), (unknown.scan.id, 2)]


BAD_PAYLOADS = ["", "   ", "x" * (1024 * 1024), "abc\x00def", b"\xff\xfe\xfa", "\x1b[31mred"]


@pytest.mark.parametrize("payload", BAD_PAYLOADS, ids=["empty", "blank", "1MB", "nul", "not-utf8", "ansi"])
def test_impossible_payloads_raise_and_change_nothing(core: Core, payload: str | bytes) -> None:
    before = (core.store.count_events(), core.store.list_scans().items)
    with pytest.raises(InvalidInput):
        core.scans.submit(payload)
    assert (core.store.count_events(), core.store.list_scans().items) == before


PLAUSIBLE = {
    "sql": ("'; DROP TABLE passes; --", Reason.UNKNOWN),
    "emoji": ("🎟️🎉", Reason.UNKNOWN),
    "truncated-url": ("https://passes.station.example/p/AbC", Reason.UNKNOWN),
    "wrong-host": ("https://evil.example/p/AbCd1234EfGh?token=x.y", Reason.FOREIGN),
    "unknown-code": ("AbCd1234EfGh", Reason.UNKNOWN),
    "garbage-token": ("https://passes.station.example/p/AbCd1234EfGh?token=abc", Reason.BAD_SIGNATURE),
}


@pytest.mark.parametrize("case", PLAUSIBLE, ids=list(PLAUSIBLE))
def test_plausible_bad_payloads_are_refused_and_recorded(core: Core, case: str) -> None:
    p = core.passes.create(core.passes.validate("Bystander"))
    events_before = core.store.count_events()
    payload, reason = PLAUSIBLE[case]
    result = core.scans.submit(payload, "camera")
    assert result.verdict is Verdict.REJECTED and result.reason == reason
    assert result.pass_ is None
    assert core.store.count_events() == events_before  # no pass changed, nothing to announce
    recorded = core.store.list_scans().items[0]
    assert recorded.reason == reason and recorded.pass_id is None
    assert core.store.pass_by_id(p.id) == p
    assert core.store.count_passes() == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"name": ""}, "Name is required"),
    ({"name": "x" * 201}, "at most 200"),
    ({"name": "bad\x00name"}, "control characters"),
    ({"name": "A", "type": "vip"}, "'single' or 'multi'"),
    ({"name": "A", "max_uses": 3}, "multi-use passes only"),
    ({"name": "A", "type": "multi", "max_uses": 0}, "between 1 and"),
    ({"name": "A", "type": "multi", "max_uses": "many"}, "whole number"),
    ({"name": "A", "valid_from": "2026-06-02", "valid_until": "2026-06-01"}, "earlier than"),
    ({"name": "A", "valid_until": "next tuesday"}, "not a time"),
    ({"name": "A", "fields": {"k": ["list"]}}, "text or a number"),
])
def test_create_rejects_bad_input(core: Core, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        core.passes.validate(**kwargs)  # type: ignore[arg-type]
    assert core.store.count_passes() == 0


def test_unknown_refs_and_sources(core: Core) -> None:
    with pytest.raises(NotFound):
        core.passes.get("AbCd1234EfGh")
    with pytest.raises(InvalidInput):
        core.passes.get("")
    with pytest.raises(InvalidInput):
        core.scans.submit("AbCd1234EfGh", source="telepathy")
    with pytest.raises(InvalidInput):
        core.clients.create("A", email="not-an-email")


@pytest.mark.parametrize("cursor", ["garbage", "2026|abc", "|1", "x" * 100])
def test_foreign_page_cursors_are_refused(core: Core, cursor: str) -> None:
    with pytest.raises(InvalidInput, match="page cursor"):
        core.passes.list(cursor=cursor)


def test_key_rotation_keeps_old_passes_valid(core: Core, data_dir: Path, clock: FakeClock) -> None:
    old = core.passes.create(core.passes.validate("Old"))
    old_kid = core.ctx.keys.trusted[0]
    new_kid = core.ctx.keys.rotate()
    new = core.passes.create(core.passes.validate("New"))
    assert len(core.ctx.keys.trusted) == 2 and old_kid in core.ctx.keys.trusted
    assert core.scans.submit(old.public_url).verdict is Verdict.ACCEPTED
    assert core.scans.submit(new.public_url).verdict is Verdict.ACCEPTED
    core.close()
    # After a restart the station signs with the rotated key and still trusts both.
    reopened = build_core(data_dir, now=clock)
    try:
        from station.domain import tokens

        assert tokens.key_id(reopened.ctx.keys.private.public_key()) == new_kid
        assert len(reopened.ctx.keys.trusted) == 2
    finally:
        reopened.close()


def test_a_pass_with_an_old_alphabet_code_still_scans_looks_up_and_revokes(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """Codes printed before the look-alike-free alphabet may hold 0/O/o/1/I/l: they stay valid."""
    import station.services.passes as passes_module

    monkeypatch.setattr(passes_module, "new_code", lambda: "O0o1IlAbCdEf")
    old = core.passes.create(core.passes.validate("Old Ticket", type="multi"))
    monkeypatch.undo()
    assert old.code == "O0o1IlAbCdEf"
    assert core.passes.get("O0o1IlAbCdEf").id == old.id
    assert core.scans.submit(old.code, "hid").verdict is Verdict.ACCEPTED
    assert core.scans.submit(old.public_url, "camera").verdict is Verdict.ACCEPTED
    assert core.passes.revoke(old.code, reason="lost").status is PassStatus.REVOKED
    refused = core.scans.submit(old.code, "hid")
    assert refused.verdict is Verdict.REJECTED and refused.reason == Reason.REVOKED
    assert core.passes.activate(old.code).status is PassStatus.ACTIVE
    fresh = core.passes.create(core.passes.validate("New Ticket"))
    assert not set("0Oo1Il") & set(fresh.code)


def test_the_stored_pass_stays_the_fold_of_its_log_through_fast_scans(core: Core) -> None:
    """A door's admission is folded onto the stored pass without reading the log (fold_next):
    after scans, an undo, a revocation, a re-activation and a scan from another station dated
    ahead of this station's clock, the stored pass is still exactly the fold of its events."""
    from dataclasses import replace as _replace

    from station.domain.fold import fold
    from station.domain.hlc import Stamp
    from station.services.sync_apply import RemoteEventService

    p = core.passes.create(core.passes.validate("Crew", "multi", max_uses=6))

    def folded_matches() -> None:
        assert core.passes.get(p.id) == fold(core.passes.history(p.id)).pass_

    first = core.scans.submit(p.code)
    folded_matches()
    core.scans.submit(p.code)
    folded_matches()
    core.scans.undo(first.scan.id, by="door")
    folded_matches()
    core.passes.revoke(p.id, reason="lost", by="Mia")
    assert core.scans.submit(p.code).reason == Reason.REVOKED
    folded_matches()
    core.passes.activate(p.id)
    folded_matches()
    # Another door's admission, stamped an hour ahead of this station's clock.
    mine = core.passes.history(p.id)[-1]
    ahead = Stamp(Stamp.decode(mine.hlc).wall_ms + 3_600_000, 0).encode()
    remote = _replace(mine, id="evt_" + "f" * 32, type=EventType.PASS_SCANNED, origin="sta_other",
                      origin_seq=1, hlc=ahead, data={**mine.data, "scan": {
                          "id": "scn_other", "verdict": "accepted", "stationId": "sta_other",
                          "scannedAt": mine.timestamp}})
    RemoteEventService(core.ctx).apply([remote])
    folded_matches()
    results = [core.scans.submit(p.code) for _ in range(5)]
    folded_matches()
    assert [r.verdict for r in results] == [Verdict.ACCEPTED] * 4 + [Verdict.REJECTED]  # 2 uses before
    assert core.passes.get(p.id).status is PassStatus.USED


def test_a_pass_admitted_on_its_signature_counts_further_scans_without_reading_its_log(
        core: Core, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new door downloading its history admits a signed pass whose pass.created has not
    arrived (provisional). Its next scans are counted onto the stored row (fold_next) instead
    of refolding its whole log, which grew by one event a scan; when pass.created arrives the
    stored pass is still the fold of its log."""
    from station.domain.fold import fold
    from station.services.sync_apply import RemoteEventService
    from station.store.tx import Tx

    other = build_core(tmp_path / "other", now=clock)
    try:
        p = other.passes.create(other.passes.validate("Crew", "multi", max_uses=10))
        created = other.store.events_for_pass(p.id)
        for key in other.ctx.keys.public_keys_b64():
            core.ctx.keys.trust(key)
    finally:
        other.close()
    first = core.scans.submit(p.public_url)
    assert first.accepted and core.passes.get(p.id).provisional
    reads: list[str] = []
    read = Tx.events_for_pass

    def counting(self: Tx, pass_id: str) -> list[Event]:
        reads.append(pass_id)
        return read(self, pass_id)

    monkeypatch.setattr(Tx, "events_for_pass", counting)
    for _ in range(3):
        clock.advance(seconds=1)
        assert core.scans.submit(p.public_url).accepted
    assert reads == []  # counted onto the stored row, the log not read
    stored = core.passes.get(p.id)
    assert stored == fold(core.passes.history(p.id)).pass_
    assert stored.provisional and stored.uses == 4
    RemoteEventService(core.ctx).apply(created)
    stored = core.passes.get(p.id)
    assert stored == fold(core.passes.history(p.id)).pass_
    assert not stored.provisional and stored.uses == 4 and stored.name == "Crew"
