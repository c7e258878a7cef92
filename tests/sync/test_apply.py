"""Applying a batch of remote events in bulk, over a real SQLite store (no hub needed)."""

from __future__ import annotations

from pathlib import Path

from station.app import Core, build_core
from station.domain.events import Event
from station.services.passes import PassService
from station.services.sync_apply import RemoteEventService


def test_bulk_applied_events_reach_the_append_hooks_once(core: Core, tmp_path: Path) -> None:
    # The webhook outbox is an append hook: events inserted in bulk by sync must reach it too,
    # inside the same transaction, and a redelivered batch must not reach it again.
    other = build_core(tmp_path / "other")
    try:
        created = other.passes.create_many([PassService.validate(f"Guest {i}") for i in range(30)])
        scanned = other.scans.submit(created[0].public_url)
        events = [e for p in created for e in other.store.events_for_pass(p.id)]
    finally:
        other.close()
    seen: list[Event] = []
    core.store.add_append_hook(lambda tx, event: seen.append(event))
    for key in other.ctx.keys.public_keys_b64():
        core.ctx.keys.trust(key)

    applied = RemoteEventService(core.ctx).apply(events + events[:5])  # with duplicates
    assert applied.inserted == len(events) and applied.duplicates == 5
    assert sorted(e.id for e in seen) == sorted(e.id for e in events)
    assert core.store.count_passes() == 30
    first = core.store.pass_by_id(created[0].id)
    assert first is not None and first.uses == 1 and scanned.accepted

    again = RemoteEventService(core.ctx).apply(events)
    assert again.inserted == 0 and len(seen) == len(events)
