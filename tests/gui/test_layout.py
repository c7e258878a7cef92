"""The whole door fits a 1024×768 laptop and stays usable at 800×600 (issue 11, part 3).

A real window, offscreen, with the application's stylesheet (its fonts and paddings are what made
the window too wide), and the longest status texts the station writes. Every check is geometry:
the window keeps the width it was given, and each door control lies fully inside it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QWidget

from station.capture.loop import CaptureState
from station.ui.main_window import MainWindow
from station.ui.resources import stylesheet
from station.ui.sync_format import SyncLine
from station.ui.verdicts import Kind, VerdictView, not_recorded
from tests.gui.conftest import scan, unlock

SIZES = [(1024, 768), (800, 600)]
CAMERA_ERROR = "VIDIOC_STREAMON: No such device (/dev/video0 was unplugged or is used by another program)"
API_TEXT = "API: http://192.168.178.120:8765 (also http://127.0.0.1:8765)"
SYNC_TEXT = ("Sync: last synced 12 min ago · 1,234 pending · hub nats://hub.venue.example.org:4222 "
             "· unreachable")
WEBHOOK_WARNING = ("⚠ Webhook to https://hooks.example.org/very/long/path/for/checkins is disabled: "
                   "5 failed deliveries in a row")
LONG_NAME = "Maximiliane Wilhelmine von Hohenzollern-Sigmaringen"


@pytest.fixture(autouse=True)
def app_stylesheet(qapp: QApplication) -> Iterator[None]:
    """The real look: `station gui` sets this stylesheet on the application."""
    before = qapp.styleSheet()
    qapp.setStyleSheet(stylesheet())
    yield
    qapp.setStyleSheet(before)


def longest_status(qtbot: Any, window: MainWindow) -> None:
    """The longest lines each status label gets, kept there (the 2 s refresh is stopped)."""
    window._net_timer.stop()
    # the first refresh runs on a reader: let it land before writing over it
    qtbot.waitUntil(lambda: window.status.api.text() != "API: off", timeout=60000)
    window.status.set_camera(CaptureState.LOST, 0.0, CAMERA_ERROR)
    window._show_network_status((API_TEXT, SyncLine(SYNC_TEXT, True), WEBHOOK_WARNING, True))


def set_size(qtbot: Any, window: MainWindow, width: int, height: int) -> None:
    """Resize as a person would; a minimum size larger than asked keeps the window larger."""
    window.resize(width, height)
    for _ in range(3):  # the layouts settle: wrapped rows, hidden columns, elided labels
        QApplication.processEvents()


def inside(window: MainWindow, widget: QWidget) -> bool:
    """Shown, not squeezed to nothing, and wholly within the window's client area."""
    if not widget.isVisible() or widget.width() <= 0 or widget.height() <= 0:
        return False
    top_left = widget.mapTo(window, QPoint(0, 0))
    return window.rect().contains(QRect(top_left, widget.size()))


def door_controls(window: MainWindow) -> dict[str, QWidget]:
    view = window.scan_view
    return {"verdict word": view.card.word, "code box": view.entry, "Check": view.check,
            "Undo": view.undo_button, "Manager/Lock": window.lock_button,
            "station name": window.station_label, "list picker": view.door_panel.list_picker,
            "Exit": view.door_panel.exit_button, "inside now": view.door_panel.inside,
            **({"offline marker": view.door_panel.offline_marker}
               if view.door_panel.offline else {})}


def assert_door_fits(window: MainWindow, width: int, height: int) -> None:
    assert window.size().toTuple() == (width, height), (
        f"the window was forced to {window.size().toTuple()} (minimum {window.minimumSizeHint().toTuple()})")
    for name, widget in door_controls(window).items():
        assert inside(window, widget), f"{name} is not fully inside the {width} px window"
    word = window.scan_view.card.word
    drawn = QFontMetrics(word.font()).horizontalAdvance(word.text())
    assert drawn <= word.width(), f"{word.text()!r} needs {drawn} px but has {word.width()}"
    entry = window.scan_view.entry
    assert entry.width() >= 180, "the code box shrank below a code's width"
    for name in ("Check", "Undo", "Manager/Lock"):
        button = door_controls(window)[name]
        assert button.sizeHint().width() <= button.width(), f"{name}'s text is cut: {button.text()!r}"


@pytest.mark.parametrize("manager", [False, True], ids=["door", "manager"])
@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_whole_door_is_visible(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch,
                                   width: int, height: int, manager: bool) -> None:
    if manager:
        unlock(qtbot, window, monkeypatch)
    window.tabs.setCurrentWidget(window.scan_view)
    longest_status(qtbot, window)
    window.station_label.setText("Main entrance, north gate — Messe Frankfurt Halle 3 (left of the cloakroom)")
    set_size(qtbot, window, width, height)
    assert_door_fits(window, width, height)
    status = window.status
    assert status.camera.isVisible() and "Camera lost" in status.camera.text()
    assert status.camera.toolTip() == status.camera.text()  # the cut line is whole on hover
    assert status.role.isVisible() and not status.role.is_elided(), "Door/Manager mode is cut"

    # The longest verdict word, and an admission whose Undo carries a long name.
    window.scan_view.card.show_view(not_recorded("The disk is full: nothing was admitted."))
    QApplication.processEvents()
    assert_door_fits(window, width, height)
    # a word that cannot wrap (a signed token in a reason, a name without spaces) is cut at
    # the card's edge, never widens the window
    unbroken = "eyJhbGciOiJFZERTQSJ9" * 6
    window.scan_view.card.show_view(VerdictView(Kind.REFUSED, "".join(LONG_NAME.split()), unbroken))
    QApplication.processEvents()
    assert_door_fits(window, width, height)
    p = window.core.passes.create(window.core.passes.validate(LONG_NAME))
    assert scan(qtbot, window, p.code).word == "ACCEPTED"
    # the name, shortened as much as Undo's row needs
    qtbot.waitUntil(lambda: window.scan_view.undo_button.text().startswith("Undo Maximiliane"),
                    timeout=60000)
    QApplication.processEvents()
    assert_door_fits(window, width, height)


@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_view_fits_the_width(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch,
                                   width: int, height: int) -> None:
    unlock(qtbot, window, monkeypatch)
    longest_status(qtbot, window)
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        set_size(qtbot, window, width, height)
        assert window.size().toTuple() == (width, height), (
            f"{window.tabs.tabText(i)} forced the window to {window.size().toTuple()}")
        assert inside(window, window.lock_button)


@pytest.mark.parametrize("width, height, least", [(1024, 768, 150), (800, 600, 120)])
def test_passes_name_column_keeps_a_useful_width(qtbot: Any, window: MainWindow, width: int,
                                                 height: int, least: int) -> None:
    window.core.passes.create(window.core.passes.validate(LONG_NAME))
    window.tabs.setCurrentWidget(window.passes_view)
    set_size(qtbot, window, width, height)
    table = window.passes_view.table
    qtbot.waitUntil(lambda: table.model().rowCount() == 1, timeout=60000)
    assert table.columnWidth(0) >= least, f"Name is {table.columnWidth(0)} px wide"
    assert not table.isColumnHidden(1) and not table.isColumnHidden(3), "Code and Status stay"
    for button in (window.passes_view.create_button, window.passes_view.import_):
        assert inside(window, button)


@pytest.mark.parametrize("width, height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_a_long_message_shows_in_full(qtbot: Any, window: MainWindow, width: int, height: int) -> None:
    window.tabs.setCurrentWidget(window.scan_view)
    set_size(qtbot, window, width, height)
    text = ("Imported 2 passes from guests-with-a-rather-long-file-name-2026.csv. 3 rows skipped "
            "(line 4: the name is empty; line 9: 'quarterly' is not a pass type; line 12: the "
            "e-mail address 'ada@' is not valid).")
    window.show_message(text)
    banner = window.message_banner
    qtbot.waitUntil(banner.isVisible, timeout=60000)
    QApplication.processEvents()
    assert banner.text() == text
    assert inside(window, banner)
    # every line of the wrapped sentence is drawn: the banner is as tall as its text needs
    assert banner.height() >= banner.heightForWidth(banner.width())
    assert window.size().toTuple() == (width, height)
    assert_door_fits(window, width, height)  # the banner takes no door control's place
    assert window.status.currentMessage() == text  # listeners of the status bar still get it
    qtbot.mouseClick(banner, Qt.MouseButton.LeftButton)  # read: a click puts it away
    assert not banner.isVisible() and window.status.currentMessage() == ""
