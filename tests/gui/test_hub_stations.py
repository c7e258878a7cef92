"""Issue 15 in the window: on the door that hosts the hub, Integrations → Sync (manager PIN)
lists the doors enrolled with it, removes one, and makes a new join URL. Real nats-server, a
real second station, Qt offscreen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from station.app import StationOptions, build_station
from station.net.sync.enrol import join_refused
from station.net.sync.url import SyncTarget
from station.ui.main_window import MainWindow
from tests.gui.conftest import unlock
from tests.sync.conftest import free_port, wait_for
from tests.sync.test_enrolment import enrolled


@pytest.mark.allow_log("station.net.sync.client", "refused this join URL")
@pytest.mark.allow_log("station.services.key_trust", "was removed from the organisation")
def test_the_hosting_window_lists_removes_and_renews_the_join_url(
        qtbot: Any, make_window: Callable[..., MainWindow], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(host_hub=True, hub_port=free_port(), sweep_interval_s=3600)
    sync = window.station.sync
    assert sync is not None
    join = sync.join_url()
    assert join is not None
    door = build_station(StationOptions(data_dir=tmp_path / "door-b", sync_url=join,
                                        api_enabled=False, sweep_interval_s=3600))
    door.core.store.set_setting("station_name", "Door B")
    door.start()
    try:
        wait_for(lambda: enrolled(door), what="door B to enrol")
        unlock(qtbot, window, monkeypatch)
        window.open_integrations()
        page = window.integrations_view
        page.sections.setCurrentWidget(page.sync)
        stations = page.sync.stations
        assert stations is not None

        def listed() -> bool:
            stations.refresh()
            return door.core.ctx.station_id in stations.ids

        qtbot.waitUntil(listed, timeout=60000)
        assert stations.table.item(0, 0).text() == "Door B"

        # Remove it (confirmed): disconnected, gone from the list.
        stations.table.selectRow(stations.ids.index(door.core.ctx.station_id))
        monkeypatch.setattr(stations, "confirm_remove", lambda name: True)
        with qtbot.waitSignal(stations.changed, timeout=60000):
            stations.remove_selected()
        qtbot.waitUntil(lambda: door.core.ctx.station_id not in stations.ids, timeout=60000)
        wait_for(lambda: door.sync is not None and not door.sync.status().connected,
                 what="door B to be disconnected")

        # A new join URL: on the clipboard, and the old one no longer enrols.
        with qtbot.waitSignal(stations.message, timeout=60000):
            stations.new_join_url()
        fresh = QGuiApplication.clipboard().text()
        assert fresh.startswith("tls://enrol:") and fresh != join
        assert sync.join_url() == fresh
        late = build_station(StationOptions(data_dir=tmp_path / "door-c", sync_url=join,
                                            api_enabled=False, sweep_interval_s=3600))
        late.start()
        try:
            wait_for(lambda: late.sync is not None
                     and late.sync.status().error == join_refused(SyncTarget.parse(join)),
                     what="the old join URL to be refused")
        finally:
            late.stop()
    finally:
        door.stop()
