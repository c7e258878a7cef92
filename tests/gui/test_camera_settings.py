"""The camera in Settings: cameras listed by name off the GUI thread, and "No camera" really
stops the camera, the demo camera included."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from station.capture.camera import CameraInfo, _linux_cameras
from station.capture.demo_source import DemoSource
from station.ui import capture_worker
from station.ui.capture_worker import camera_choices, demo_camera
from station.ui.main_window import DEMO_CAMERA, MainWindow
from station.ui.settings_dialog import NO_CAMERA, SettingsDialog
from tests.gui.conftest import unlock


def choose_camera(qtbot: Any, window: MainWindow, camera: str, state: str) -> None:
    window.apply_settings(replace(window.settings, camera=camera), window.core.ctx.station_name)
    qtbot.waitUntil(lambda: window.camera_state == state, timeout=60000)


def test_no_camera_stops_the_demo_camera_and_a_camera_brings_it_back(
        qtbot: Any, make_window: Any) -> None:
    window = make_window(demo=True)
    window.start_capture(demo_camera(window.core.passes))  # as `station gui --demo` does
    qtbot.waitUntil(lambda: window.camera_state == "running", timeout=60000)

    choose_camera(qtbot, window, "none", "off")
    assert not window.capture.running
    assert window.scan_view.preview.message.startswith("No camera")

    choose_camera(qtbot, window, "0", "running")
    assert window.capture.loop is not None and isinstance(window.capture.loop.source, DemoSource)


def test_the_demo_lists_its_demo_camera(qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(demo=True)
    shown: list[SettingsDialog] = []
    monkeypatch.setattr(window, "ask_settings", lambda dialog: shown.append(dialog) or False)
    unlock(qtbot, window, monkeypatch)
    window.open_settings()
    qtbot.waitUntil(lambda: bool(shown), timeout=60000)
    combo = shown[0].camera
    assert [combo.itemText(i) for i in range(combo.count())] == [NO_CAMERA, DEMO_CAMERA]
    assert combo.currentText() == DEMO_CAMERA and shown[0].result_settings().camera == "0"


def test_camera_choices_are_names_never_a_bare_index(tmp_path: Path) -> None:
    (tmp_path / "video0").mkdir()
    (tmp_path / "video0" / "index").write_text("0\n")
    (tmp_path / "video0" / "name").write_text("HD Pro Webcam C920\n")
    found = _linux_cameras(tmp_path)
    # the stored index 0 is /dev/video0: listed once, under the device's name, value kept
    assert camera_choices("0", found) == [("0", "HD Pro Webcam C920 (/dev/video0)")]
    assert camera_choices("/dev/video0", found) == [("/dev/video0", "HD Pro Webcam C920 (/dev/video0)")]
    assert camera_choices("none", found) == [("/dev/video0", "HD Pro Webcam C920 (/dev/video0)")]
    # a chosen camera that is unplugged stays choosable, and says so
    assert camera_choices("2", found)[-1] == ("2", "Camera 3 (not found now)")
    assert camera_choices("/dev/video4", [])[-1] == ("/dev/video4", "/dev/video4 (not found now)")
    # elsewhere OpenCV numbers cameras from 0; people count from 1
    assert camera_choices("0", [CameraInfo(0, "Camera 0"), CameraInfo(1, "Camera 1")]) == [
        ("0", "Camera 1"), ("1", "Camera 2")]


def test_settings_list_cameras_by_name_off_the_gui_thread(
        qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    listed_on: list[int] = []

    def cameras_here() -> list[CameraInfo]:
        listed_on.append(threading.get_ident())
        return [CameraInfo("/dev/video0", "Test Cam")]

    monkeypatch.setattr(capture_worker, "list_cameras", cameras_here)
    shown: list[SettingsDialog] = []
    monkeypatch.setattr(window, "ask_settings", lambda dialog: shown.append(dialog) or False)
    unlock(qtbot, window, monkeypatch)
    window.open_settings()
    qtbot.waitUntil(lambda: bool(shown), timeout=60000)
    assert listed_on and threading.get_ident() not in listed_on
    combo = shown[0].camera
    items = [(combo.itemData(i), combo.itemText(i)) for i in range(combo.count())]
    assert items == [("none", NO_CAMERA), ("0", "Test Cam (/dev/video0)")]
    assert combo.currentData() == window.settings.camera == "0"
    assert shown[0].result_settings().camera == "0"  # the stored value stays the index
