"""A form dialog whose Save checks what was typed with the services' and domain's own checks
(pure, no disk) and shows their one sentence under the fields; nothing is saved until it
passes (the list and venue dialogs)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget

from station.domain.errors import InvalidInput


class CheckedFormDialog(QDialog):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout(self)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b91c1c")
        self.error.setWordWrap(True)

    def add_buttons(self) -> None:
        """The error line and Save / Cancel, after the subclass's rows."""
        self.form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("primary")
        buttons.accepted.connect(self.check_and_accept)
        buttons.rejected.connect(self.reject)
        self.form.addRow(buttons)

    def check(self) -> None:
        """Raises InvalidInput with the sentence to show when what was typed cannot be saved."""
        raise NotImplementedError

    def check_and_accept(self) -> None:
        try:
            self.check()
        except InvalidInput as exc:
            self.error.setText(str(exc))
            return
        self.error.setText("")
        self.accept()
