"""The check-in lists (gates) of this venue: a table for everyone; New, Edit, Delete, everyone
out (of the chosen list, or of the venue) and the venue's zone and daily check-out behind the
manager PIN like the pass actions, the destructive ones confirmed first. Read and written on
the window's lanes, never on the GUI thread; a list created, edited or deleted at another door
shows when its event arrives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QLabel, QMessageBox, QPushButton, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from station.domain.checkin_list import CheckinList, admits
from station.domain.errors import StationError
from station.domain.events import Event, EventType
from station.services.venue import Venue
from station.ui.list_dialog import ListDialog
from station.ui.venue_dialog import VenueDialog
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
        self.venue = Venue(None, None)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.new_button = QPushButton("New list…")
        self.new_button.setObjectName("primary")
        self.edit_button = QPushButton("Edit…")
        self.delete_button = QPushButton("Delete…")
        self.out_button = QPushButton("Everyone out…")
        self.venue_label = QLabel()
        self.venue_label.setWordWrap(True)
        self.venue_button = QPushButton("Venue…")
        self.hint = QLabel("Unlock manager mode to create or edit lists.")
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)  # the window must fit 800 px wide (tests/gui/test_layout.py)
        row = QHBoxLayout()
        row.addWidget(self.hint, 1)
        row.addWidget(self.new_button)
        row.addWidget(self.edit_button)
        row.addWidget(self.delete_button)
        venue_row = QHBoxLayout()
        venue_row.addWidget(self.venue_label, 1)
        venue_row.addWidget(self.out_button)
        venue_row.addWidget(self.venue_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addLayout(venue_row)
        self.new_button.clicked.connect(self.new_list)
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.out_button.clicked.connect(self.everyone_out)
        self.venue_button.clicked.connect(self.edit_venue)
        self.table.itemSelectionChanged.connect(self._update_actions)
        roles.changed.connect(lambda _r: self._update_actions())
        self._update_actions()

    def _update_actions(self) -> None:
        manager = self._roles.is_manager
        self.new_button.setEnabled(manager)
        chosen = self.selected()
        self.edit_button.setEnabled(manager and chosen is not None)
        self.delete_button.setEnabled(manager and chosen is not None)
        self.out_button.setEnabled(manager)
        self.out_button.setText(f"Everyone out of {_short(chosen.name)}…" if chosen
                                else "Everyone out of the venue…")
        self.venue_button.setEnabled(manager)
        self.hint.setVisible(not manager)

    def refresh(self) -> None:
        lists, venue = self._core.lists, self._core.venue
        self._reads.run(lambda: (lists.all(), venue.get()), self._show,
                        lambda exc: self.message.emit(f"The lists could not be read: {exc}"))

    def _show(self, got: tuple[list[CheckinList], Venue]) -> None:
        lists, self.venue = got
        self.venue_label.setText(
            f"Venue: time zone {self.venue.timezone or 'of this computer'} · everyone out "
            + (f"every day at {self.venue.checkout_at}" if self.venue.checkout_at else "never"))
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

    def confirm(self, question: str) -> bool:
        """The manager's yes to a destructive action (tests replace this)."""
        answer = QMessageBox.question(self, "Station", question)
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> None:
        current = self.selected()
        if current is None or not self._roles.is_manager:
            return
        if self.confirm(f"Delete the list {current.name}? Every door set to it will refuse "
                        "entries, and everyone on it is checked out."):
            lists, by = self._core.lists, str(self._roles.role)
            self._save(lambda: lists.delete(current.id, by=by), "deleted")

    def everyone_out(self) -> None:
        if not self._roles.is_manager:
            return
        current = self.selected()
        where = f"everyone on {current.name}" if current else "everyone in the venue"
        if not self.confirm(f"Check {where} out now, at every door?"):
            return
        lists, by = self._core.lists, str(self._roles.role)
        ref = current.id if current else None
        self._writes.run(lambda: lists.checkout(ref, by=by),
                         lambda now: self._said(f"Checked {where} out; inside now: {now.inside}."),
                         self._failed("Nobody was checked out"))

    def ask_venue(self, current: Venue) -> dict[str, Any] | None:
        """The checked changes from the dialog, or None when cancelled (tests replace this)."""
        dialog = VenueDialog(current, self)
        return dialog.changes() if dialog.exec() == VenueDialog.DialogCode.Accepted else None

    def edit_venue(self) -> None:
        if not self._roles.is_manager:
            return
        changes = self.ask_venue(self.venue)
        if changes:
            venue = self._core.venue
            self._writes.run(lambda: venue.change(changes),
                             lambda _v: self._said("Venue saved."),
                             self._failed("The venue was not saved"))

    def _said(self, text: str) -> None:
        self.message.emit(text)
        self.refresh()

    def _failed(self, what: str) -> Any:
        def failed(exc: BaseException) -> None:  # one sentence: the domain's, or what failed
            self.message.emit(str(exc) if isinstance(exc, StationError) else f"{what}: {exc}")
        return failed

    def _save(self, fn: Any, done_word: str) -> None:
        def done(lst: CheckinList) -> None:
            self._said(f"List {lst.name} {done_word}.")

        # e.g. a name another list has: the domain's one sentence
        self._writes.run(fn, done, self._failed("The list was not saved"))

    def on_events(self, events: Sequence[Event]) -> None:
        if any(e.type is EventType.LIST_CHANGED for e in events) and self.isVisible():
            self.refresh()

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.refresh()


def _short(name: str, most: int = 24) -> str:
    """A list's name on a button: a long one would widen the window past 800 px."""
    return name if len(name) <= most else name[:most - 1] + "…"
