"""Preparing history batches in a worker process (net/sync/prepare.py), over real SQLite stores.

Whatever prepares a batch — the worker process, the same code in this process, or nothing
(the writer folds everything itself) — the station must end in the same state.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.app import Core, build_core
from station.domain import tokens
from station.domain.event_signature import (BAD_SIGNATURE, REMOVED_ORIGIN, UNKNOWN_ORIGIN,
                                            UNSIGNED, EventTrust, sign_event)
from station.domain.events import Event, EventType
from station.domain.fold import fold
from station.net.sync import prepare, wire
from station.services.passes import PassService
from station.services import sync_apply
from station.services.sync_apply import ApplyMode, RemoteBatch, RemoteEventService
from station.store.db import Priority, Tx
from station.store.rows import event_from_row, pass_values
from station.store.sync import SyncLedger

# --- the created-only row is exactly the fold's -------------------------------------------------

_text = st.one_of(st.none(), st.text(max_size=12))
_created = st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=12), "code": st.text(min_size=1, max_size=12),
    "type": st.sampled_from(["single", "multi"]),
}, optional={
    "name": _text, "maxUses": st.one_of(st.none(), st.integers(0, 5)),
    "validFrom": _text, "validUntil": _text, "clientId": _text, "publicUrl": _text,
    "createdAt": st.one_of(st.none(), st.sampled_from(["2026-06-01T17:00:00.000Z",
                                                        "2026-06-01T19:00:00.000Z"])),
    "fields": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
})


@settings(max_examples=300, deadline=None)
@given(_created)
def test_the_row_of_a_pass_created_alone_is_the_fold_s_row(data: dict[str, Any]) -> None:
    event = Event(id="evt_1", type=EventType.PASS_CREATED, timestamp="2026-06-01T18:00:00.000Z",
                  data=data, origin="sta_x", origin_seq=1, hlc="000000000000001.000000",
                  pass_id=str(data["id"]))
    folded = fold([event]).pass_
    assert folded is not None
    assert prepare.created_row(event) == pass_values(folded, None)


# --- whichever way a batch is prepared, the station ends the same ---------------------------------

def _history(tmp_path: Path) -> tuple[list[bytes], list[str]]:
    """Two doors' logs, as the hub's stream would hold them: passes, clients, scans, an undo,
    a revocation, and the two conflicts (a single-use pass admitted at both doors while apart,
    a pass admitted at one door after the other revoked it)."""
    x, y = build_core(tmp_path / "x"), build_core(tmp_path / "y")
    try:
        guest = x.clients.create("Ada", "ada@example.org")
        singles = x.passes.create_many([PassService.validate(f"S{i}") for i in range(30)])
        multi = x.passes.create(PassService.validate("M", "multi", max_uses=3, client_id=guest.id))
        with_client = x.passes.create(PassService.validate("C", client_id=guest.id))
        RemoteEventService(y.ctx).apply(_log(x))
        for key in x.ctx.keys.public_keys_b64():
            y.ctx.keys.trust(key)
        x.scans.submit(singles[0].public_url)
        y.scans.submit(singles[0].public_url)  # admitted at both doors: duplicate_offline
        x.passes.revoke(singles[1].id)
        y.scans.submit(singles[1].public_url)  # y has not heard of it: revoked_offline
        undone = x.scans.submit(singles[2].public_url)
        x.scans.undo(undone.scan.id)
        for _ in range(4):
            x.scans.submit(multi.public_url)  # the fourth is refused (max 3)
        x.scans.submit(with_client.public_url)
        later = x.passes.create_many([PassService.validate(f"L{i}") for i in range(10)])
        y.scans.submit(later[0].public_url)  # y knows nothing of it yet: refused there
        keys = [*x.ctx.keys.public_keys_b64(), *y.ctx.keys.public_keys_b64()]
        mine = {e.id for e in _log(y) if e.origin == y.store.station_id}
        stream = [wire.encode(e) for e in _log(x)] + [wire.encode(e) for e in _log(y)
                                                       if e.id in mine]
    finally:
        x.close()
        y.close()
    return stream, keys


def _log(core: Core) -> list[Event]:
    rows = core.store.iter_rows("SELECT * FROM events ORDER BY seq")
    return [event_from_row(dict(r)) for r in rows]


def _state(core: Core) -> dict[str, Any]:
    conn = core.store._reader()  # noqa: SLF001
    return {
        "digest": SyncLedger(core.store).state_digest(),
        "passes": [tuple(r) for r in conn.execute("SELECT * FROM passes ORDER BY id")],
        "scans": [tuple(r) for r in conn.execute(
            "SELECT id, pass_id, station_id, verdict FROM scans ORDER BY id")],
        "clients": [tuple(r) for r in conn.execute("SELECT id, name, email FROM clients ORDER BY id")],
        "conflicts": sorted(e.data["reason"] for e in _log(core)
                            if e.data.get("trigger") == "conflict"),
    }


def _station(path: Path, keys: list[str]) -> Core:
    core = build_core(path)
    for key in keys:
        core.ctx.keys.trust(key)
    return core


@pytest.mark.allow_log("station.net.sync.prepare", "dropped a malformed synced message")
def test_worker_prepared_batches_end_in_the_state_the_writer_alone_reaches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The worker gets a batch in parts of 5 events: passes' histories are split across parts.
    monkeypatch.setattr(prepare, "PREPARE_CHUNK", 5)
    stream, keys = _history(tmp_path)
    junk = [b"not json", json.dumps({"data": {"code": "x"}, "hlc": "1"}).encode()]
    stream = stream[:5] + junk + stream[5:]
    alone, here, worker = (_station(tmp_path / n, keys) for n in ("alone", "here", "worker"))
    preparer = prepare.Preparer()
    try:
        for start in range(0, len(stream), 7):  # small batches: histories split across them
            chunk = stream[start:start + 7]
            plain = prepare.prepare_here(chunk)  # decoding only: the writer folds everything
            RemoteEventService(alone.ctx).apply_batch(
                RemoteBatch(plain.events, plain.texts, signatures_checked=True), None, ApplyMode.DOWNLOAD).result(timeout=60)
            ready = prepare.unpack(*prepare.prepare(chunk))
            assert ready.checked and ready.folded
            RemoteEventService(here.ctx).apply_batch(
                RemoteBatch(ready.events, ready.texts, True, ready.folded, signatures_checked=True), None,
                ApplyMode.DOWNLOAD).result(timeout=60)
        # The real worker process, the whole history as one batch.
        ready = prepare.unpack(*preparer.submit(stream).result(timeout=60))
        RemoteEventService(worker.ctx).apply_batch(
            RemoteBatch(ready.events, ready.texts, True, ready.folded, signatures_checked=True)).result(timeout=60)
        expected = _state(alone)
        assert sorted(expected["conflicts"]) == ["duplicate_offline", "revoked_offline"]
        assert len(expected["passes"]) == 42 and len(expected["clients"]) == 1
        assert _state(here) == expected
        assert _state(worker) == expected
    finally:
        preparer.close()
        for core in (alone, here, worker):
            core.close()


def test_parts_merge_in_order_and_leave_a_pass_split_across_them_to_the_writer() -> None:
    def head(n: int, pass_id: str) -> prepare.EventHead:
        return (f"evt_{n}", EventType.PASS_SCANNED, "t", "sta_x", n, f"{n:015d}.000000", pass_id,
                None)

    first: prepare.Result = ([head(1, "pas_a"), head(2, "pas_b")], ["{}", "{}"],
                             {"pas_a": ("a",), "pas_b": ("b1",)}, [], {("sta_y", "why"): 1})
    second: prepare.Result = ([head(3, "pas_b"), head(4, "pas_c")], ["{}", "{}"],
                              {"pas_b": ("b2",), "pas_c": ("c",)}, ["bad"],
                              {("sta_y", "why"): 2, ("sta_z", "why"): 1})
    heads, texts, folded, refused, not_theirs = prepare.merge([first, second])
    assert [h[0] for h in heads] == ["evt_1", "evt_2", "evt_3", "evt_4"] and len(texts) == 4
    assert folded == {"pas_a": ("a",), "pas_b": None, "pas_c": ("c",)}
    assert refused == ["bad"]
    # Refused as not their origin's (signatures checked in each part): counted together.
    assert not_theirs == {("sta_y", "why"): 3, ("sta_z", "why"): 1}
    unchecked = [(h, t, f, r, None) for h, t, f, r, _ in (first, second)]
    assert prepare.merge(unchecked)[4] is None


def test_a_malformed_pass_event_is_refused_alone_in_the_worker(tmp_path: Path) -> None:
    good = Event(id="evt_good", type=EventType.PASS_CREATED, timestamp="2026-06-01T18:00:00.000Z",
                 data={"id": "pas_1", "code": "c1", "type": "single"}, origin="sta_x",
                 origin_seq=1, hlc="000000000000001.000000", pass_id="pas_1")
    bad = Event(id="evt_bad", type=EventType.PASS_CREATED, timestamp="2026-06-01T18:00:00.000Z",
                data={"id": "pas_2", "type": "single"}, origin="sta_x", origin_seq=2,
                hlc="000000000000002.000000", pass_id="pas_2")
    heads, texts, folded, refused, _ = prepare.prepare([wire.encode(bad), wire.encode(good)])
    assert [h[0] for h in heads] == ["evt_good"] and list(folded) == ["pas_1"]
    assert refused == ["A pass.created event must carry its pass's id, code and type."]


def test_the_worker_leaves_out_events_not_signed_by_their_origin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare, "PREPARE_CHUNK", 3)  # parts: what each message is, kept with it
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()

    def created(n: int, origin: str = "sta_x") -> Event:
        return Event(id=f"evt_{n:032d}", type=EventType.PASS_CREATED,
                     timestamp="2026-06-01T18:00:00.000Z",
                     data={"id": f"pas_{n}", "code": f"c{n}", "type": "single"}, origin=origin,
                     origin_seq=n, hlc=f"{n:015d}.000000", pass_id=f"pas_{n}")

    def signed(event: Event, by: Ed25519PrivateKey = key) -> Event:
        return dataclasses.replace(event, sig=sign_event(by, event))

    good, forged, stranger = signed(created(1)), signed(created(2), other), signed(created(3, "sta_y"))
    tampered = dataclasses.replace(signed(created(4)), data={"id": "pas_4", "code": "c4",
                                                             "type": "multi"})
    old, late = created(5), created(6)
    # A removed station's: one on its own subject (published before its removal), one
    # re-published on another's.
    removed_key = Ed25519PrivateKey.generate()
    kept = signed(created(7, "sta_r"), removed_key)
    relayed = signed(created(8, "sta_r"), removed_key)
    trust = EventTrust({"sta_x": (tokens.public_key_bytes(key.public_key()),)}, unsigned_until=5,
                       removed={"sta_r": (tokens.public_key_bytes(removed_key.public_key()),)})
    batch = [wire.encode(e) for e in (good, forged, stranger, tampered, old, late, kept, relayed)]
    before = [False, False, False, False, True, False, False, False]  # only `old` was on the
    # hub before signing
    senders = ["sta_x"] * 6 + ["sta_r", "sta_x"]
    preparer = prepare.Preparer()  # the real worker process: the trust crosses to it
    try:
        ready = prepare.unpack(*preparer.submit(batch, before, trust, senders).result(timeout=60))
    finally:
        preparer.close(wait=True)
    assert [e.id for e in ready.events] == [good.id, old.id, kept.id]
    assert list(ready.folded) == ["pas_1", "pas_5", "pas_7"]
    assert ready.signatures_checked and ready.events[0].sig == good.sig
    assert ready.refused == {("sta_x", BAD_SIGNATURE): 2, ("sta_y", UNKNOWN_ORIGIN): 1,
                             ("sta_x", UNSIGNED): 1, ("sta_r", REMOVED_ORIGIN): 1}


def test_a_download_batch_is_written_in_steps_each_consistent_with_the_position_in_the_last(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small steps, so passes straddle them: a pass whose creation is in one step and its scans
    # in the next must not get the worker's row (folded from the whole batch) in the first.
    monkeypatch.setattr(sync_apply, "APPLY_STEP", 9)
    stream, keys = _history(tmp_path)
    alone, stepped = (_station(tmp_path / n, keys) for n in ("alone", "stepped"))
    try:
        RemoteEventService(alone.ctx).apply(prepare.prepare_here(stream).events)
        ready = prepare.unpack(*prepare.prepare(stream))
        assert ready.checked and ready.folded
        at_each_step: list[tuple[int, list[str]]] = []
        positions: list[int] = []
        submit_steps = stepped.store.submit_steps

        def watched(steps: Any, priority: Priority, *, fsync: bool = True) -> Any:
            def watch(step: Any) -> Any:
                def run(tx: Tx) -> Any:
                    result = step(tx)
                    at_each_step.append((_count(tx, "events"), _rows_unlike_their_fold(tx)))
                    return result
                return run
            assert priority is Priority.SYNC and not fsync
            return submit_steps([watch(s) for s in steps], priority, fsync=fsync)

        monkeypatch.setattr(stepped.store, "submit_steps", watched)
        batch = RemoteBatch(ready.events, ready.texts, True, ready.folded, signatures_checked=True)
        applied = RemoteEventService(stepped.ctx).apply_batch(
            batch, lambda tx: positions.append(_count(tx, "events")),
            ApplyMode.DOWNLOAD).result(timeout=60)
        assert applied.inserted == len(ready.events)
        assert len(at_each_step) == -(-len(ready.events) // 9) > 2
        assert all(wrong == [] for _, wrong in at_each_step)  # every step's rows are its fold
        # The stream position commits once, with the last step (a crash before it downloads
        # the earlier steps again, and inserting them again is a no-op).
        assert positions == [at_each_step[-1][0]] == [stepped.store.count_events()]
        assert _state(stepped) == _state(alone)
    finally:
        alone.close()
        stepped.close()


def _count(tx: Tx, table: str) -> int:
    return int(tx.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _rows_unlike_their_fold(tx: Tx) -> list[str]:
    wrong = []
    for row in tx.execute("SELECT id, status, uses FROM passes").fetchall():
        folded = fold(tx.events_for_pass(row["id"])).pass_
        if folded is None or (str(folded.status), folded.uses) != (row["status"], row["uses"]):
            wrong.append(row["id"])
    return wrong
