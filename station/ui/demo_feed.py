"""Demo scans without a camera: the demo passes' QR payloads fed through the same submit path
as camera reads, on a timer (used when no frame source can run)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from station.domain.models import Source

# A sequence that shows every kind of verdict: admitted, already used, revoked, not yet
# valid, expired, a code from another event.
FOREIGN = "https://tickets.other-event.example/t/ABCDEF123456"


def demo_payloads(passes: list[object]) -> list[str]:
    """Each demo pass's QR text, and one foreign code; the first pass twice (used the 2nd time)."""
    urls = [str(getattr(p, "public_url")) for p in passes]
    if not urls:
        return [FOREIGN]
    return [urls[0], urls[0], *urls[1:], FOREIGN]


class DemoFeed(QObject):
    def __init__(self, payloads: list[str], submit: Callable[[str, str], None], interval_ms: int = 2500,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._payloads = payloads
        self._submit = submit
        self._next = 0
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.step)

    def start(self, first_after_ms: int = 300) -> None:
        QTimer.singleShot(first_after_ms, self.step)
        self.timer.start()

    def step(self) -> None:
        if not self._payloads:
            return
        payload = self._payloads[self._next % len(self._payloads)]
        self._next += 1
        self._submit(payload, Source.CAMERA)

    def stop(self) -> None:
        self.timer.stop()
