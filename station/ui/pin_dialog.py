"""Asking for the manager PIN (or choosing one the first time)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from station.domain.errors import InvalidInput
from station.ui.pin import check_pin_format


class PinDialog(QDialog):
    def __init__(self, choosing: bool, parent: QWidget | None = None, note: str = "") -> None:
        super().__init__(parent)
        self.choosing = choosing
        self.setWindowTitle("Choose a manager PIN" if choosing else "Manager PIN")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("4 to 12 digits")
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(note)
        self.error.setStyleSheet("color: #b91c1c")
        form = QFormLayout(self)
        if choosing:
            intro = QLabel("No manager PIN is set on this station yet. Choose one: it unlocks "
                           "revoking, creating and importing passes, and the settings.")
            intro.setWordWrap(True)
            form.addRow(intro)
        form.addRow("PIN", self.pin)
        if choosing:
            form.addRow("Again", self.again)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _check(self) -> None:
        try:
            check_pin_format(self.pin.text())
        except InvalidInput as exc:
            self.error.setText(str(exc))
            return
        if self.choosing and self.pin.text().strip() != self.again.text().strip():
            self.error.setText("The two PINs differ; type the same PIN twice.")
            return
        self.accept()

    def value(self) -> str:
        return self.pin.text().strip()
