"""The check-in lists (gates) of this venue: a table for everyone, New and Edit behind the
manager PIN like the pass actions. Read and written on the window's lanes, never on the GUI
thread; a list created or edited at another door shows when its event arrives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from station.domain.checkin_list import CheckinList, admits
from station.domain.errors import StationError
from station.domain.events import Event, EventType
from station.ui.list_dialog import ListDialog
from station.ui.ports import CoreParts
from station.ui.roles import Roles
from station.ui.workers import TaskRunner

COLUMNS = ("Name", "Admits", "Capacity", "Re-entry", "Check-out", "Rules")


class ListsView(QWidget):
    message = Signal(str)
    loaded = Signal()  # the table shows the lists as the store holds them (tests wait for it)

    def __init__(self, core: CoreParts, roles: Roles, reads: TaskRunner, writes: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._core, self._roles, self._reads, self._writes = core, roles, reads, writes
        self.lists: list[CheckinList] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.new_button = QPushButton("New list…")
        self.new_button.setObjectName("primary")
        self.edit_button = QPushButton("Edit…")
        self.hint = QLabel("Unlock manager mode to create or edit lists.")
        self.hint.setObjectName("muted")
        row = QHBoxLayout()
        row.addWidget(self.hint, 1)
        row.addWidget(self.new_button)
        row.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self.new_button.clicked.connect(self.new_list)
        self.edit_button.clicked.connect(self.edit_selected)
        self.table.itemSelectionChanged.connect(self._update_actions)
        roles.changed.connect(lambda _r: self._update_actions())
        self._update_actions()

    def _update_actions(self) -> None:
        manager = self._roles.is_manager
        self.new_button.setEnabled(manager)
        self.edit_button.setEnabled(manager and self.selected() is not None)
        self.hint.setVisible(not manager)

    def refresh(self) -> None:
        lists = self._core.lists
        self._reads.run(lists.all, self._show, lambda exc: self.message.emit(
            f"The lists could not be read: {exc}"))

    def _show(self, lists: list[CheckinList]) -> None:
        self.lists = sorted(lists, key=lambda lst: lst.name.lower())
        self.table.setRowCount(len(self.lists))
        for r, lst in enumerate(self.lists):
            cells = (lst.name, admits(lst) or "every pass", "no limit" if lst.capacity is None else f"{lst.capacity:,}",
                     "yes" if lst.reentry else "no", lst.checkout_at or "–", str(len(lst.rules)))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self._update_actions()
        self.loaded.emit()

    def selected(self) -> CheckinList | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        return self.lists[rows.pop()] if len(rows) == 1 and self.lists else None

    def ask_list(self, current: CheckinList | None) -> dict[str, Any] | None:
        """The checked changes from the dialog, or None when cancelled (tests replace this)."""
        dialog = ListDialog(current, self)
        return dialog.changes() if dialog.exec() == ListDialog.DialogCode.Accepted else None

    def new_list(self) -> None:
        if not self._roles.is_manager:
            return
        body = self.ask_list(None)
        if body is not None:
            lists, by = self._core.lists, str(self._roles.role)
            self._save(lambda: lists.create(body, by=by), "created")

    def edit_selected(self) -> None:
        current = self.selected()
        if current is None or not self._roles.is_manager:
            return
        changes = self.ask_list(current)
        if changes:
            lists, by = self._core.lists, str(self._roles.role)
            self._save(lambda: lists.edit(current.id, changes, by=by), "saved")

    def _save(self, fn: Any, done_word: str) -> None:
        def done(lst: CheckinList) -> None:
            self.message.emit(f"List {lst.name} {done_word}.")
            self.refresh()

        def failed(exc: BaseException) -> None:  # e.g. a name another list has: one sentence
            self.message.emit(str(exc) if isinstance(exc, StationError) else f"The list was not saved: {exc}")

        self._writes.run(fn, done, failed)

    def on_events(self, events: Sequence[Event]) -> None:
        if any(e.type is EventType.LIST_CHANGED for e in events) and self.isVisible():
            self.refresh()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()
