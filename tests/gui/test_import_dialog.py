"""The import dialog: the report in the window (skipped rows with their line numbers, name and
e-mail), Save report…, a file that cannot be imported says why and imports nothing, Escape
cancels a running import, and the Passes search finds imported names without their accents."""

from __future__ import annotations

import contextlib
import csv
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from station.services.imports import BATCH
from station.ui.import_dialog import ImportDialog
from station.ui.main_window import MainWindow
from tests.gui.conftest import unlock

ROWS = [
    'Name,Email,Notes',
    '"Chloé\nMüller",chloe@example.com,"VIP\ntable 4"',   # lines 2-4
    ',nobody@example.com,no name',                           # line 5: skipped
    '"Bob\n\nBuilder",bob@example.com,',                     # lines 6-8
    'Eve,not-an-address,',                                   # line 9: skipped
]


def run_import(qtbot: Any, window: MainWindow, source: Path) -> ImportDialog:
    view = window.passes_view
    view.import_csv(source)
    dialog = view.import_dialog
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    return dialog


def test_the_report_lists_skipped_rows_and_saves_them(
        qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "guests.csv"
    source.write_bytes(("\ufeff" + "\r\n".join(ROWS) + "\r\n").encode("utf-8"))
    view = window.passes_view
    window.tabs.setCurrentWidget(view)
    unlock(qtbot, window, monkeypatch)
    with qtbot.waitSignal(view.message, timeout=60_000, check_params_cb=lambda t: t.startswith("Imported")) as got:
        dialog = run_import(qtbot, window, source)
    assert got.args[0] == "Imported 2 passes from guests.csv. 2 rows skipped: see the import report."

    assert dialog.isVisible() and dialog.table.isVisible() and dialog.save_button.isVisible()
    assert "2 passes imported." in dialog.summary.text()
    assert "2 rows were skipped" in dialog.summary.text()
    table = [[dialog.table.item(r, c).text() for c in range(4)] for r in range(dialog.table.rowCount())]
    assert table == [["5", "Name is required.", "", "nobody@example.com"],
                     ["9", "'not-an-address' is not an email address.", "Eve", "not-an-address"]]

    saved = tmp_path / "skipped.csv"
    with qtbot.waitSignal(dialog.report_saved, timeout=30_000):
        dialog.save_report(saved)
    with saved.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["line", "reason", "Name", "Email", "Notes"]
    assert [r[0] for r in rows[1:]] == ["5", "9"]
    assert f"Saved 2 skipped rows to {saved}" in dialog.summary.text()

    dialog.close_button.click()
    assert not dialog.isVisible()
    # The imported names are found as people type them, accents or not.
    view.search.setText("chloe muller")
    qtbot.waitUntil(lambda: view.model.total == 1 and view.model.rowCount() == 1, timeout=20_000)
    assert view.model.pass_at(0).name == "Chloé Müller"  # type: ignore[union-attr]


@pytest.mark.parametrize(("content", "says"), [
    (b"Full name;Mail\nAda;ada@example.com\n", "has no 'name' column"),
    ("Name\n".encode() + b"Guest\n" * 2000 + "Zoë\n".encode("latin-1"), "is not UTF-8 text"),
], ids=["no-name-column", "not-utf8-late"])
def test_a_file_that_cannot_be_imported_says_why_and_imports_nothing(
        qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        content: bytes, says: str) -> None:
    source = tmp_path / "guests.csv"
    source.write_bytes(content)
    window.tabs.setCurrentWidget(window.passes_view)
    unlock(qtbot, window, monkeypatch)
    dialog = run_import(qtbot, window, source)
    assert dialog.title.text() == "Nothing was imported from guests.csv."
    assert says in dialog.summary.text() and "\n" not in dialog.summary.text()
    assert not dialog.table.isVisible() and not dialog.save_button.isVisible()
    assert window.core.store.count_passes() == 0


def test_escape_during_an_import_cancels_it_after_the_rows_being_saved(
        qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A pipe, fed in two halves: the Escape lands while the import waits for the second half,
    # so the cancel is seen before the end of the file, whatever the machine's speed.
    pipe = tmp_path / "guests.fifo"
    os.mkfifo(pipe)
    first = "name\n" + "".join(f"Guest {i}\n" for i in range(2 * BATCH + 10))
    second_half = threading.Event()

    def feed() -> None:
        fh = pipe.open("w", encoding="utf-8")  # blocks until the import opens the pipe
        try:
            fh.write(first)
            fh.flush()
            second_half.wait(120)
            fh.write("".join(f"Guest {i}\n" for i in range(2 * BATCH + 10, 4 * BATCH)))
        except BrokenPipeError:
            pass  # the cancelled import stopped reading: the rest of the file is not wanted
        finally:
            with contextlib.suppress(BrokenPipeError):
                fh.close()

    feeder = threading.Thread(target=feed, name="test-feeder")
    feeder.start()
    try:
        window.tabs.setCurrentWidget(window.passes_view)
        unlock(qtbot, window, monkeypatch)
        window.passes_view.import_csv(pipe)
        dialog = window.passes_view.import_dialog
        qtbot.waitUntil(lambda: window.core.store.count_passes() >= BATCH, timeout=120_000)
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible() and not dialog.cancel_button.isEnabled()
        assert dialog.title.text().startswith("Cancelling")
    finally:
        second_half.set()
        feeder.join(120)
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    report = dialog.report
    assert report is not None and report.cancelled
    assert 0 < report.imported < 4 * BATCH and report.imported % BATCH == 0
    assert dialog.title.text() == "Import cancelled: guests.fifo."
    assert "importing the file again adds the rows still missing" in dialog.summary.text()
    assert window.core.store.count_passes() == report.imported
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # now it closes
    assert not dialog.isVisible()
