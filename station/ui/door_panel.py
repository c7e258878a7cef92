"""The door's list and direction, and "inside now", on the Scan view (issue 14 step 5).

The choice is this door's (kept in the station's UI settings by the window); every scan of the
window, the wedge and the camera is decided with it. The lists and the counts are read on the
reads lane, never on the GUI thread; until the lists first arrive, a scan resolves the door on
its own worker (`resolve`), so the first scan after the start is decided with the saved list."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout,
    QWidget,
)

from station.domain.checkin_list import CheckinList
from station.domain.door import Door
from station.domain.events import Event, EventType
from station.domain.models import Direction
from station.services.lists import VenueOccupancy
from station.ui.ports import CoreParts
from station.ui.workers import TaskRunner

log = logging.getLogger(__name__)

NO_LIST_TEXT = "No list"
# Events that move someone in or out, or change a list: the count and the picker follow them.
_MOVES = (EventType.PASS_SCANNED, EventType.SCAN_REVERTED, EventType.OCCUPANCY_CHECKOUT,
          EventType.LIST_CHANGED)


def inside_text(occupancy: VenueOccupancy, list_id: str | None) -> tuple[str, str]:
    """The big number and its caption: "412 / 500" and "INSIDE NOW · VIP · VENUE 1,203"."""
    if list_id is None:
        return f"{occupancy.inside:,}", "Inside now · venue"
    on = next((li for li in occupancy.lists if li.list_.id == list_id), None)
    if on is None:  # the list is gone (or not synced yet): the venue's count
        return f"{occupancy.inside:,}", "Inside now · venue"
    value = f"{on.inside:,}" if on.list_.capacity is None else f"{on.inside:,} / {on.list_.capacity:,}"
    return value, f"Inside now · {on.list_.name} · venue {occupancy.inside:,}"


class DoorPanel(QFrame):
    changed = Signal(str, str)  # list id ("" none), direction: the person chose another door

    def __init__(self, core: CoreParts, reads: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self._core = core
        self._reads = reads
        self._lists: list[CheckinList] = []
        self.choice: tuple[str, Direction] = ("", Direction.ENTRY)
        self.door: Door | None = None  # None until the lists are read (see resolve)
        self.occupancy: VenueOccupancy | None = None
        self.offline = False

        self.list_picker = QComboBox()
        self.list_picker.setToolTip("The check-in list this door admits to")
        self.list_picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        # Never wider than the preview's column needs: the card beside it would wrap taller.
        self.list_picker.setMinimumContentsLength(4)
        self.list_picker.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.list_picker.setMinimumWidth(70)
        self.entry_button = QPushButton("Entry")
        self.exit_button = QPushButton("Exit")
        self._direction = QButtonGroup(self)
        for button in (self.entry_button, self.exit_button):
            button.setCheckable(True)
            button.setObjectName("doorDirection")  # the chosen one is dark (style.qss)
            self._direction.addButton(button)
        self.entry_button.setChecked(True)
        self.inside = QLabel("–")
        self.inside.setObjectName("insideValue")
        self.caption = QLabel("INSIDE NOW")
        self.caption.setObjectName("counterLabel")
        # One line whatever the width (a long list name is cut, never taller: 800x600 fits).
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # The count of a door cut off from the others is its own view (docs/checkin-lists.md).
        self.offline_marker = QLabel("OFFLINE")
        self.offline_marker.setToolTip("Sync is not connected: this is this door's own count; other doors' scans "
                                       "since are not in it")
        self.offline_marker.setObjectName("offlineMarker")
        self.offline_marker.setVisible(False)

        # Two short rows (the count and its caption; the door), so the Scan view still fits
        # 800x600 in the preview's column.
        count = QHBoxLayout()
        count.setSpacing(12)
        count.addWidget(self.inside)
        count.addWidget(self.caption, 1)
        count.addWidget(self.offline_marker)
        door = QHBoxLayout()
        door.addWidget(self.list_picker, 1)
        door.addWidget(self.entry_button)
        door.addWidget(self.exit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 4, 12, 6)
        layout.setSpacing(0)
        layout.addLayout(count)
        layout.addLayout(door)

        self.list_picker.activated.connect(self._picked)
        self._direction.buttonClicked.connect(lambda _b: self._picked())
        # Refreshed after scans and events at most twice a second, and every 30 s.
        self._busy = False
        self._again = QTimer(self)
        self._again.setSingleShot(True)
        self._again.setInterval(500)
        self._again.timeout.connect(self.refresh)
        self._periodic = QTimer(self)
        self._periodic.setInterval(30_000)
        self._periodic.timeout.connect(self.refresh)
        self._periodic.start()

    # --- the door ---------------------------------------------------------------------------
    def start(self, list_id: str, direction: str) -> None:
        """The door saved in the settings (or given on the command line)."""
        self.choice = (list_id, Direction(direction))
        self._show_direction(self.choice[1])
        self.refresh()

    def resolve(self, choice: tuple[str, Direction]) -> Door:
        """On a worker: the door of `choice`, read from the store (a scan before the lists
        arrived on the GUI thread). A list that no longer exists: no list; a deleted one: it
        (refusing every entry)."""
        list_id, direction = choice
        return Door(self._core.lists.find(list_id) if list_id else None, direction)

    def _picked(self) -> None:
        list_id = str(self.list_picker.currentData() or "")
        direction = Direction.EXIT if self.exit_button.isChecked() else Direction.ENTRY
        if (list_id, direction) == self.choice:
            return
        self.choice = (list_id, direction)
        self.door = self._door_of(self.choice)
        self._show_count()
        self.changed.emit(list_id, str(direction))

    def _door_of(self, choice: tuple[str, Direction]) -> Door:
        found = next((lst for lst in self._lists if lst.id == choice[0]), None)
        return Door(found, choice[1])

    def _show_direction(self, direction: Direction) -> None:
        (self.exit_button if direction is Direction.EXIT else self.entry_button).setChecked(True)

    # --- lists and counts (on the reads lane) ----------------------------------------------------
    def refresh(self) -> None:
        if self._busy:
            self._again.start()
            return
        self._busy = True
        lists, chosen = self._core.lists, self.choice[0]
        self._reads.run(lambda: (lists.all(), lists.occupancy(),
                                 lists.find(chosen) if chosen else None), self._read, self._failed)

    def _read(self, got: tuple[list[CheckinList], VenueOccupancy, CheckinList | None]) -> None:
        self._busy = False
        self._lists = sorted(got[0], key=lambda lst: lst.name.lower())
        self.occupancy = got[1]
        chosen = got[2]
        if chosen is not None and chosen.deleted and chosen.id == self.choice[0]:
            # Deleted (here or at another door): the door keeps it and refuses every entry,
            # saying so, until someone picks another list; as no list it would admit anyone.
            self._lists.append(chosen)
        self._fill_picker()
        self.door = self._door_of(self.choice)
        self._show_count()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        log.warning("the door's lists and counts could not be read: %s", exc)

    def _fill_picker(self) -> None:
        picker = self.list_picker
        picker.blockSignals(True)
        picker.clear()
        picker.addItem(NO_LIST_TEXT, "")
        for lst in self._lists:
            picker.addItem(f"{lst.name} (deleted)" if lst.deleted else lst.name, lst.id)
        index = picker.findData(self.choice[0])
        if index < 0 and self.choice[0]:  # the saved list is gone: say so, decide with none
            self.choice = ("", self.choice[1])
            self.changed.emit("", str(self.choice[1]))
        picker.setCurrentIndex(max(index, 0))
        picker.blockSignals(False)

    def _show_count(self) -> None:
        if self.occupancy is None:
            return
        value, caption = inside_text(self.occupancy, self.choice[0] or None)
        self.inside.setText(value)
        self.caption.setText(caption.upper())

    def set_compact(self, compact: bool) -> None:
        # A widget stylesheet, since the application's #insideValue font-size wins over setFont.
        self.inside.setStyleSheet("font-size: 24px;" if compact else "")

    def set_offline(self, offline: bool) -> None:
        self.offline = offline
        self.offline_marker.setVisible(offline)

    def on_events(self, events: Sequence[Event]) -> None:
        if any(e.type in _MOVES for e in events):
            self._again.start()

    def stop(self) -> None:
        self._again.stop()
        self._periodic.stop()
