"""The camera in the window: frames reach the preview, codes become scans, a lost camera is
shown and recovers; the handheld scanner's keystrokes scan without a text field."""

from __future__ import annotations

import threading
from typing import Any

import cv2
import pytest

from station.capture.demo_source import qr_image
from station.ui.main_window import MainWindow
from station.ui.verdicts import Kind
from tests.capture.capture_fakes import LOST, ScriptedSource
from tests.gui.wedge_keys import type_text


def frame_of(payload: str):  # noqa: ANN201
    return cv2.cvtColor(qr_image(payload, 4), cv2.COLOR_GRAY2BGR)


def show(qtbot: Any, source: ScriptedSource, payload: str, frames: int = 4) -> None:
    for _ in range(frames):
        source.push(frame_of(payload))
        qtbot.wait(40)


@pytest.mark.allow_log("station.capture.loop", "delivers frames again")
@pytest.mark.allow_log("station.capture.loop", "stopped delivering frames")
def test_camera_scans_then_loss_is_shown_and_recovered(qtbot: Any, window: MainWindow) -> None:
    passes = window.core.passes
    first = passes.create(passes.validate("Camera Carla"))
    second = passes.create(passes.validate("Camera Carlos"))
    third = passes.create(passes.validate("Camera Cleo"))
    source = ScriptedSource()
    window.capture.reopen_delay_s = 0.05
    window.start_capture(source)
    qtbot.waitUntil(lambda: window.camera_state == "running", timeout=5000)
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as got:
        show(qtbot, source, first.public_url)
    assert got.args[0].kind is Kind.ACCEPTED and got.args[0].title == "Camera Carla"
    assert window.scan_view.results[-1].scan.source == "camera"
    qtbot.waitUntil(lambda: window.scan_view.preview.frames_shown > 0, timeout=5000)
    assert window.scan_view.preview.message == ""

    source.available = False  # unplugged: reads fail, re-opening fails
    source.push(LOST)
    qtbot.waitUntil(lambda: window.camera_state == "lost", timeout=5000)
    assert "Camera lost" in window.status.camera.text()
    assert window.scan_view.preview.message.startswith("Camera lost")
    qtbot.waitUntil(lambda: source.failed_opens >= 1, timeout=5000)
    # manual entry keeps working meanwhile
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as typed:
        window.scan_view.submit(second.code, "manual")
    assert typed.args[0].kind is Kind.ACCEPTED

    source.available = True  # plugged back in
    qtbot.waitUntil(lambda: window.camera_state == "running", timeout=10000)
    assert window.scan_view.preview.message == ""
    assert "Camera" in window.status.camera.text() and "lost" not in window.status.camera.text()
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as again:
        show(qtbot, source, third.public_url)
    assert again.args[0].kind is Kind.ACCEPTED and again.args[0].title == "Camera Cleo"
    assert window.capture.frames_sent > 0


def test_preview_frames_are_made_off_the_gui_thread(qtbot: Any, window: MainWindow) -> None:
    source = ScriptedSource()
    made_on: list[int] = []
    original = window.capture._on_frame

    def spy(frame: Any, detections: Any) -> None:
        made_on.append(threading.get_ident())
        original(frame, detections)

    window.capture._on_frame = spy  # type: ignore[method-assign]
    window.start_capture(source)
    qtbot.waitUntil(lambda: window.camera_state == "running", timeout=5000)
    show(qtbot, source, "not a pass, just a code", frames=3)
    qtbot.waitUntil(lambda: bool(made_on), timeout=5000)
    assert threading.get_ident() not in made_on


def test_handheld_scanner_keystrokes_scan_without_a_text_field(qtbot: Any, window: MainWindow) -> None:
    passes = window.core.passes
    p = passes.create(passes.validate("Wedge Wendy"))
    window.scan_view.card.setFocus()
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as got:
        type_text(window, p.code + "\r")  # a scanner types far faster than a person
    assert got.args[0].kind is Kind.ACCEPTED
    assert window.scan_view.results[-1].scan.source == "hid"
    # the same code again within the scanner cooldown is one scan, not two
    type_text(window, p.code + "\r")
    qtbot.wait(300)
    assert len(window.scan_view.results) == 1
