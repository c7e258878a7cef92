"""The Activity page: a date beside each time, so events from earlier days (synced from another
door, or a night that ran past midnight) are told apart from today's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from station.domain.events import Event, EventType
from station.domain.times import to_iso
from station.ui.activity_view import COLUMNS
from station.ui.main_window import MainWindow
from tests.gui.conftest import scan


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
