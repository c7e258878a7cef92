"""The CSV import dialog: progress while the file is imported (on the writes lane), then the
report — how many passes were made, which rows were skipped and why (line numbers as a
spreadsheet shows them) — with "Save report…" to keep the skipped rows as CSV."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QFileDialog, QHeaderView, QLabel, QProgressBar,
    QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from station.domain.errors import StationError
from station.services.imports import ImportReport, import_passes, write_report
from station.ui.ports import CoreParts as Core
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

SHOWN_ROWS = 1000  # skipped rows listed in the window; the saved report has them all


class ImportDialog(QDialog):
    """Runs one import of `path` and shows its report. `imported` carries the report (or None
    when the file could not be imported) once the work is over."""

    imported = Signal(object)
    report_saved = Signal(str)
    _total = Signal(int)  # emitted from the worker thread: Qt queues them to this one
    _done_rows = Signal(int)

    def __init__(self, core: Core, path: Path, writes: TaskRunner, reads: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._core = core
        self._path = Path(path)
        self._writes = writes
        self._reads = reads
        self._cancel = threading.Event()
        self.running = False
        self.report: ImportReport | None = None
        self.setWindowTitle("Import passes")
        self.setWindowModality(Qt.WindowModality.WindowModal)

        self.title = QLabel(f"Reading {self._path.name}…")
        self.title.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until the file has been read through once
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Line", "Reason", "Name", "Email"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.hide()

        buttons = QDialogButtonBox()
        self.cancel_button = buttons.addButton("Cancel import", QDialogButtonBox.ButtonRole.RejectRole)
        self.save_button = buttons.addButton("Save report…", QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.save_button.hide()
        self.close_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        self.save_button.clicked.connect(lambda: self.save_report())
        self.close_button.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(640, 200)

        self._total.connect(self._set_total)
        self._done_rows.connect(self.bar.setValue)

    # --- the import ------------------------------------------------------------------------
    def start(self) -> None:
        self.running = True
        core, path, cancel = self._core, self._path, self._cancel
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            self._done_rows.emit(done)

        def work() -> ImportReport:
            return import_passes(path, core.passes, core.clients, progress=step,
                                 on_total=self._total.emit, cancel=cancel)

        self._writes.run(work, self._finished, self._failed)

    @Slot(int)
    def _set_total(self, n: int) -> None:
        self.title.setText(f"Importing {n:,} rows from {self._path.name}…")
        self.bar.setRange(0, max(n, 1))

    def cancel(self) -> None:
        """Stop after the batch being written: the batches saved stay (each row is a pass
        once), and importing the file again adds the rows still missing."""
        if not self.running:
            self.reject()
            return
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self.title.setText(f"Cancelling after the rows being saved from {self._path.name}…")

    def _finished(self, report: ImportReport) -> None:
        self.running = False
        self.report = report
        self.bar.hide()
        self.cancel_button.hide()
        self.close_button.show()
        self.title.setText(("Import cancelled: " if report.cancelled else "Imported ")
                           + f"{self._path.name}.")
        self.summary.setText(summary_text(report))
        if report.errors:
            self._show_refused(report)
            self.save_button.show()
        self.close_button.setFocus()
        self.imported.emit(report)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.bar.hide()
        self.cancel_button.hide()
        self.close_button.show()
        self.title.setText(f"Nothing was imported from {self._path.name}.")
        if isinstance(exc, StationError):
            self.summary.setText(str(exc))
        else:
            log.error("import of %s failed", self._path, exc_info=exc)
            self.summary.setText(f"Something went wrong: {exc}. The details are in the log.")
        self.imported.emit(None)

    def _show_refused(self, report: ImportReport) -> None:
        shown = report.errors[:SHOWN_ROWS]
        self.table.setRowCount(len(shown))
        for row, (line, reason) in enumerate(shown):
            cells = [str(line), reason, report.cell(line, "name"), report.cell(line, "email")]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.show()
        self.resize(max(self.width(), 720), 460)

    # --- the saved report ------------------------------------------------------------------
    def ask_report_file(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Save import report", str(self._path.with_name(f"{self._path.stem}-skipped.csv")),
            "CSV files (*.csv)")
        return Path(name) if name else None

    def save_report(self, path: Path | None = None) -> None:
        """Write the skipped rows as CSV (off the GUI thread); `path` skips the file dialog."""
        report = self.report
        if report is None:
            return
        target = path or self.ask_report_file()
        if target is None:
            return

        def saved(count: int) -> None:
            self.summary.setText(f"{summary_text(report)}\nSaved {count:,} skipped rows to {target}.")
            self.report_saved.emit(str(target))

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, StationError):
                log.error("saving the import report failed", exc_info=exc)
            self.summary.setText(f"{summary_text(report)}\n{exc}")

        self._reads.run(lambda: write_report(report, target), saved, failed)

    # --- closing ---------------------------------------------------------------------------
    def reject(self) -> None:
        # Esc or the window's close button while rows are being written asks to cancel; the
        # dialog stays until the last batch is saved and says what was imported.
        if self.running:
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)


def summary_text(report: ImportReport) -> str:
    """The report in sentences, for the dialog."""
    parts = [f"{report.imported:,} passes imported."]
    if report.already_imported:
        parts.append(f"{report.already_imported:,} rows were already imported before and were skipped.")
    if report.errors:
        parts.append(f"{len(report.errors):,} rows were skipped; fix them in the file and import it "
                     "again (rows already imported are not doubled).")
        if len(report.errors) > SHOWN_ROWS:
            parts.append(f"The first {SHOWN_ROWS:,} are listed; Save report… keeps them all.")
    if report.cancelled:
        parts.append("The import was cancelled; importing the file again adds the rows still missing.")
    return " ".join(parts)
