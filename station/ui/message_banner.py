"""Messages from the views ("Imported 2 passes from …", "Admission of … undone"), shown in full.

The status bar keeps the message (showMessage, currentMessage, messageChanged: code and tests
listen to it) but a status-bar line is cut ("Imported 2 passes fro…"); this banner above it
shows the same text wrapped over as many lines as it needs, for as long as the status bar keeps
the message, and a click dismisses it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

SHOWN_MS = 8000  # long enough to read a two-line import report at the door


class MessageBanner(QLabel):
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # a file name or an error is never markup
        # Its text never sets the window's width: it wraps to whatever width the window has
        # (keeping the height-for-width flag setWordWrap gave it, so every line gets room).
        policy = self.sizePolicy()
        policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
        self.setSizePolicy(policy)
        self.setToolTip("Click to dismiss")
        self.setVisible(False)

    def show_text(self, text: str) -> None:
        """Show `text`; an empty text hides the banner (the message timed out or was cleared)."""
        self.setText(text)
        self.setVisible(bool(text))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        event.accept()
        self.dismissed.emit()
