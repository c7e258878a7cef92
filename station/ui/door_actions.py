"""What the door can do about the verdict on the card: admit over capacity (a manager, with the
PIN), or answer a pass's note on a list that asks for it (Confirm / Turn away). Hidden while
there is nothing to answer. The scan itself is decided again on the scan lane with the answer
(services: `override_by`, `AttentionAnswer`), so what is recorded is always the services'."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from station.domain.door import Door


class Ask(Enum):
    NOTHING = "nothing"
    OVERRIDE = "override"  # refused capacity_reached: a manager may admit it
    CONFIRM = "confirm"  # the note waits for the door


@dataclass(frozen=True, slots=True)
class Pending:
    """The scan to decide again with the door's answer."""

    payload: str
    source: str
    door: Door
    name: str


class DoorActions(QWidget):
    override = Signal()
    confirm = Signal()
    turn_away = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ask = Ask.NOTHING
        self.pending: Pending | None = None
        self.override_button = QPushButton("Admit over capacity (manager PIN)")
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setObjectName("primary")
        self.turn_away_button = QPushButton("Turn away")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for button in (self.override_button, self.confirm_button, self.turn_away_button):
            row.addWidget(button)
        self.override_button.clicked.connect(self.override)
        self.confirm_button.clicked.connect(self.confirm)
        self.turn_away_button.clicked.connect(self.turn_away)
        self.offer(Ask.NOTHING)

    def offer(self, ask: Ask, pending: Pending | None = None) -> None:
        self.ask, self.pending = ask, pending if ask is not Ask.NOTHING else None
        self.override_button.setVisible(ask is Ask.OVERRIDE)
        self.confirm_button.setVisible(ask is Ask.CONFIRM)
        self.turn_away_button.setVisible(ask is Ask.CONFIRM)
        self.setVisible(ask is not Ask.NOTHING)

    def take(self) -> Pending | None:
        """The scan to answer, once: a second click finds nothing."""
        pending = self.pending
        self.offer(Ask.NOTHING)
        return pending
