"""`station gui`: the application object, the window, and the `--screenshot` mode."""

from __future__ import annotations

import argparse
import faulthandler
import gc
import logging
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

from PySide6.QtCore import QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from station.domain.door import parse_direction
from station.domain.errors import StationError

from station.ui.ports import RunningStation, StationFactory
from station.ui import settings as ui_settings
from station.ui.capture_worker import camera_source, demo_camera
from station.ui.main_window import MainWindow
from station.ui.platform_check import check_window_system
from station.ui.resources import stylesheet

log = logging.getLogger("station.ui")
qt_log = logging.getLogger("qt")

SCREENSHOT_TIMEOUT_S = 60


def _qt_message(kind: QtMsgType, context: object, message: str) -> None:
    """Qt's own warnings go to our log instead of stderr."""
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(kind, logging.ERROR)
    qt_log.log(level, "%s", message)


def _excepthook(kind: type[BaseException], value: BaseException, tb: object) -> None:
    # An exception in a slot must leave a trace, not a silently half-updated window.
    log.critical("uncaught exception", exc_info=(kind, value, tb))  # type: ignore[arg-type]


def chosen_data_dir(args: argparse.Namespace, qsettings: QSettings) -> Path | None:
    """--data-dir, else the one picked in the settings (not for the demo), else None (default)."""
    if args.data_dir is not None or args.demo:
        given: Path | None = args.data_dir
        return given
    chosen = qsettings.value("data_dir")
    return Path(str(chosen)) if chosen else None


def app_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "station", "station")


def _door_from_args(args: argparse.Namespace, station: RunningStation,
                    settings: ui_settings.UiSettings) -> ui_settings.UiSettings:
    """The settings with the door given by `--list` and `--direction`, saved (this door's
    choice, as if made on the Scan view); unchanged without them."""
    ref, direction = getattr(args, "list", None), getattr(args, "direction", None)
    if ref is None and direction is None:
        return settings
    chosen = settings
    if ref is not None:
        chosen = replace(chosen, door_list=station.core.lists.get(ref).id)
    if direction is not None:
        chosen = replace(chosen, door_direction=str(parse_direction(direction)))
    return ui_settings.save(station.core.store, chosen)


def run_gui(args: argparse.Namespace, make_station: StationFactory) -> int:
    """Run the window until it is closed. `make_station(data_dir)` builds the station (the
    command line passes station.app.build_station with the options it parsed)."""
    started = time.perf_counter()
    faulthandler.enable()
    qInstallMessageHandler(_qt_message)
    sys.excepthook = _excepthook
    if QApplication.instance() is None:
        check_window_system()  # a missing xcb library would abort the process inside Qt
    # instance() is typed as the core application; in this process it is always a QApplication.
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    app.setApplicationName("Station")
    app.setStyleSheet(stylesheet())
    qsettings = app_settings()
    try:
        station = make_station(chosen_data_dir(args, qsettings))
    except StationError as exc:
        # Started from a desktop menu there is no terminal to read: say it in a dialog too.
        # (Offscreen, as in tests and --screenshot, there is no one to close one.)
        if app.platformName() != "offscreen":
            QMessageBox.critical(None, "Station cannot start", str(exc))
        raise
    settings = ui_settings.load(station.core.store)
    try:  # --list/--direction: an unknown list is refused before the window opens
        settings = _door_from_args(args, station, settings)
    except StationError:
        station.stop()
        raise
    station.start()
    window = MainWindow(station, qsettings, settings, demo=args.demo)
    screenshot: Path | None = getattr(args, "screenshot", None)
    if screenshot is not None:
        window.resize(1400, 860)  # a fixed size makes the README pictures alike
    if args.demo:
        # The demo camera: the demo passes drawn as QR codes into frames that go through the
        # real capture loop, decoder and debouncer, exactly like a webcam's.
        window.start_capture(demo_camera(station.core.passes))
    else:
        window.start_capture(camera_source(settings))
    result = {"code": 0}

    def first_frame() -> None:
        window.capture.frame.disconnect(first_frame)
        print(f"station: first camera frame {(time.perf_counter() - started) * 1000:.0f} ms after start",
              file=sys.stderr)

    window.capture.frame.connect(first_frame)

    def first_verdict(_view: object) -> None:
        window.scan_view.verdict_shown.disconnect(first_verdict)
        log.info("first verdict shown %.0f ms after start", (time.perf_counter() - started) * 1000)
        print(f"station: first verdict {(time.perf_counter() - started) * 1000:.0f} ms after start",
              file=sys.stderr)
        if screenshot is not None:
            QTimer.singleShot(400, take_screenshot)  # let the card and counters paint

    def take_screenshot() -> None:
        assert screenshot is not None  # only scheduled when one was asked for
        window.stats_view.refresh()
        pixmap = window.grab()
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        if not pixmap.save(str(screenshot), "PNG"):
            print(f"station: could not write {screenshot}", file=sys.stderr)
            result["code"] = 1
        else:
            print(f"station: wrote {screenshot} ({pixmap.width()}x{pixmap.height()})", file=sys.stderr)
        window.kiosk.end_unattended()
        window.close()

    def timed_out() -> None:
        print(f"station: no verdict within {SCREENSHOT_TIMEOUT_S} s; no screenshot taken.", file=sys.stderr)
        result["code"] = 1
        window.kiosk.end_unattended()
        window.close()

    window.scan_view.verdict_shown.connect(first_verdict)
    if screenshot is not None:
        if not args.demo:
            print("station: --screenshot waits for a scan; use it with --demo.", file=sys.stderr)
        QTimer.singleShot(SCREENSHOT_TIMEOUT_S * 1000, timed_out)
    window.closed.connect(app.quit)
    window.show()
    if getattr(args, "kiosk", False) or settings.kiosk:
        # Said on the terminal too: whoever started it from there is told how it ends.
        window.kiosk.changed.connect(lambda on: print(
            "station: kiosk mode on; the manager PIN ends it." if on else "station: kiosk mode ended.",
            file=sys.stderr))
        window.kiosk.refused.connect(lambda why: print(f"station: {why}", file=sys.stderr))
        window.kiosk.start()
    # Everything built so far lives as long as the window: keep it out of the cyclic
    # collector's full passes, which otherwise stall the GUI ~30-50 ms now and then.
    gc.freeze()
    try:
        app.exec()
    finally:
        window.shutdown()
        station.stop()
    return result["code"]
