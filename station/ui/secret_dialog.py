"""A secret shown once (a new API key, a webhook signing secret), with a Copy button."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget,
)


class SecretDialog(QDialog):
    def __init__(self, title: str, intro: str, secret: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        text = QLabel(intro)
        text.setWordWrap(True)
        warning = QLabel("This is the only time it is shown: copy it now and keep it somewhere safe.")
        warning.setStyleSheet("color: #b45309; font-weight: 600")
        warning.setWordWrap(True)
        self.secret = QLineEdit(secret)
        self.secret.setReadOnly(True)
        self.secret.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy = QPushButton("Copy")
        self.copy.setObjectName("primary")
        self.copy.clicked.connect(self.copy_secret)
        self.copied = QLabel("")
        self.copied.setObjectName("muted")
        row = QHBoxLayout()
        row.addWidget(self.secret, 1)
        row.addWidget(self.copy)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        column = QVBoxLayout(self)
        column.addWidget(text)
        column.addLayout(row)
        column.addWidget(self.copied)
        column.addWidget(warning)
        column.addWidget(buttons)

    def copy_secret(self) -> None:
        QGuiApplication.clipboard().setText(self.secret.text())
        self.copied.setText("Copied to the clipboard.")
