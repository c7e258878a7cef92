"""The door screen: preview, the verdict card, manual entry, Undo, and today's counters."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from datetime import timedelta

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout,
    QWidget,
)

from station.ui.ports import CoreParts as Core
from station.domain.errors import StationError, StorageError
from station.domain.events import Event, EventType
from station.domain.door import AttentionAnswer, Door
from station.domain.models import Pass, Reason, Source
from station.domain.times import to_iso
from station.services.scans import UNDO_WINDOW, ScanResult
from station.store import stats
from station.ui.bridge import EventBridge
from station.ui.door_actions import Ask, DoorActions, Pending
from station.ui.door_panel import DoorPanel
from station.ui.preview import PreviewWidget
from station.ui.roles import Role, Roles
from station.ui.sounds import Sounds
from station.ui.verdict_card import VerdictCard
from station.ui.verdicts import (
    IDLE, Kind, VerdictView, from_result, not_a_pass, not_recorded, undone,
)
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

DEFAULT_RESET_S = 5.0
# Set on the scan lane while it runs one of this window's own scans: those come back through
# show_result (with Undo), so the station-wide feed must not show them a second time.
_own_scan = threading.local()
NARROW_WIDTH = 1100  # below this the preview gives the card more of the width
ENTRY_MIN_WIDTH = 180  # the code box never shrinks below this (a code, a short link)
ENTRY_ROOMY_WIDTH = 360  # Undo shares the code box's row only while the box keeps this much


class Counter(QFrame):
    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.value = QLabel("–")
        self.value.setObjectName("counterValue")
        # Neither the number nor the caption sets the window's minimum width: "1,234 / 10,000"
        # gets a smaller font when the column is narrow (set_compact), the caption wraps.
        self.value.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        caption = QLabel(label.upper())
        caption.setObjectName("counterLabel")
        caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(0)
        layout.addWidget(self.value)
        layout.addWidget(caption)

    def set(self, text: str) -> None:
        self.value.setText(text)

    def set_compact(self, compact: bool) -> None:
        # A widget stylesheet, since the application's #counterValue font-size wins over setFont.
        self.value.setStyleSheet("font-size: 20px;" if compact else "")


class ScanView(QWidget):
    verdict_shown = Signal(object)  # VerdictView, after the card changed
    went_idle = Signal()  # the card went back to READY after its display time
    scanned = Signal(object)  # every ScanResult, even those a burst never shows on the card
    message = Signal(str)
    pin_needed = Signal(str)  # an override asks for the manager PIN (the window asks it)

    def __init__(self, core: Core, roles: Roles, sounds: Sounds, scan_lane: TaskRunner,
                 reads: TaskRunner, writes: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._core = core
        self._roles = roles
        self._sounds = sounds
        self._scan_lane = scan_lane
        self._reads = reads
        self._writes = writes
        self.results: list[ScanResult] = []  # the last few, for tests and the activity view
        self._undo: tuple[str, str, float] | None = None  # scan id, guest name, monotonic deadline

        self.preview = PreviewWidget()
        self.door_panel = DoorPanel(core, reads)
        self.card = VerdictCard()
        self.door_actions = DoorActions()
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("Type a pass code or paste a pass link, then Enter")
        self.entry.setClearButtonEnabled(True)
        self.check = QPushButton("Check")
        self.check.setObjectName("primary")
        self.undo_button = QPushButton("Undo last admission")
        self.undo_button.setObjectName("undo")
        self.undo_button.setEnabled(False)
        self.counters = {
            "today": Counter("Admitted today"),
            "recent": Counter("Last 15 minutes"),
            "passes": Counter("Passes admitted / total"),
            "refused": Counter("Refused today"),
        }

        self._build_layout()

        self.entry.returnPressed.connect(self._entered)
        self.entry.installEventFilter(self)
        self.check.clicked.connect(self._entered)
        self.undo_button.clicked.connect(self.undo_last)
        self.door_actions.confirm.connect(lambda: self._confirm(True))
        self.door_actions.turn_away.connect(lambda: self._confirm(False))
        self.door_actions.override.connect(self._override_asked)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_undo)
        # Counters: refreshed after scans, at most twice a second, and every 30 s for the window.
        self._counter_timer = QTimer(self)
        self._counter_timer.setSingleShot(True)
        self._counter_timer.setInterval(500)
        self._counter_timer.timeout.connect(self.refresh_counters)
        self._periodic = QTimer(self)
        self._periodic.setInterval(30_000)
        self._periodic.timeout.connect(self.refresh_counters)
        self._periodic.start()
        self._counters_busy = False
        # A burst of results (a queue of scans, a replay) shows only its newest on the card:
        # a person cannot read 100 verdicts a second, and each repaint costs the GUI thread.
        self._pending_view: VerdictView | None = None
        self._card_timer = QTimer(self)
        self._card_timer.setSingleShot(True)
        self._card_timer.setInterval(0)
        self._card_timer.timeout.connect(self._flush_card)
        # A verdict goes back to READY after its display time, so a stale ACCEPTED is never
        # taken for the next guest's; the Undo button keeps its own two minutes.
        self.reset_after_s = DEFAULT_RESET_S
        self._reset_timer = QTimer(self)
        self._reset_timer.setSingleShot(True)
        self._reset_timer.timeout.connect(self.go_idle)
        self._last_code = ""
        self._repeat = 0
        # Scans decided elsewhere on this station (the API) reach the card too.
        self._elsewhere = EventBridge(self._subscribe_elsewhere, self)
        self._elsewhere.events.connect(self._decided_elsewhere)
        self.refresh_counters()

    # --- layout -----------------------------------------------------------------------------
    def _build_layout(self) -> None:
        """Preview and counters on the left, the card and the entry row on the right. On a
        narrow window (1024 or 800 px) the preview shrinks so the card keeps its size, the
        counters get smaller numbers, and Undo moves under the code box when the row is full."""
        self.entry.setMinimumWidth(ENTRY_MIN_WIDTH)
        # Undo's text grows with the guest's name: a long name moves Undo onto its own row
        # instead of widening the window (see _wrap_entry_row for its minimum width).
        self._undo_min = self.undo_button.sizeHint().width()
        self.undo_button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.preview.setMinimumSize(240, 135)
        self._entry_row = QGridLayout()
        self._entry_row.setColumnStretch(0, 1)
        self._entry_wrapped: bool | None = None
        self._wrap_entry_row(False)
        left = QVBoxLayout()
        left.setSpacing(8)  # with the door's count, 800x600 has no height to spare
        left.addWidget(self.preview, 1)
        left.addWidget(self.door_panel)  # the door and "inside now", over the counters
        counters = QGridLayout()
        for i, c in enumerate(self.counters.values()):
            counters.addWidget(c, i // 2, i % 2)
        left.addLayout(counters)
        right = QVBoxLayout()
        right.addWidget(self.card, 1)
        right.addWidget(self.door_actions)
        right.addLayout(self._entry_row)
        self._columns = QHBoxLayout(self)
        self._columns.setContentsMargins(16, 16, 16, 16)
        self._columns.setSpacing(16)
        self._columns.addLayout(left, 4)
        self._columns.addLayout(right, 5)
        self.card.installEventFilter(self)  # the row wraps by the card's width, once laid out

    def _wrap_entry_row(self, wrapped: bool) -> None:
        if wrapped == self._entry_wrapped:
            return
        self._entry_wrapped = wrapped
        row = self._entry_row
        for w in (self.entry, self.check, self.undo_button):
            row.removeWidget(w)
        row.addWidget(self.entry, 0, 0)
        row.addWidget(self.check, 0, 1)
        # In one row Undo only sits there while the row has room for its whole text (else
        # _fit_entry_row wraps it), so its minimum must not count: a row's minimum that always
        # included Undo would keep the window from ever getting narrow enough to wrap.
        if wrapped:
            self.undo_button.setMinimumWidth(self._undo_min)
            row.addWidget(self.undo_button, 1, 0, 1, 2)
        else:
            self.undo_button.setMinimumWidth(1)
            row.addWidget(self.undo_button, 0, 2)

    def _fit_entry_row(self) -> None:
        # By the idle Undo's width, not the current one: the row (and so the card's height)
        # depends only on the window's width and never moves when a scan names a guest.
        spacing = max(self._entry_row.horizontalSpacing(), 0)
        needed = ENTRY_ROOMY_WIDTH + self.check.sizeHint().width() + self._undo_min + 2 * spacing
        self._wrap_entry_row(self.card.width() < needed)

    def _undo_room(self) -> int:
        """The width Undo has: the card's on its own row, else what the roomy code box and
        Check leave."""
        if self._entry_wrapped:
            return self.card.width()
        spacing = max(self._entry_row.horizontalSpacing(), 0)
        return self.card.width() - ENTRY_ROOMY_WIDTH - self.check.sizeHint().width() - 2 * spacing

    def _short_name(self, name: str) -> str:
        """The guest's name as long as Undo has room for ("Undo Maximiliane Wil… (1:58)"), so
        the button's text is never cut and the code box keeps its width."""
        metrics = self.undo_button.fontMetrics()
        room = self._undo_room() - metrics.horizontalAdvance("Undo  (0:00)") - 48  # + padding
        return metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(room, 60))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.card and event.type() == QEvent.Type.Resize:
            self._fit_entry_row()
        # Ctrl+Z in the empty code box is the window's "undo the last admission", not the box's
        # text undo (which would bring back the code just scanned).
        if (watched is self.entry and event.type() == QEvent.Type.ShortcutOverride
                and isinstance(event, QKeyEvent) and event.matches(QKeySequence.StandardKey.Undo)
                and not self.entry.text()):
            event.ignore()
            return True
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        narrow = self.width() < NARROW_WIDTH
        self._columns.setStretch(0, 1 if narrow else 4)
        self._columns.setStretch(1, 2 if narrow else 5)
        for counter in self.counters.values():
            counter.set_compact(narrow)
        self.door_panel.set_compact(narrow)
        # The door's count takes a row of the preview's column: on a small screen (800x600)
        # the preview gives up that height (the camera's picture only helps aim the pass).
        self.preview.setMinimumSize(240, 96 if narrow else 135)

    # --- scanning ---------------------------------------------------------------------------
    def _entered(self) -> None:
        text = self.entry.text().strip()
        if text:
            self.entry.clear()
            self.submit(text, Source.MANUAL)

    def submit(self, payload: str, source: str) -> None:
        """Decide one scan on the scan lane (in order, off the GUI thread); show it when done."""
        self._run_scan(payload, source, self.door_panel.door)

    def _run_scan(self, payload: str, source: str, door: Door | None, **answer: Any) -> None:
        """`door`: as chosen when the code was scanned; None before the lists first arrive,
        then read on the scan lane itself (the saved list decides the very first scan too).
        `answer`: the door's answer to a capacity refusal or a note (`override_by`, `attention`)."""
        scans = self._core.scans
        operator = str(self._roles.role)
        choice, panel = self.door_panel.choice, self.door_panel
        used: list[Door] = []

        def work() -> ScanResult:
            _own_scan.active = True
            try:
                used.append(door if door is not None else panel.resolve(choice))
                return scans.submit(payload, source, operator, wait_merged=False, door=used[0],
                                    hold_attention=True, **answer)
            finally:
                _own_scan.active = False

        def done(result: ScanResult) -> None:
            name = result.pass_.name if result.pass_ is not None and result.pass_.name else "Guest"
            ask = (Ask.CONFIRM if result.awaiting else
                   Ask.OVERRIDE if result.reason == Reason.CAPACITY_REACHED else Ask.NOTHING)
            self.door_actions.offer(ask, Pending(payload, source, used[0], name))
            self.show_result(result)

        self._scan_lane.run(work, done, self._scan_failed)

    # --- the door's answers -------------------------------------------------------------------
    def _confirm(self, admit: bool) -> None:
        pending = self.door_actions.take()
        if pending is not None:
            by = str(self._roles.role)
            self._run_scan(pending.payload, pending.source, pending.door,
                           attention=AttentionAnswer(by, admit))

    def _override_asked(self) -> None:
        pending = self.door_actions.pending
        if pending is None:
            return
        if self._roles.is_manager:
            self.admit_over_capacity()
        else:
            self.pin_needed.emit(f"Admit {pending.name} over the list's capacity")

    def admit_over_capacity(self) -> None:
        """Once a manager allowed it (PIN checked): the same scan, recorded with the override."""
        pending = self.door_actions.take()
        if pending is not None:
            self._run_scan(pending.payload, pending.source, pending.door,
                           override_by=str(Role.MANAGER))

    def _subscribe_elsewhere(self, callback: Callable[[ScanResult], None]) -> Callable[[], None]:
        def told(result: ScanResult) -> None:  # on the deciding thread: hand off only
            if not getattr(_own_scan, "active", False):
                callback(result)

        return self._core.scans.decided.subscribe(told)

    def _decided_elsewhere(self, results: list[ScanResult]) -> None:
        if results:
            self._pending_view = from_result(results[-1])  # a burst: only the newest is readable
            self._card_timer.start()

    def show_result(self, result: ScanResult) -> None:
        self.results = [*self.results[-49:], result]
        view = from_result(result)
        if result.awaiting:  # nothing recorded yet: no Undo, not in the activity
            self._pending_view = view
            self._card_timer.start()
            return
        if result.accepted and result.pass_ is not None:
            self._undo = (result.scan.id, result.pass_.name or "Guest",
                          time.monotonic() + UNDO_WINDOW.total_seconds())
            self._tick.start()
        self.scanned.emit(result)
        self._pending_view = view
        self._card_timer.start()

    def _flush_card(self) -> None:
        view, self._pending_view = self._pending_view, None
        if view is None:
            return
        self._show(view)
        self._update_undo()
        self.refresh_counters()
        self.door_panel.refresh()

    def _scan_failed(self, exc: BaseException) -> None:
        if isinstance(exc, StorageError):  # e.g. a full disk: nothing recorded, nobody admitted
            self._show(not_recorded(str(exc)))
        elif isinstance(exc, StationError):
            self._show(not_a_pass(str(exc)))
        else:
            log.error("a scan failed", exc_info=exc)
            self._show(not_recorded("Could not record the scan because of an internal error — "
                                    "nothing was admitted; try again, and send the station log "
                                    "if it persists."))

    def _show(self, view: VerdictView) -> None:
        view = self._numbered(view)
        self.card.show_view(view)
        self._sounds.play(view.kind)
        if view.kind is Kind.AWAITING:  # the note stays until the door answers
            self._reset_timer.stop()
        elif self.reset_after_s > 0:
            self._reset_timer.start(int(self.reset_after_s * 1000))
        self.verdict_shown.emit(view)

    def _numbered(self, view: VerdictView) -> VerdictView:
        """The view with its time and how many scans in a row named the same code."""
        if not view.scanned_at:
            view = replace(view, scanned_at=to_iso(self._core.ctx.now()))
        if view.kind in (Kind.UNDONE, Kind.AWAITING):  # not a scan of its own: the answer is
            return view
        self._repeat = self._repeat + 1 if view.code and view.code == self._last_code else 1
        self._last_code = view.code
        return replace(view, repeat=self._repeat)

    def set_reset_after(self, seconds: float) -> None:
        """READY again `seconds` after each verdict (0: the verdict stays until the next scan)."""
        self.reset_after_s = max(0.0, float(seconds))
        if self.reset_after_s == 0:
            self._reset_timer.stop()

    def go_idle(self) -> None:
        self._reset_timer.stop()
        self._last_code, self._repeat = "", 0
        self.card.show_view(IDLE, flash=False)
        self.door_actions.offer(Ask.NOTHING)  # the override goes with the refusal it answered
        self.went_idle.emit()

    # --- undo -------------------------------------------------------------------------------
    def undo_last(self) -> None:
        if self._undo is None:
            return
        scan_id, name, _deadline = self._undo
        self._undo = None
        self._update_undo()
        scans, by = self._core.scans, str(self._roles.role)
        self._writes.run(lambda: scans.undo(scan_id, by=by), lambda p: self._undone(p, name),
                         self._undo_failed)

    def _undone(self, p: Pass, name: str) -> None:
        self._show(undone(p.name or name))
        self.message.emit(f"Admission of {p.name or name} undone; the pass is {p.status} again.")
        self._counter_timer.start()

    def _undo_failed(self, exc: BaseException) -> None:
        self.message.emit(str(exc) if isinstance(exc, StationError) else f"Undo failed: {exc}")

    def _update_undo(self) -> None:
        if self._undo is None:
            self.undo_button.setEnabled(False)
            self.undo_button.setText("Undo last admission")
            self._tick.stop()
            return
        left = self._undo[2] - time.monotonic()
        if left <= 0:
            self._undo = None
            self._update_undo()
            return
        self.undo_button.setEnabled(True)
        name = self._short_name(self._undo[1])
        self.undo_button.setText(f"Undo {name} ({int(left) // 60}:{int(left) % 60:02d})")

    @property
    def can_undo(self) -> bool:
        return self._undo is not None

    # --- counters ---------------------------------------------------------------------------
    def refresh_counters(self) -> None:
        if self._counters_busy:
            self._counter_timer.start()
            return
        self._counters_busy = True
        store, now = self._core.store, self._core.ctx.now()
        local_midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        since, recent = to_iso(local_midnight), to_iso(now - timedelta(minutes=15))
        self._reads.run(lambda: stats.counters(store, since, recent), self._show_counters,
                        self._counters_failed)

    def _show_counters(self, c: stats.Counters) -> None:
        self._counters_busy = False
        self.counters["today"].set(f"{c.admitted_since:,}")
        self.counters["recent"].set(f"{c.admitted_recent:,}")
        self.counters["passes"].set(f"{c.passes_admitted:,} / {c.passes_total:,}")
        self.counters["refused"].set(f"{c.refused_since:,}")

    def _counters_failed(self, exc: BaseException) -> None:
        self._counters_busy = False
        log.warning("counters could not be read: %s", exc)

    def on_events(self, events: list[Event]) -> None:
        # Scans from elsewhere (API, peers) move the counters too.
        if any(e.type in (EventType.PASS_SCANNED, EventType.SCAN_REVERTED, EventType.PASS_CREATED)
               for e in events):
            self._counter_timer.start()
        self.door_panel.on_events(events)

    def stop(self) -> None:
        self.door_panel.stop()
        for timer in (self._tick, self._counter_timer, self._periodic, self._reset_timer):
            timer.stop()
        self._elsewhere.close()


