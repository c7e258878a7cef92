"""Handheld (keyboard-wedge) scanners: keystrokes that arrive scanner-fast become scans even
when no text field has the focus. Typing into a field (search, manual entry) is left alone."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget,
)

from station.capture.keystrokes import KeystrokeBurstParser


def _is_field(widget: object) -> bool:
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox))


def _typing_into_a_field(target: QObject) -> bool:
    return _is_field(target) or _is_field(QApplication.focusWidget())


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
        # The application filter sees a key press first on the native window, then on the widget:
        # act on the widget delivery only, and never on keys meant for a text field.
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWidget) \
                or _typing_into_a_field(watched):
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
