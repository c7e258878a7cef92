"""The doors enrolled with the hub this station hosts (Integrations → Sync, issue 15): their
names, ids and when each was last seen; removing a lost or stolen one; a new join URL. Every
action waits on the hub, so it runs on the writes lane, never on the GUI thread."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from station.domain.errors import StationError
from station.ui.ports import HubAdminPart
from station.ui.webhooks_view import fill_row, table
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

COLUMNS = ("Door", "Station id", "Last seen")


class HubStationsView(QGroupBox):
    message = Signal(str)
    changed = Signal()  # the list was shown again (after a refresh, a removal)

    def __init__(self, admin: HubAdminPart, writes: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__("Doors enrolled with this hub", parent)
        self._admin = admin
        self._writes = writes
        self.ids: list[str] = []
        self.names: list[str] = []
        self.table = table(COLUMNS, 0)
        self.refresh_button = QPushButton("Refresh")
        self.remove = QPushButton("Remove the selected door")
        self.remove.setToolTip("For a lost or stolen laptop: it is disconnected at once, and "
                               "passes it signs from now on are refused at every door.")
        self.rotate = QPushButton("New join URL")
        self.rotate.setToolTip("The old join URL stops enrolling; enrolled doors keep working. "
                               "The new one goes to the clipboard.")
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.remove, self.rotate):
            buttons.addWidget(button)
        buttons.addStretch()
        column = QVBoxLayout(self)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        column.addWidget(self.error)
        self.refresh_button.clicked.connect(self.refresh)
        self.remove.clicked.connect(self.remove_selected)
        self.rotate.clicked.connect(self.new_join_url)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        # Read when shown and on Refresh only: each read connects to the hub.
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        self._writes.run(self._admin.stations, self._show, self._failed)

    def _show(self, listed: list[Any]) -> None:
        self.error.setText("")
        self.table.setRowCount(len(listed))
        self.ids = [item.station.station_id for item in listed]
        self.names = [item.station.name for item in listed]
        for r, item in enumerate(listed):
            seen = (item.last_seen or "unknown")[:19].replace("T", " ")
            fill_row(self.table, r, (item.station.name, item.station.station_id, seen))
        self.changed.emit()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, StationError):
            self.error.setText(str(exc))
        else:
            log.error("enrolled doors: %s", exc, exc_info=exc)
            self.error.setText("That did not work; see the log.")

    def confirm_remove(self, name: str) -> bool:
        answer = QMessageBox.question(
            self, "Remove door",
            f"Remove \u201c{name}\u201d from the organisation? It is disconnected at once and "
            "the passes it signs from now on are refused; to use it again, set it up anew.")
        return answer == QMessageBox.StandardButton.Yes

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self.ids):
            self.error.setText("Select the door to remove first.")
            return
        station_id, name = self.ids[row], self.names[row]
        if not self.confirm_remove(name):
            return
        self._writes.run(lambda: self._admin.remove(station_id), self._removed, self._failed)

    def _removed(self, result: tuple[Any, str | None]) -> None:
        station, not_put = result
        text = f"{station.name} removed: its credential no longer works."
        if not_put is not None:
            text += " Other doors learn of it when the hub next starts."
        self.message.emit(text)
        self.refresh()

    def new_join_url(self) -> None:
        self._writes.run(self._admin.rotate_join, self._rotated, self._failed)

    def _rotated(self, url: str) -> None:
        QGuiApplication.clipboard().setText(url)
        self.message.emit("New join URL copied; the old one no longer enrols.")
