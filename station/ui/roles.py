"""Door mode by default; manager actions unlock with the PIN and lock again after inactivity."""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QTimer, Signal


class Role(StrEnum):
    DOOR = "door"
    MANAGER = "manager"


# Input that counts as "someone is using the manager screens".
_ACTIVITY = {QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel,
             QEvent.Type.TouchBegin}


class Roles(QObject):
    changed = Signal(str)

    def __init__(self, auto_lock_s: float = 120.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.role = Role.DOOR
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.lock)
        self.set_auto_lock(auto_lock_s)

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER

    def set_auto_lock(self, seconds: float) -> None:
        self.auto_lock_s = max(0.05, float(seconds))
        self._timer.setInterval(int(self.auto_lock_s * 1000))
        if self.is_manager:
            self._timer.start()

    def unlock(self) -> None:
        """Called once the PIN was verified."""
        self.role = Role.MANAGER
        self._timer.start()
        self.changed.emit(str(self.role))

    def lock(self) -> None:
        self._timer.stop()
        if self.role is not Role.DOOR:
            self.role = Role.DOOR
            self.changed.emit(str(self.role))

    def touch(self) -> None:
        if self.is_manager:
            self._timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if self.is_manager and event.type() in _ACTIVITY:
            self._timer.start()
        return False
