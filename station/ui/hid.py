"""Handheld (keyboard-wedge) scanners: keystrokes that arrive scanner-fast become scans even
when no text field has the focus. Typing into a field (search, manual entry) is left alone."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit

from station.capture.keystrokes import KeystrokeBurstParser


def _typing_into_a_field() -> bool:
    focus = QApplication.focusWidget()
    if isinstance(focus, QComboBox):
        return focus.isEditable()
    return isinstance(focus, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox))


class KeyboardWedge(QObject):
    """An event filter for the main window feeding a KeystrokeBurstParser."""

    def __init__(self, parser: KeystrokeBurstParser, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.parser = parser
        self._poll = QTimer(self)
        self._poll.setInterval(50)  # ends bursts of scanners configured without an Enter suffix
        self._poll.timeout.connect(parser.poll)
        self._poll.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress or _typing_into_a_field():
            return False
        assert isinstance(event, QKeyEvent)
        if event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False  # shortcuts
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.parser.enter()
            return True
        if key == Qt.Key.Key_Backspace:
            self.parser.backspace()
            return True
        text = event.text()
        if len(text) == 1 and text.isprintable():
            self.parser.key(text)
            return True
        return False

    def stop(self) -> None:
        self._poll.stop()
