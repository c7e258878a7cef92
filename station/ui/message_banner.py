"""Messages from the views ("Imported 2 passes from …", "Admission of … undone"), shown in full.

A status-bar message is one line that gets cut ("Imported 2 passes fro…"); this banner sits
above the status bar, wraps the whole sentence over as many lines as it needs, and goes away
after a while or when clicked."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

SHOWN_MS = 8000  # long enough to read a two-line import report at the door


class MessageBanner(QLabel):
    def __init__(self, parent: QWidget | None = None, shown_ms: int = SHOWN_MS) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # a file name or an error is never markup
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.setToolTip("Click to dismiss")
        self.setVisible(False)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(shown_ms)
        self._timer.timeout.connect(self.dismiss)

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))
        if text:
            self._timer.start()  # a newer message gets its whole time

    def dismiss(self) -> None:
        self._timer.stop()
        self.setVisible(False)
        self.clear()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.dismiss()
        event.accept()
