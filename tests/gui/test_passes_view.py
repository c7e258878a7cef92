"""Passes view: revoke from the table changes the row and the next scan; door mode cannot;
search and filters on a 100k-pass store without freezing the window."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

from station.domain.models import PassStatus
from station.ui.main_window import MainWindow
from station.ui.verdicts import Kind
from tests.gui.conftest import scan, unlock


def row_of(window: MainWindow, code: str) -> int | None:
    model = window.passes_view.model
    for row in range(model.rowCount()):
        p = model.pass_at(row)
        if p is not None and p.code == code:
            return row
    return None


def status_in_table(window: MainWindow, code: str) -> PassStatus | None:
    """The row's status; None while the model reloads and the row is not there yet."""
    row = row_of(window, code)
    found = window.passes_view.model.pass_at(row) if row is not None else None
    return found.status if found is not None else None


def test_revoke_from_the_passes_view_changes_the_row_and_the_next_scan(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    passes = window.core.passes
    p = passes.create(passes.validate("Refund Rita"))
    passes.create(passes.validate("Someone Else"))
    view = window.passes_view
    window.tabs.setCurrentWidget(view)
    view.model.reload()
    qtbot.waitUntil(lambda: row_of(window, p.code) is not None, timeout=5000)
    unlock(qtbot, window, monkeypatch)
    view.select_row(row_of(window, p.code))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: view.detail.pass_ is not None and view.detail.pass_.code == p.code, timeout=5000)
    assert view.detail.qr.pixmap() is not None and not view.detail.qr.pixmap().isNull()
    asked: list[str] = []

    def ask(target: Any) -> str:
        asked.append(target.code)
        return "refund"

    monkeypatch.setattr(view, "ask_revoke_reason", ask)
    assert view.detail.revoke.isEnabled()
    qtbot.mouseClick(view.detail.revoke, Qt.MouseButton.LeftButton)
    model = view.model
    qtbot.waitUntil(lambda: status_in_table(window, p.code) is PassStatus.REVOKED,
                    timeout=5000)
    assert asked == [p.code]
    status_cell = model.index(row_of(window, p.code), 3)  # type: ignore[arg-type]
    assert model.data(status_cell) == "revoked"
    qtbot.waitUntil(lambda: any("revoked → " in view.detail.history.item(i).text() or
                                "active → revoked" in view.detail.history.item(i).text()
                                for i in range(view.detail.history.count())), timeout=5000)
    assert view.detail.activate.isEnabled() and not view.detail.revoke.isEnabled()
    refused = scan(qtbot, window, p.code)
    assert refused.kind is Kind.REFUSED
    assert window.scan_view.card.title.text() == "Revoked by manager: refund"
    # and back: Activate makes the pass scan again
    qtbot.mouseClick(view.detail.activate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status_in_table(window, p.code) is PassStatus.ACTIVE,
                    timeout=5000)
    assert scan(qtbot, window, p.code).kind is Kind.ACCEPTED


def test_door_mode_cannot_change_passes(qtbot: Any, window: MainWindow) -> None:
    passes = window.core.passes
    p = passes.create(passes.validate("Door Dora"))
    view = window.passes_view
    view.model.reload()
    qtbot.waitUntil(lambda: row_of(window, p.code) is not None, timeout=5000)
    view.select_row(row_of(window, p.code))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: view.detail.pass_ is not None, timeout=5000)
    assert not view.detail.revoke.isEnabled()
    assert not view.create_button.isEnabled() and not view.import_.isEnabled()
    view.revoke_selected()  # even if called, nothing changes without the PIN
    assert window.core.passes.get(p.code).status is PassStatus.ACTIVE
    assert view.detail.export.isEnabled()  # looking up and exporting a QR is door work


def test_export_qr_png_has_the_name_and_code_under_a_qr_that_still_decodes(
        qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    from PySide6.QtGui import QImage

    from station.capture.decode_files import decode_file
    from station.capture.ladder import DecodeLadder
    from station.ui.pass_qr import qr_png

    passes = window.core.passes
    p = passes.create(passes.validate("Chloé Müller-Printed"))
    view = window.passes_view
    view.model.reload()
    qtbot.waitUntil(lambda: row_of(window, p.code) is not None, timeout=5000)
    view.select_row(row_of(window, p.code))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: view.detail.pass_ is not None, timeout=5000)
    target = tmp_path / "qr.png"
    monkeypatch.setattr(view, "ask_export_file", lambda _p: target)
    view.export_selected_qr()
    qtbot.waitUntil(target.exists, timeout=60_000)

    found = decode_file(target, DecodeLadder())  # the station's own decoder, from the file
    prefix, _, digits = p.public_url.rpartition("/")
    # the QR holds publicUrl with its prefix in upper case (alphanumeric mode: a smaller code)
    assert [d.text for d in found.detections] == [f"{prefix.upper()}/{digits}"]
    image = QImage(str(target))
    assert image.text("Title") == p.name and image.text("Description") == f"Pass {p.code}"
    qr_alone = QImage.fromData(qr_png(p.public_url, scale=10))
    assert image.height() > qr_alone.height() + 40  # room for two lines of text
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(grey.constBits(), np.uint8).reshape(grey.height(), grey.bytesPerLine())
    below = pixels[qr_alone.height():, :grey.width()]
    ink_rows = np.flatnonzero((below < 128).any(axis=1))
    assert len(ink_rows) > 20  # text, not a blank strip
    # Two lines: the name, then the code, with white between them.
    assert np.any(np.diff(ink_rows) > 1)


def write_csv(path: Path, n: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "type", "max uses"])
        for i in range(n):
            if i % 10 == 0:
                w.writerow([f"Multi Guest {i:06d}", "multi", "3"])
            else:
                w.writerow([f"Guest {i:06d}", "single", ""])


class Heartbeat:
    """A 10 ms timer on the GUI thread; the longest gap between ticks is the longest freeze."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.clock = QElapsedTimer()
        self.last = 0
        self.longest = 0
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.clock.start()
        self.last = 0
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def stop(self) -> int:
        self.timer.stop()
        return self.longest


def test_100k_passes_import_search_and_filter_without_freezing(
        qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 100_000
    source = tmp_path / "guests.csv"
    write_csv(source, n)
    view = window.passes_view
    window.tabs.setCurrentWidget(view)
    unlock(qtbot, window, monkeypatch)
    beat = Heartbeat()
    beat.start()
    started = time.perf_counter()
    with qtbot.waitSignal(view.message, timeout=240_000, check_params_cb=lambda t: t.startswith("Imported")) as got:
        view.import_csv(source)
    imported_s = time.perf_counter() - started
    import_stall = beat.stop()
    assert got.args[0].startswith(f"Imported {n:,} passes")
    gui_thread = threading.get_ident()
    assert window.writes.ran_on() and gui_thread not in window.writes.ran_on()

    beat.start()
    qtbot.waitUntil(lambda: view.model.total == n, timeout=30_000)
    assert view.model.rowCount() <= 400  # paged: never everything at once
    # scroll to the bottom a few times: more pages arrive lazily
    for _ in range(3):
        view.table.scrollToBottom()
        qtbot.waitUntil(lambda: not view.model.loading, timeout=10_000)
        qtbot.wait(50)
    assert 200 < view.model.rowCount() < n
    # search by name (LIKE over 100k rows), then an exact code, then filters
    view.search.setText("Guest 042421")
    qtbot.waitUntil(lambda: view.model.total == 1 and view.model.rowCount() == 1, timeout=20_000)
    code = view.model.pass_at(0).code  # type: ignore[union-attr]
    view.search.setText(code)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and view.model.pass_at(0).code == code, timeout=20_000)  # type: ignore[union-attr]
    view.search.setText("")
    view.kind.setCurrentIndex(view.kind.findData("multi"))
    qtbot.waitUntil(lambda: view.model.total == n // 10, timeout=20_000)
    assert all(view.model.pass_at(r).type == "multi" for r in range(view.model.rowCount()))  # type: ignore[union-attr]
    view.status.setCurrentIndex(view.status.findData("revoked"))
    qtbot.waitUntil(lambda: view.model.total == 0 and view.model.rowCount() == 0, timeout=20_000)
    browse_stall = beat.stop()
    assert gui_thread not in window.reads.ran_on()
    print(f"\n100k passes: import {imported_s:.1f} s, longest GUI stall during import {import_stall} ms, "
          f"during browse/search/filter {browse_stall} ms")


def test_create_pass_from_the_window(qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    view = window.passes_view
    unlock(qtbot, window, monkeypatch)
    monkeypatch.setattr(view, "ask_new_pass", lambda: {
        "name": "Walk-in Wanda", "email": "wanda@example.com", "type": "multi", "max_uses": 3,
        "valid_until": None})
    with qtbot.waitSignal(view.message, timeout=10000, check_params_cb=lambda t: t.startswith("Created")):
        qtbot.mouseClick(view.create_button, Qt.MouseButton.LeftButton)
    created = window.core.passes.list(search="Walk-in Wanda").items
    assert len(created) == 1 and created[0].max_uses == 3 and created[0].client_id
    qtbot.waitUntil(lambda: row_of(window, created[0].code) is not None, timeout=5000)  # the table reloads
    # bad input is refused with its reason and creates nothing
    monkeypatch.setattr(view, "ask_new_pass", lambda: {"name": "  ", "type": "single"})
    with qtbot.waitSignal(view.message, timeout=10000) as refused:
        view.create_pass()
    assert "Name" in refused.args[0]
    assert window.core.store.count_passes() == 1


def test_activity_view_lists_events_newest_first_and_filters(qtbot: Any, window: MainWindow) -> None:
    from tests.gui.conftest import scan

    passes = window.core.passes
    p = passes.create(passes.validate("Logged Lena"))
    scan(qtbot, window, p.code)
    scan(qtbot, window, p.code)
    activity = window.activity_view
    qtbot.waitUntil(lambda: activity.model.rowCount() >= 4, timeout=5000)  # created, scanned x2, used
    whats = [activity.proxy.index(r, 2).data() for r in range(activity.proxy.rowCount())]
    assert whats[0] == "Refused" and "Pass created" in whats
    activity.kind.setCurrentText("Scans")
    assert [activity.proxy.index(r, 2).data() for r in range(activity.proxy.rowCount())] == ["Refused", "Admitted"]
    activity.search.setText("already used")
    assert activity.proxy.rowCount() == 1


def test_importing_the_same_file_again_says_its_rows_were_already_imported(
        qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "guests.csv"
    write_csv(source, 30)
    view = window.passes_view
    window.tabs.setCurrentWidget(view)
    unlock(qtbot, window, monkeypatch)
    messages: list[str] = []
    for _ in range(2):
        with qtbot.waitSignal(view.message, timeout=60_000,
                              check_params_cb=lambda t: t.startswith("Imported")) as got:
            view.import_csv(source)
        messages.append(got.args[0])
    assert messages == ["Imported 30 passes from guests.csv.",
                        "Imported 0 passes from guests.csv. 30 rows were already imported."]
    assert window.core.store.count_passes() == 30
