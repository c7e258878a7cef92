"""Key presses delivered the way the platform delivers them: to a top-level window's QWindow,
which hands them to the focused widget (QTest.keyClicks on a widget would skip that step)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from station.capture.scanner_layouts import GUESSED_LAYOUTS, US_KEYS

KEYS = {"\r": Qt.Key.Key_Return, "\t": Qt.Key.Key_Tab, " ": Qt.Key.Key_Space, "\x1b": Qt.Key.Key_Escape}


def press(window: QWidget, key: int | Qt.Key, text: str = "", scan_code: int = 0, shift: bool = False,
          repeat: bool = False) -> None:
    """One key press and release on `window` (the main window or a dialog); `repeat`: an
    auto-repeat of a key held down."""
    handle = window.windowHandle()
    assert handle is not None, "the window must be shown"
    mods = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(handle, QKeyEvent(kind, int(key), mods, scan_code, 0, 0, text, repeat))


def qt_key(ch: str) -> int:
    if ch in KEYS:
        return int(KEYS[ch])
    return ord(ch.upper()) if ch.isascii() else int(Qt.Key.Key_unknown)


class KeyClock:
    """The wedge's clock in tests: key timings are exact however busy the machine is (a burst
    sent in a loop could otherwise be split by a scheduling pause of the test process)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


SCANNER_GAP_S = 0.004


def type_text(window: QWidget, text: str, qtbot: Any = None, gap_ms: int = 0, clock: KeyClock | None = None) -> None:
    """Type `text` ("\\r" is Enter): all at once like a scanner, or a key every `gap_ms` like a
    person (the event loop runs meanwhile, as it does between a person's keys). With `clock`,
    it moves on by the same gap before each key."""
    for ch in text:
        if clock is not None:
            clock.advance(gap_ms / 1000 if gap_ms else SCANNER_GAP_S)
        press(window, qt_key(ch), "" if ch in "\r\t\x1b" else ch, shift=ch.isupper())
        if gap_ms:
            qtbot.wait(gap_ms)


_US_PHYSICAL = {ch: (code + 8, shift) for code, plain, shifted in US_KEYS
                for shift, ch in ((False, plain), (True, shifted))}


def us_scanner_on(window: QWidget, layout: str, text: str, scan_codes: bool = True,
                  clock: KeyClock | None = None) -> None:
    """What a scanner set to US sends for `text` on an X11 desktop with `layout` ("us", "de",
    "fr"): the US physical keys (X keycodes) and the characters the desktop makes of them."""
    typed_for = {us: typed for typed, us in GUESSED_LAYOUTS[layout].items()} if layout != "us" else {}
    for ch in text:
        code, shift = _US_PHYSICAL[ch]
        typed = typed_for.get(ch, "") if layout != "us" else ch  # "" : a dead key on that desktop
        if clock is not None:
            clock.advance(SCANNER_GAP_S)
        press(window, qt_key(typed) if typed else int(Qt.Key.Key_Dead_Acute), typed,
              code if scan_codes else 0, shift)
    press(window, Qt.Key.Key_Return, "", 36 if scan_codes else 0)
