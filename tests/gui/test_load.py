"""1,000 scans through the window while a heartbeat measures the longest event-loop stall."""

from __future__ import annotations

import threading
from typing import Any

from station.ui.main_window import MainWindow
from tests.gui.test_passes_view import Heartbeat


def test_a_thousand_scans_keep_the_window_responsive(qtbot: Any, window: MainWindow) -> None:
    passes = window.core.passes
    created = passes.create_many([passes.validate(f"Load Guest {i:03d}") for i in range(500)])
    payloads = [p.public_url for p in created] * 2  # every pass admitted once, then refused
    shown: list[Any] = []
    window.scan_view.scanned.connect(shown.append)
    beat = Heartbeat()
    beat.start()
    for payload in payloads:
        window.scan_view.submit(payload, "camera")
    qtbot.waitUntil(lambda: len(shown) == len(payloads), timeout=120_000)
    qtbot.wait(600)  # the counters' last refresh
    stall = beat.stop()
    kinds = [str(r.verdict) for r in shown]
    assert kinds.count("accepted") == 500 and kinds.count("rejected") == 500
    assert threading.get_ident() not in window.scan_lane.ran_on()  # decided off the GUI thread
    assert window.scan_view.counters["today"].value.text() == "500"
    assert window.activity_view.model.rowCount() >= 1000
    print(f"\n1,000 scans through the window: longest GUI stall {stall} ms")
