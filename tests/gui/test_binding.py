"""The Qt binding keeps Python's reference counts right. PySide6 6.12.0 does not on Python 3.11
(every emit() drops a reference to True, every Python slot or override that returns None drops
one to None) and the station aborts within minutes; this catches a bump to such a version."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget


class Source(QObject):
    fired = Signal(object)


class Painted(QWidget):
    def paintEvent(self, event: object) -> None:  # noqa: N802
        self.painted = getattr(self, "painted", 0) + 1


def test_emit_slots_and_overrides_keep_none_and_true_alive(qtbot: Any) -> None:
    source = Source()
    got: list[object] = []
    source.fired.connect(got.append)
    widget = Painted()
    qtbot.addWidget(widget)
    widget.show()
    ticks = {"n": 0}
    timer = QTimer()
    timer.setInterval(0)

    def tick() -> None:
        ticks["n"] += 1
        if ticks["n"] >= 2000:
            timer.stop()

    timer.timeout.connect(tick)
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(2000):
        source.fired.emit(i)
    for _ in range(300):
        widget.grab()  # renders now, calling the Python paintEvent
    timer.start()
    qtbot.waitUntil(lambda: not timer.isActive(), timeout=10000)
    assert len(got) == 2000 and ticks["n"] == 2000 and widget.painted >= 300
    # other code may hold a few more or fewer references meanwhile; a leak loses thousands
    assert sys.getrefcount(True) > true_before - 100
    assert sys.getrefcount(None) > none_before - 1000
