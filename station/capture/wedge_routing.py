"""Which key presses are a keyboard-wedge scan and which belong to the widget under the focus.

A handheld scanner "types" its payload far faster than a person: a *burst* is at least
`min_burst_chars` characters each at most `max_gap_s` after the one before (scanners send a key
every 1-30 ms; a person typing fast leaves 60-120 ms, with the odd 40 ms pair). The rule:

- Focus in a text field (other than the door's code box) or in any window other than the main
  one (a dialog, a menu): the key is never touched. Those always get what is typed.
- Otherwise a printable character is *held* (not delivered yet). If the next one follows
  scanner-fast, it is held too; once `min_burst_chars` are held the run is a burst and every
  character up to its end is swallowed. If the run turns out slow (a gap above `max_gap_s`, or
  any other key), the held characters are *replayed* to the widget in order, so nothing a person
  typed is lost — it only arrives at most `max_gap_s` late.
- Space, Enter, Tab, Escape, arrows and any key with Ctrl/Alt are never held: they go to the
  widget at once (Space toggles a checkbox, Enter presses a button) — unless a burst is already
  recognised, which Enter or Tab then ends (swallowed) and Space continues.
- A burst without a suffix ends after `idle_timeout_s` of silence (`tick`).

Pure and clock-free: every call takes the time of the key, so recorded timings replay exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BurstConfig:
    max_gap_s: float = 0.05  # scanners: 1-30 ms per key; people rarely below 60 ms more than twice running
    idle_timeout_s: float = 0.15  # silence that ends an Enter-less burst
    min_burst_chars: int = 6  # shorter fast runs (a double-tap, rolled keys) are a person


class KeyKind(enum.Enum):
    CHAR = "char"  # a printable character other than space (it may be held)
    SPACE = "space"
    SUFFIX = "suffix"  # Enter, keypad Enter or Tab: what scanners send after a payload
    OTHER = "other"  # Escape, Backspace, arrows, shortcuts: always the widget's
    MODIFIER = "modifier"  # Shift, AltGr, Caps Lock alone: scanners press Shift inside a burst


class Place(enum.Enum):
    FIELD = "field"  # a text field other than the code box: keys untouched
    DIALOG = "dialog"  # a dialog or any window but the main one: keys untouched
    WINDOW = "window"  # the main window outside text fields (and the door's code box)


@dataclass(frozen=True, slots=True)
class Keystroke:
    """One key press as the platform reported it. `scan_code` is the physical key (0 when the
    platform does not say); `text` is what the desktop's layout made of it."""

    t: float
    kind: KeyKind
    text: str = ""
    scan_code: int = 0
    shift: bool = False
    ref: object = None  # the caller's handle to replay the key (a copy of the Qt event); opaque here


class Action(enum.Enum):
    PASS = "pass"  # deliver this key to the widget now
    HOLD = "hold"  # keep it; it comes back in a later `replay` or becomes part of a scan
    SWALLOW = "swallow"  # part of a scan: the widget never sees it


@dataclass(frozen=True, slots=True)
class Outcome:
    action: Action
    replay: tuple[Keystroke, ...] = ()  # held keys to deliver, in order, BEFORE this key
    scan: tuple[Keystroke, ...] = ()  # a finished burst (its characters, without the suffix)


NOTHING = Outcome(Action.PASS)


class WedgeRouter:
    """Feed it every key press with where the focus is; it says what to do with each key."""

    def __init__(self, config: BurstConfig | None = None) -> None:
        self.config = config or BurstConfig()
        self._held: list[Keystroke] = []
        self._burst = False  # the held run reached min_burst_chars: it is a scan

    def press(self, key: Keystroke, place: Place) -> Outcome:
        if key.kind is KeyKind.MODIFIER:
            return NOTHING  # neither part of a payload nor the end of one
        # Whatever is pending and already over (silence) is settled first, as `tick` would have.
        settled = self.tick(key.t)
        if self._burst and key.t - self._held[-1].t > self.config.max_gap_s:
            settled = Outcome(Action.PASS, scan=self._take())  # two suffix-less scans back to back
        if place is not Place.WINDOW:
            return _merge(settled, self._settle_now(), NOTHING)
        if self._burst:
            if key.kind in (KeyKind.CHAR, KeyKind.SPACE):
                self._held.append(key)
                return _merge(settled, Outcome(Action.SWALLOW))
            if key.kind is KeyKind.SUFFIX:
                return _merge(settled, Outcome(Action.SWALLOW, scan=self._take()))
            return _merge(settled, Outcome(Action.PASS, scan=self._take()))
        if key.kind is not KeyKind.CHAR:
            return _merge(settled, Outcome(Action.PASS, replay=self._take()))
        self._held.append(key)
        if len(self._held) >= self.config.min_burst_chars:
            self._burst = True
        return _merge(settled, Outcome(Action.HOLD))

    def tick(self, now: float) -> Outcome:
        """Call when `deadline()` has passed: a slow run is given back, a suffix-less burst ends."""
        if not self._held:
            return NOTHING
        quiet = now - self._held[-1].t
        if self._burst and quiet > self.config.idle_timeout_s:
            return Outcome(Action.PASS, scan=self._take())
        if not self._burst and quiet > self.config.max_gap_s:
            return Outcome(Action.PASS, replay=self._take())
        return NOTHING

    def deadline(self) -> float | None:
        """When `tick` may next have something to do (None: nothing is pending)."""
        if not self._held:
            return None
        wait = self.config.idle_timeout_s if self._burst else self.config.max_gap_s
        return self._held[-1].t + wait

    def pending(self) -> int:
        return len(self._held)

    def _settle_now(self) -> Outcome:
        """The focus moved to a field or a dialog: a burst so far is a scan; a slow run goes back."""
        if self._burst:
            return Outcome(Action.PASS, scan=self._take())
        return Outcome(Action.PASS, replay=self._take())

    def _take(self) -> tuple[Keystroke, ...]:
        taken = tuple(self._held)
        self._held.clear()
        self._burst = False
        return taken


def _merge(*outcomes: Outcome) -> Outcome:
    """Several steps in one answer: replays and scans in order; the last step's action wins."""
    replay: tuple[Keystroke, ...] = ()
    scan: tuple[Keystroke, ...] = ()
    for o in outcomes:
        replay += o.replay
        if o.scan:
            assert not scan, "two scans cannot end on one key"
            scan = o.scan
    return Outcome(outcomes[-1].action, replay, scan)
