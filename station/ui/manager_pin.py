"""Manager mode behind the PIN: choosing the first PIN, unlocking, and the wrong-PIN limit.

Five wrong PINs in a row and the window refuses to ask again for half a minute, whether the
PIN was asked to unlock manager mode or to leave kiosk mode. The PIN is read and written on
the window's worker lanes (a disk read or write each), never on the GUI thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from station.domain.errors import StationError
from station.ui import pin as pins

if TYPE_CHECKING:
    from station.ui.main_window import MainWindow

MAX_PIN_FAILURES = 5
PIN_LOCKOUT_S = 30.0
TOO_MANY = "Too many wrong PINs; wait half a minute and try again."


class ManagerPin(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.failures = 0
        self.locked_until = 0.0  # time.monotonic() before which no PIN is asked

    def _ask(self, choosing: bool, note: str = "") -> str | None:
        # Looked up on the window each time: tests replace `window.ask_pin`.
        return self._window.ask_pin(choosing, note)

    def unlock(self) -> None:
        """Manager mode from door mode: choose a PIN if none exists yet, else type it."""
        if time.monotonic() < self.locked_until:
            self._window.show_message(TOO_MANY)
            return
        store = self._window.core.store
        self._window.reads.run(lambda: pins.has_pin(store), self._unlock_with)

    def confirm(self, note: str, on_ok: Callable[[], None]) -> None:
        """Ask for the existing PIN (same wrong-PIN limits as unlocking); run `on_ok` once it is
        verified."""
        if time.monotonic() < self.locked_until:
            self._window.show_message(TOO_MANY)
            return
        self._unlock_with(True, note, on_ok)

    def _unlock_with(self, has_pin: bool, note: str = "",
                     on_ok: Callable[[], None] | None = None) -> None:
        w = self._window
        store = w.core.store
        if not has_pin:
            chosen = self._ask(True)
            if chosen is None:
                return
            w.writes.run(lambda: pins.set_pin(store, chosen), lambda _r: self._unlocked("PIN set."),
                         self.error)
            return
        typed = self._ask(False, note)
        if typed is None:
            return
        w.reads.run(lambda: pins.verify_pin(store, typed), lambda ok: self._verified(ok, on_ok),
                    self.error)

    def _verified(self, ok: bool, on_ok: Callable[[], None] | None = None) -> None:
        if ok:
            self.failures = 0
            if on_ok is not None:
                on_ok()
            else:
                self._unlocked("Manager mode unlocked.")
            return
        self.failures += 1
        if self.failures >= MAX_PIN_FAILURES:
            self.failures = 0
            self.locked_until = time.monotonic() + PIN_LOCKOUT_S
            self._window.show_message(TOO_MANY)
            return
        self._unlock_with(True, "Wrong PIN; try again.", on_ok)

    def _unlocked(self, text: str) -> None:
        self._window.roles.unlock()
        self._window.show_message(text)

    def change(self) -> None:
        """Settings' "Change manager PIN…": choose a new one (manager mode only)."""
        if not self._window.roles.is_manager:
            return
        chosen = self._ask(True)
        if chosen is not None:
            store = self._window.core.store
            self._window.writes.run(lambda: pins.set_pin(store, chosen),
                                    lambda _r: self._window.show_message("PIN changed."), self.error)

    def error(self, exc: BaseException) -> None:
        """A PIN (or settings) write or read that failed, in one sentence."""
        self._window.show_message(str(exc) if isinstance(exc, StationError) else f"PIN check failed: {exc}")
