"""A large verdict over whatever a manager has open, so a scan is never admitted unseen.

It covers its parent window with a dimmed backdrop and the same verdict card as the Scan view,
never takes the keyboard focus (the manager keeps typing where they were), and goes away after
the card's display time, on a click or on Esc."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter
from PySide6.QtWidgets import QVBoxLayout, QWidget

from station.ui.verdict_card import VerdictCard
from station.ui.verdicts import VerdictView

FALLBACK_SHOW_S = 5.0  # when the card never resets by itself, the overlay still goes


class VerdictOverlay(QWidget):
    dismissed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("verdictOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.card = VerdictCard()
        self.card.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._window = parent  # never re-parented: the overlay lives and dies with its window
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.card)
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self.dismiss)
        parent.installEventFilter(self)  # follow the window's size
        self.hide()

    def present(self, view: VerdictView, seconds: float) -> None:
        """Show `view` for `seconds` (0: the fallback time)."""
        self.setGeometry(self._window.rect())
        self._fit_margins()
        self.card.show_view(view)
        self.raise_()
        self.show()
        self._hide_timer.start(int((seconds if seconds > 0 else FALLBACK_SHOW_S) * 1000))

    def dismiss(self) -> None:
        self._hide_timer.stop()
        if self.isVisible():
            self.hide()
            self.dismissed.emit()

    def _fit_margins(self) -> None:
        # The card takes most of the window, leaving a dimmed rim that shows it is an overlay.
        w, h = self.width(), self.height()
        self._layout.setContentsMargins(w // 10, h // 10, w // 10, h // 10)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self._window and event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self._window.rect())
            self._fit_margins()
        return False

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.dismiss()
        event.accept()

    def paintEvent(self, event: object) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 150))
        p.end()
