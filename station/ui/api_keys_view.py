"""API keys on the Integrations page: list, create (the key shown once, with Copy), revoke."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QMessageBox, QPushButton,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from station.domain.errors import StationError
from station.store.apikeys import ApiKey
from station.ui.rich_text import set_rich
from station.ui.secret_dialog import SecretDialog
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Prefix", "Created", "Rate limit", "Revoked")


def when(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else ""


class ApiKeysView(QWidget):
    message = Signal(str)
    refreshed = Signal()
    created = Signal(object)  # CreatedKey, once the secret dialog is shown

    def __init__(self, integrations: Any, reads: TaskRunner, writes: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._integrations = integrations
        self._reads = reads
        self._writes = writes
        self.keys: list[Any] = []
        self.secret_dialog: SecretDialog | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.create_button = QPushButton("Create key…")
        self.create_button.setObjectName("primary")
        self.revoke = QPushButton("Revoke…")
        self.revoke.setObjectName("danger")
        note = QLabel()
        set_rich(note, "Downstream tools send the key as `Authorization: Bearer 2pk_…`. Only a "
                       "hash is kept: a lost key cannot be shown again, create a new one.")
        note.setObjectName("muted")
        note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.revoke)
        buttons.addStretch()
        column = QVBoxLayout(self)
        column.addWidget(note)
        column.addLayout(buttons)
        column.addWidget(self.table, 1)
        self.create_button.clicked.connect(self.create_key)
        self.revoke.clicked.connect(self.revoke_selected)
        self.table.itemSelectionChanged.connect(self._update_actions)
        self._update_actions()

    # --- reading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        self._reads.run(self._integrations.keys.list, self._show, self._error)

    def _show(self, keys: list[Any]) -> None:
        selected = self.selected()
        self.keys = keys
        self.table.setRowCount(len(keys))
        for row, key in enumerate(keys):
            values = (key.name, key.prefix + "…", when(key.created_at), f"{key.rate_limit}/min",
                      when(key.revoked_at) or "no")
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, key.id)
                if key.revoked_at:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(row, col, item)
            if selected is not None and key.id == selected.id:
                self.table.selectRow(row)
        self._update_actions()
        self.refreshed.emit()

    def selected(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.keys):
            return None
        return self.keys[rows[0].row()]

    def _update_actions(self) -> None:
        key = self.selected()
        self.revoke.setEnabled(key is not None and key.revoked_at is None)

    # --- actions ----------------------------------------------------------------------------
    def ask_key_name(self) -> str | None:
        """The name for a new key, or None when cancelled (tests replace this)."""
        text, ok = QInputDialog.getText(self, "New API key",
                                        "Name (what will use it, e.g. \u201cZapier\u201d):")
        return text if ok else None

    def confirm_revoke(self, key: Any) -> bool:
        answer = QMessageBox.question(
            self, "Revoke API key",
            f"Revoke the key \u201c{key.name}\u201d ({key.prefix}…)? Whatever uses it gets "
            "401 from now on; this cannot be undone.")
        return answer == QMessageBox.StandardButton.Yes

    def create_key(self) -> None:
        name = self.ask_key_name()
        if name is None:
            return
        keys = self._integrations.keys
        self._writes.run(lambda: keys.create(name), self._created, self._error)

    def _created(self, created: Any) -> None:
        self.show_secret(created)
        self.message.emit(f"API key \u201c{created.key.name}\u201d created.")
        self.refresh()
        self.created.emit(created)

    def show_secret(self, created: Any) -> None:
        # open(), not exec(): the window keeps running (and tests can read the dialog).
        dialog = SecretDialog("API key created",
                              f"The API key \u201c{created.key.name}\u201d "
                              f"({created.key.rate_limit} requests a minute):", created.secret, self)
        self.secret_dialog = dialog
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))
        dialog.open()

    def _forget_dialog(self, dialog: SecretDialog) -> None:
        dialog.secret.clear()  # the key leaves the window's memory with the dialog
        dialog.deleteLater()
        if self.secret_dialog is dialog:
            self.secret_dialog = None

    def revoke_selected(self) -> None:
        key = self.selected()
        if key is None or key.revoked_at is not None or not self.confirm_revoke(key):
            return
        keys = self._integrations.keys
        def revoked(after: ApiKey) -> None:
            self.message.emit(f"API key \u201c{after.name}\u201d revoked.")
            self.refresh()

        self._writes.run(lambda: keys.revoke(key.id), revoked, self._error)

    def _error(self, exc: BaseException) -> None:
        if not isinstance(exc, StationError):
            log.error("API keys: %s", exc, exc_info=exc)
        self.message.emit(str(exc) if isinstance(exc, StationError) else f"That did not work: {exc}")
