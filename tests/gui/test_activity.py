"""The Activity page: a date beside each time, so events from earlier days (synced from another
door, or a night that ran past midnight) are told apart from today's; and "Export scans…", the
CLI's CSV from the window."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from station.domain.events import Event, EventType
from station.domain.times import to_iso
from station.ui.activity_view import COLUMNS
from station.ui.main_window import MainWindow
from tests.gui.conftest import scan, unlock


def created(moment: datetime, name: str) -> Event:
    return Event(id=f"evt_{name}", type=EventType.PASS_CREATED, timestamp=to_iso(moment),
                 data={"name": name, "type": "single", "code": "X"}, origin="sta_other",
                 origin_seq=1, hlc="0")


def row_of(window: MainWindow, name: str) -> dict[str, str]:
    model = window.activity_view.model
    for r in range(model.rowCount()):
        cells = {c: str(model.index(r, i).data() or "") for i, c in enumerate(COLUMNS)}
        if cells["Pass"] == name:
            return cells
    raise AssertionError(f"{name} is not in the Activity table")


def test_activity_rows_carry_their_local_date(qtbot: Any, window: MainWindow) -> None:
    passes = window.core.passes
    p = passes.create(passes.validate("Dated Dora"))
    scan(qtbot, window, p.code)
    now = datetime.now(UTC)
    window.activity_view.on_events([created(now - timedelta(days=1), "Yesterday Yann"),
                                    created(now - timedelta(days=3), "Earlier Emma")])
    qtbot.waitUntil(lambda: window.activity_view.model.rowCount() >= 4, timeout=10000)
    today = row_of(window, "Dated Dora")
    assert today["Date"] == "Today"
    local = datetime.now().astimezone()
    assert today["Time"][:2] in {local.strftime("%H"), (local - timedelta(hours=1)).strftime("%H")}
    assert row_of(window, "Yesterday Yann")["Date"] == "Yesterday"
    earlier = (now - timedelta(days=3)).astimezone().date().isoformat()
    assert row_of(window, "Earlier Emma")["Date"] == earlier


def test_scans_export_from_the_window_is_the_cli_csv(
        qtbot: Any, window: MainWindow, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    passes = window.core.passes
    p = passes.create(passes.validate("Exported Ella"))
    scan(qtbot, window, p.code)
    scan(qtbot, window, "NoSuchCode12")
    exporter = window.scan_export
    target = tmp_path / "scans.csv"
    window.tabs.setCurrentWidget(window.activity_view)
    # door mode: no button, and nothing is written
    assert not window.activity_view.export.isVisibleTo(window)
    with qtbot.waitSignal(window.status.messageChanged, timeout=60000) as said:
        exporter.export_to(target)
    assert said.args[0] == "Unlock manager mode to export the scans." and not target.exists()

    unlock(qtbot, window, monkeypatch)
    assert window.activity_view.export.isVisibleTo(window)
    monkeypatch.setattr(exporter, "ask_file", lambda _parent: target)  # the QFileDialog's answer
    with qtbot.waitSignal(exporter.exported, timeout=60000):
        window.activity_view.export.click()
    assert window.status.currentMessage() == f"Exported 2 scans to {target}."
    # the very file `station scans export` writes
    cli("scans", "export", str(tmp_path / "by-cli.csv"))
    assert target.read_bytes() == (tmp_path / "by-cli.csv").read_bytes()
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["passName"], r["verdict"]) for r in rows] == [("Exported Ella", "accepted"), ("", "rejected")]

    # a folder that cannot be written: one sentence, nothing left behind
    nowhere = tmp_path / "missing" / "scans.csv"
    with qtbot.waitSignal(window.status.messageChanged, timeout=60000,
                          check_params_cb=lambda text: text.startswith("Could not write")) as failed:
        exporter.export_to(nowhere)
    assert "choose another folder" in failed.args[0] and "\n" not in failed.args[0]
    assert not nowhere.parent.exists()
