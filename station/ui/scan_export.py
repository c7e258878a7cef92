""""Export scans…" in the window (manager only): the same CSV as `station scans export FILE`,
written by the same service on a worker lane, the result said in one sentence."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from station.domain.errors import StationError
from station.services.imports import export_scans
from station.ui.roles import Roles
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)


class ScanExporter(QObject):
    message = Signal(str)
    exported = Signal(int, str)  # scans written, file (for tests and the status bar)

    def __init__(self, store: Any, roles: Roles, lane: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.roles = roles
        self._lane = lane

    def ask_file(self, parent: QWidget | None) -> Path | None:
        """Where to write, or None when cancelled (tests replace this)."""
        chosen, _filter = QFileDialog.getSaveFileName(parent, "Export scans", str(Path.home() / "scans.csv"),
                                                      "CSV files (*.csv)")
        return Path(chosen) if chosen else None

    def choose_and_export(self, parent: QWidget | None = None) -> None:
        if not self.roles.is_manager:
            self.message.emit("Unlock manager mode to export the scans.")
            return
        path = self.ask_file(parent)
        if path is not None:
            self.export_to(path)

    def export_to(self, path: Path) -> None:
        """Write every scan to `path` off the GUI thread (a long log takes a while)."""
        if not self.roles.is_manager:
            self.message.emit("Unlock manager mode to export the scans.")
            return
        store = self._store
        self._lane.run(lambda: export_scans(store, path), lambda count: self._done(count, path), self._failed)

    def _done(self, count: int, path: Path) -> None:
        self.message.emit(f"Exported {count} scan{'' if count == 1 else 's'} to {path}.")
        self.exported.emit(count, str(path))

    def _failed(self, exc: BaseException) -> None:
        if not isinstance(exc, StationError):
            log.error("exporting scans failed", exc_info=exc)
        self.message.emit(str(exc) if isinstance(exc, StationError) else f"The scans were not exported: {exc}")
