"""Kiosk: the window fullscreen on the Scan view with nothing a guest must not touch.

The tabs, Settings, Manager… and the sound switch are hidden; the code box and Undo stay.
Closing the window (Alt+F4 included), Esc, F11 and Ctrl+L ask for the manager PIN; only the
right PIN leaves kiosk mode. Kiosk mode needs a PIN to exist, or a guest could choose one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from station.ui import pin as pins

if TYPE_CHECKING:
    from station.ui.main_window import MainWindow

NEEDS_PIN = ("Kiosk mode needs a manager PIN: press Manager… to choose one, then turn kiosk mode "
             "on in Settings.")
EXIT_NOTE = "The manager PIN ends kiosk mode."


class Kiosk(QObject):
    changed = Signal(bool)  # True when kiosk mode starts, False when it ends
    refused = Signal(str)  # kiosk mode could not start: the sentence why

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.active = False
        # A window manager (or a guest's double-click on a title bar) may take fullscreen away;
        # only the PIN ends kiosk mode, so fullscreen comes back.
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (self.active and watched is self._window and event.type() == QEvent.Type.WindowStateChange
                and not self._window.isFullScreen()):
            QTimer.singleShot(0, self._refullscreen)
        return False

    def _refullscreen(self) -> None:
        if self.active and not self._window.isFullScreen():
            self._window.showFullScreen()

    def _hidden(self) -> list[QWidget]:
        w = self._window
        return [w.tabs.tabBar(), w.settings_button, w.lock_button, w.mute_button]

    def start(self) -> None:
        """Enter kiosk mode once the store confirms a manager PIN exists (a disk read)."""
        if self.active:
            return
        store = self._window.core.store
        self._window.reads.run(lambda: pins.has_pin(store), self._start_if_pin)

    def _start_if_pin(self, has_pin: bool) -> None:
        if not has_pin:
            self._window.show_message(NEEDS_PIN)
            self.refused.emit(NEEDS_PIN)
            return
        w = self._window
        w.roles.lock()
        w.overlay.dismiss()
        w.tabs.setCurrentWidget(w.scan_view)
        for widget in self._hidden():
            widget.hide()
        self.active = True
        w.showFullScreen()
        self.changed.emit(True)

    def end_unattended(self) -> None:
        """Leave kiosk mode without a PIN: only for `--screenshot`, which closes the window itself."""
        if self.active:
            self._leave(lambda: None)

    def request_exit(self, then: Callable[[], object] | None = None) -> None:
        """Ask for the PIN; with the right one leave kiosk mode (in manager mode) and run `then`."""
        self._window.ask_manager_pin(EXIT_NOTE, lambda: self._leave(then))

    def _leave(self, then: Callable[[], object] | None) -> None:
        w = self._window
        self.active = False
        for widget in self._hidden():
            widget.show()
        w.showNormal()
        self.changed.emit(False)
        if then is not None:
            then()
        else:
            w.roles.unlock()  # the manager just typed the PIN
            w.show_message("Kiosk mode ended; manager mode unlocked.")
