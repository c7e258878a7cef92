"""Dialogs for pass actions: revoke (reason + confirmation) and create."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateTimeEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel,
    QLineEdit, QSpinBox, QVBoxLayout, QWidget,
)

from station.domain.models import Pass

REASONS = ("chargeback", "refund", "duplicate ticket", "lost or stolen", "banned")


class RevokeDialog(QDialog):
    def __init__(self, p: Pass, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Revoke pass")
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(REASONS)
        self.reason.setCurrentText("")
        edit = self.reason.lineEdit()
        assert edit is not None  # an editable combo box has one
        edit.setPlaceholderText("Why? (shown at the door)")
        self.confirm = QCheckBox(f"Yes, refuse {p.name or p.code} at every door")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton("Revoke", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("danger")
        self.ok.setEnabled(False)
        self.confirm.toggled.connect(self.ok.setEnabled)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        title = QLabel(f"Revoke <b>{p.name}</b> ({p.code})?")
        title.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(title)
        layout.addWidget(self.reason)
        layout.addWidget(self.confirm)
        layout.addWidget(buttons)

    def reason_text(self) -> str:
        return self.reason.currentText().strip()


class CreatePassDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Create pass")
        self.name = QLineEdit()
        self.email = QLineEdit()
        self.kind = QComboBox()
        self.kind.addItems(["single", "multi"])
        self.max_uses = QSpinBox()
        self.max_uses.setRange(0, 10000)
        self.max_uses.setSpecialValueText("unlimited")
        self.max_uses.setEnabled(False)
        self.kind.currentTextChanged.connect(lambda t: self.max_uses.setEnabled(t == "multi"))
        self.until_on = QCheckBox("Valid until")
        self.until = QDateTimeEdit(QDateTime.currentDateTime().addDays(1))
        self.until.setCalendarPopup(True)
        self.until.setEnabled(False)
        self.until_on.toggled.connect(self.until.setEnabled)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Name", self.name)
        form.addRow("Email", self.email)
        form.addRow("Type", self.kind)
        form.addRow("Max uses", self.max_uses)
        form.addRow(self.until_on, self.until)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        create = buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        create.setObjectName("primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, object]:
        multi = self.kind.currentText() == "multi"
        until = self.until.dateTime().toUTC().toString(Qt.DateFormat.ISODate) if self.until_on.isChecked() else None
        return {
            "name": self.name.text(),
            "email": self.email.text().strip() or None,
            "type": self.kind.currentText(),
            "max_uses": (self.max_uses.value() or None) if multi else None,
            "valid_until": until,
        }
