"""Handheld (keyboard-wedge) scanners in the window: the Qt side of `capture.wedge_routing`.

The filter acts on key presses as they reach the main window's QWindow — once per key, before any
widget sees it — and asks the router what to do: hold a character, give held characters back to
the widget (a person typing), or swallow a scanner burst and submit it. Keys for any other window
(a dialog, a menu) and for text fields other than the door's code box are never touched.

A person's typing given back while no text field has the focus goes where a person meant it:
on Passes into the search box (lookup typing is a search, never a check-in), on the Scan view into
the code box (there Enter checks the code in, as manual entry).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QKeyEvent, QWindow
from PySide6.QtWidgets import (
    QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget,
)

from station.capture.debounce import HID, PayloadSink
from station.capture.scanner_layouts import ScanCodes, Stroke, recover, us_char
from station.capture.wedge_routing import Action, BurstConfig, Keystroke, KeyKind, Outcome, Place, WedgeRouter
from station.domain.codes import is_code
from station.services.passes import PassService
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

Clock = Callable[[], float]
# Given the readings of an ambiguous burst (the likeliest first), calls `done` with the one to
# submit — off the GUI thread, since it may look in the pass store.
Picker = Callable[[Sequence[str], Callable[[str], None]], None]

_MODIFIER_KEYS = frozenset({
    Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_AltGr, Qt.Key.Key_Meta,
    Qt.Key.Key_CapsLock, Qt.Key.Key_NumLock, Qt.Key.Key_Mode_switch, Qt.Key.Key_Super_L, Qt.Key.Key_Super_R,
})
_CTRL, _ALT, _META = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier,
                      Qt.KeyboardModifier.MetaModifier)


def is_text_field(widget: QWidget | None) -> bool:
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox))


def platform_scan_codes() -> ScanCodes:
    """How this platform numbers physical keys in QKeyEvent.nativeScanCode()."""
    name = QGuiApplication.platformName()
    if name in ("xcb", "wayland"):
        return ScanCodes.XKB
    if name == "windows":
        return ScanCodes.SET1
    return ScanCodes.NONE  # cocoa reports no scan code; offscreen and minimal report zero


class KeyboardWedge(QObject):
    """An application event filter routing the main window's key presses (see module doc)."""

    def __init__(self, main: QWidget, on_payload: PayloadSink, *, code_box: QLineEdit | None = None,
                 type_into: dict[QWidget, QLineEdit] | None = None, pick: Picker | None = None,
                 config: BurstConfig | None = None, clock: Clock = time.monotonic) -> None:
        super().__init__(main)
        self.router = WedgeRouter(config)
        self.scan_codes = platform_scan_codes()
        self.clock = clock  # tests may replace it
        self._main = main
        self._on_payload = on_payload
        self._code_box = code_box
        self._type_into = dict(type_into or {})
        self._pick = pick
        self._replaying = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

    # --- Qt ---------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWindow) or self._replaying:
            return False
        assert isinstance(event, QKeyEvent)
        key = self._keystroke(event)
        outcome = self.router.press(key, self._place(watched))
        self._apply(outcome)
        self._schedule()
        return outcome.action is not Action.PASS

    def stop(self) -> None:
        self._timer.stop()

    def _place(self, window: QWindow) -> Place:
        if window != self._main.windowHandle():
            return Place.DIALOG
        focus = self._main.focusWidget()
        if is_text_field(focus) and focus is not self._code_box:
            return Place.FIELD
        return Place.WINDOW

    def _keystroke(self, event: QKeyEvent) -> Keystroke:
        key, text, mods = event.key(), event.text(), event.modifiers()
        scan_code = event.nativeScanCode()
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        if key in _MODIFIER_KEYS:
            kind = KeyKind.MODIFIER
        elif mods & _META or (bool(mods & _CTRL) != bool(mods & _ALT)):
            kind = KeyKind.OTHER  # a shortcut; Ctrl+Alt together is AltGr on Windows
        elif event.isAutoRepeat():
            kind = KeyKind.OTHER  # a key held down repeats scanner-fast; scanners never hold keys
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab):
            kind = KeyKind.SUFFIX
        elif key == Qt.Key.Key_Space:
            kind = KeyKind.SPACE
        elif len(text) == 1 and text.isprintable():
            kind = KeyKind.CHAR
        elif not text and us_char(scan_code, shift, self.scan_codes) is not None:
            kind = KeyKind.CHAR  # a dead key (´ on a German desktop): the physical key still counts
        else:
            kind = KeyKind.OTHER
        copy = QKeyEvent(event.type(), key, mods, scan_code, event.nativeVirtualKey(),
                         event.nativeModifiers(), text, event.isAutoRepeat(), event.count())
        return Keystroke(self.clock(), kind, text, scan_code, shift, copy)

    # --- outcomes ---------------------------------------------------------------------------
    def _tick(self) -> None:
        self._apply(self.router.tick(self.clock()))
        self._schedule()

    def _schedule(self) -> None:
        deadline = self.router.deadline()
        if deadline is None:
            self._timer.stop()
        else:
            self._timer.start(max(0, int((deadline - self.clock()) * 1000)) + 1)

    def _apply(self, outcome: Outcome) -> None:
        if outcome.replay:
            self._give_back(outcome.replay)
        if outcome.scan:
            self._submit(outcome.scan)

    def _give_back(self, keys: Sequence[Keystroke]) -> None:
        """A person's keys, late by at most the burst gap, to the widget they were meant for."""
        handle = self._main.windowHandle()
        if handle is None:
            return
        target = self._typing_target()
        if target is not None and any(k.kind is KeyKind.CHAR for k in keys):
            target.setFocus(Qt.FocusReason.OtherFocusReason)
        self._replaying = True
        try:
            for k in keys:
                if isinstance(k.ref, QKeyEvent):
                    QApplication.sendEvent(handle, k.ref)
        finally:
            self._replaying = False

    def _typing_target(self) -> QLineEdit | None:
        widget: QWidget | None = self._main.focusWidget()
        if is_text_field(widget) or isinstance(widget, QComboBox):
            return None  # a closed list picks its item by the letters typed: leave them to it
        while widget is not None:
            if widget in self._type_into:
                return self._type_into[widget]
            widget = widget.parentWidget()
        return None

    def _submit(self, keys: Sequence[Keystroke]) -> None:
        found = recover([Stroke(k.text, k.scan_code, k.shift) for k in keys], self.scan_codes)
        if not found.text:
            return
        if found.how != "as typed":
            log.info("Scanner text read from %s (the desktop typed it differently)", found.how)
        if found.alternatives and self._pick is not None:
            self._pick([found.text, *found.alternatives], lambda text: self._on_payload(text, HID))
            return
        self._on_payload(found.text, HID)


def first_known_pass(reads: TaskRunner, passes: PassService) -> Picker:
    """A Picker that submits the first reading that is the code of a pass this station knows
    (else the likeliest), looked up on the reads lane: the GUI thread never waits on the disk."""

    def known(reading: str) -> bool:
        return is_code(reading) and passes.store.pass_by_code(reading) is not None

    def pick(readings: Sequence[str], done: Callable[[str], None]) -> None:
        options = list(readings)
        reads.run(lambda: next((r for r in options if known(r)), options[0]), done,
                  lambda _exc: done(options[0]))  # a lookup that fails still scans

    return pick
