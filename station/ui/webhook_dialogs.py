"""The "Add webhook subscription" dialog: one of the vendor events and a target URL."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from station.domain.events import VENDOR_EVENTS


class AddWebhookDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add webhook subscription")
        self.setMinimumWidth(480)
        self.event = QComboBox()
        for event in VENDOR_EVENTS:
            self.event.addItem(str(event), str(event))
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://hooks.example.com/station")
        note = QLabel("Each event is POSTed as JSON, signed with a secret shown once after adding. "
                      "Private and loopback addresses need an allowed network (below).")
        note.setObjectName("muted")
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Event", self.event)
        form.addRow("Target URL", self.url)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[str, str]:
        return str(self.event.currentData()), self.url.text().strip()
