"""Offline conflicts reach the window: two doors that were apart both admitted one pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from station.app import build_core
from station.domain.models import PassStatus, Verdict
from station.services.sync_apply import RemoteEventService
from tests.gui.conftest import scan


def test_a_double_admission_from_another_door_is_highlighted(qtbot: Any, window: Any,
                                                             tmp_path: Path) -> None:
    here = window.core
    p = here.passes.create(here.passes.validate("Twice Tom"))
    other = build_core(tmp_path / "door-b")
    try:
        # Door B learned of the pass before the network went down …
        RemoteEventService(other.ctx).apply(here.store.events_for_pass(p.id))
        # … then both doors admitted it while apart.
        assert scan(qtbot, window, p.code).word == "ACCEPTED"
        assert other.scans.submit(p.code, "camera").verdict is Verdict.ACCEPTED
        remote = [e for e in other.store.events_for_pass(p.id) if e.origin == other.store.station_id]
    finally:
        other.close()
    # The network returns: door B's events arrive here.
    RemoteEventService(here.ctx).apply(remote)
    stored = here.store.pass_by_id(p.id)
    assert stored is not None and stored.conflicts == 1 and stored.status is PassStatus.USED

    activity = window.activity_view
    conflict_role = Qt.ItemDataRole.UserRole + 1

    def conflict_rows() -> list[int]:
        return [r for r in range(activity.model.rowCount())
                if activity.model.index(r, 0).data(conflict_role)]

    qtbot.waitUntil(lambda: len(conflict_rows()) >= 1, timeout=10000)
    row = conflict_rows()[0]
    assert activity.model.index(row, 2).data().startswith("⚠ ")
    assert activity.model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "duplicate_offline" in activity.model.index(row, 4).data()
