"""GUI fixtures: a real station on a temporary data directory and its real window, offscreen."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from station.app import Station, StationOptions, build_station
from station.ui import pin as pins
from station.ui.main_window import MainWindow
from station.ui.settings import UiSettings
from station.ui.verdicts import VerdictView

PIN = "2468"


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    """Every thread a GUI test starts (workers, the station's parts) is gone when it ends."""
    before = {t.ident for t in threading.enumerate()}
    yield
    leftover = [t for t in threading.enumerate()
                if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)]
    for t in leftover:
        t.join(5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"threads still running after the test: {still}"


@pytest.fixture
def qsettings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "station.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot: Any, data_dir: Path, qsettings: QSettings) -> Iterator[Callable[..., MainWindow]]:
    made: list[tuple[MainWindow, Station]] = []

    def make(settings: UiSettings | None = None, demo: bool = False, **options: Any) -> MainWindow:
        # port 0: a free port, so parallel runs on this machine never collide
        station = build_station(StationOptions(data_dir=data_dir, demo=demo, api_port=0, **options))
        station.start()
        window = MainWindow(station, qsettings, settings, demo=demo)
        qtbot.addWidget(window)
        window.show()
        made.append((window, station))
        return window

    yield make
    for window, station in made:
        window.close()  # closeEvent shuts the worker lanes down
        for runner in (window.scan_lane, window.writes, window.reads):
            assert runner.threads_alive == 0, f"{runner.name} still has worker threads"
        station.stop()


@pytest.fixture
def window(make_window: Callable[..., MainWindow]) -> MainWindow:
    return make_window()


def scan(qtbot: Any, window: MainWindow, payload: str, source: str = "manual") -> VerdictView:
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as blocker:
        window.scan_view.submit(payload, source)
    # The door shows a verdict once its scan is in the door journal; what the tests read next
    # from the log (pass status, lists) is there once the merge has run.
    merged(qtbot, window)
    return blocker.args[0]


def merged(qtbot: Any, window: MainWindow) -> None:
    """Until the door journal's entries are all in the log."""
    qtbot.waitUntil(lambda: window.core.scans.merger.pending_count() == 0, timeout=60000)


def unlock(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """Manager mode through the real PIN path (hash stored, verified off the GUI thread)."""
    if not pins.has_pin(window.core.store):
        pins.set_pin(window.core.store, PIN)
    monkeypatch.setattr(window, "ask_pin", lambda choosing, note="": PIN)
    with qtbot.waitSignal(window.roles.changed, timeout=10000):
        window.toggle_lock()
    assert window.roles.is_manager
