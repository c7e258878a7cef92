"""The outbox is written in the event's own transaction (Store.add_append_hook)."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.app import Core
from station.domain.events import Event, EventType
from station.net.integrations import Integrations
from station.store.db import Tx
from station.services.imports import import_passes


def outbox(core: Core) -> list[dict]:
    return [dict(r) for r in core.store.db().execute("SELECT * FROM webhook_deliveries ORDER BY seq")]


def test_a_committed_event_gets_one_row_per_matching_enabled_subscription(
        core: Core, integrations: Integrations) -> None:
    created = integrations.subscribe("pass.created", "https://93.184.215.14/a")
    integrations.subscribe("pass.created", "https://93.184.215.14/b")
    integrations.subscribe("client.created", "https://93.184.215.14/c")
    p = core.passes.create(core.passes.validate("Guest"))
    rows = outbox(core)
    assert len(rows) == 2 and {r["state"] for r in rows} == {"pending"}
    event_ids = {r["event_id"] for r in rows}
    assert event_ids == {e.id for e in core.store.events_for_pass(p.id) if e.type == "pass.created"}
    assert created.webhook.id in {r["webhook_id"] for r in rows}


def test_a_failing_transaction_leaves_no_outbox_rows(core: Core, integrations: Integrations) -> None:
    integrations.subscribe("pass.created", "https://93.184.215.14/a")
    def fails_after_writing(tx: Tx) -> None:
        core.passes.create_in(tx, core.passes.validate("Guest"), by="test")
        assert tx.execute("SELECT count(*) FROM webhook_deliveries").fetchone()[0] == 1
        raise RuntimeError("disk full, say")

    with pytest.raises(RuntimeError):
        core.store.write(fails_after_writing)
    assert outbox(core) == [] and core.store.count_events() == 0


def test_no_rows_for_replicated_internal_or_disabled(core: Core, integrations: Integrations) -> None:
    hook = integrations.subscribe("pass.scanned", "https://93.184.215.14/a").webhook
    integrations.subscribe("pass.status_changed", "https://93.184.215.14/b")
    foreign = Event(id="evt_peer1", type=EventType.PASS_SCANNED, timestamp="2026-06-01T18:00:00.000Z",
                    data={}, origin="sta_other", origin_seq=1, hlc="0000000000000000-0000")
    assert core.store.write(lambda tx: tx.append_event(foreign))
    p = core.passes.create(core.passes.validate("Guest"))
    core.scans.submit(p.code)  # pass.scanned + pass.status_changed (active → used)
    core.scans.undo(core.store.list_scans().items[0].id)  # scan.reverted: internal, never sent
    rows = outbox(core)
    types = sorted(r[0] for r in core.store.db().execute(
        "SELECT e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id").fetchall())
    assert types == ["pass.scanned", "pass.status_changed", "pass.status_changed"]
    assert "evt_peer1" not in {r["event_id"] for r in rows}
    core.store.write(lambda tx: tx.execute("UPDATE webhooks SET enabled = 0 WHERE id = ?", (hook.id,)))
    before = [r for r in outbox(core) if r["webhook_id"] == hook.id]
    core.scans.submit(p.code)  # pass.scanned again, but that subscription is disabled
    assert [r for r in outbox(core) if r["webhook_id"] == hook.id] == before


def test_a_hook_is_registered_once(core: Core) -> None:
    from station.store.webhooks import enqueue_deliveries

    core.store.add_append_hook(enqueue_deliveries)  # build_core already did
    assert core.store._append_hooks.count(enqueue_deliveries) == 1


def test_an_import_writes_the_outbox_rows_of_its_events_in_each_batch(
        core: Core, integrations: Integrations, tmp_path: Path) -> None:
    integrations.subscribe("pass.created", "https://93.184.215.14/a")
    integrations.subscribe("client.created", "https://93.184.215.14/c")
    source = tmp_path / "guests.csv"
    source.write_text("name,email\n" + "".join(f"G{i},g{i % 700}@x.io\n" for i in range(1500)))
    report = import_passes(source, core.passes, core.clients)
    assert report.imported == 1500
    rows = outbox(core)
    events = {r[0]: r[1] for r in core.store.db().execute("SELECT id, type FROM events")}
    assert sorted(events[r["event_id"]] for r in rows).count("pass.created") == 1500
    assert [events[r["event_id"]] for r in rows].count("client.created") == 700
    assert len({r["event_id"] for r in rows}) == len(rows) == len(events)
