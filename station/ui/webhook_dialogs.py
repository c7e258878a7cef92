"""The "Add webhook subscription" dialog: one of the vendor events and a target URL. It stays
open until the subscription is really added: a refusal (bad URL, private address, unknown
event, the limit) is shown inside it with the typed values kept, so nothing is typed twice."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget,
)

from station.domain.events import VENDOR_EVENTS
from station.ui.rich_text import set_rich


class AddWebhookDialog(QDialog):
    submitted = Signal(str, str)  # event, target URL: OK was pressed; the caller adds it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add webhook subscription")
        self.setMinimumWidth(480)
        self.event_choice = QComboBox()
        for event in VENDOR_EVENTS:
            self.event_choice.addItem(str(event), str(event))
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://hooks.example.com/station")
        note = QLabel("Each event is POSTed as JSON, signed with a secret shown once after adding. "
                      "Private and loopback addresses need an allowed network (below).")
        note.setObjectName("muted")
        note.setWordWrap(True)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Event", self.event_choice)
        form.addRow("Target URL", self.url)
        form.addRow(note)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)

    def values(self) -> tuple[str, str]:
        return str(self.event_choice.currentData()), self.url.text().strip()

    def accept(self) -> None:
        """OK (or Enter) hands the values over and waits: only `added()` closes the dialog."""
        self.error.setText("")
        self._busy(True)
        self.submitted.emit(*self.values())

    def added(self) -> None:
        self._busy(False)
        super().accept()

    def refused(self, text: str) -> None:
        set_rich(self.error, text)
        self._busy(False)
        self.url.setFocus()
        self.url.selectAll()

    def _busy(self, busy: bool) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not busy)
        ok.setText("Adding…" if busy else "OK")
