"""`station gui` and `station serve`: run the station."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from station.app import Core, Station, StationOptions, build_station, default_data_dir
from station.cli.common import core_options
from station.cli.scans import verdict_line
from station.domain.errors import StationError
from station.domain.models import Source
from station.services.scans import ScanResult

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parent = core_options()
    gui = subparsers.add_parser("gui", parents=[parent], help="start the station window (default)")
    gui.add_argument("--screenshot", type=Path, metavar="FILE.png", default=None,
                     help="wait for the first verdict, save a PNG of the window and exit "
                          "(with --demo; renders off-screen when there is no display)")
    gui.set_defaults(func=_gui)
    serve = subparsers.add_parser("serve", parents=[parent], help="run the station headless")
    serve.add_argument("--capture", metavar="SOURCE",
                       help="read passes from a camera (0, /dev/video0), a video file, an image "
                            "folder or 'demo' (the default with --demo)")
    serve.set_defaults(func=_serve)


def _no_display() -> bool:
    """Linux without X11/Wayland and without an explicit Qt platform: Qt would abort."""
    return sys.platform.startswith("linux") and not any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _gui(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("station.ui.main") is None:
        print("station: the window is not part of this build yet; running headless.", file=sys.stderr)
        return _serve(args)
    if _no_display():
        if getattr(args, "screenshot", None) is not None:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
        else:
            print("station: no display found (DISPLAY/WAYLAND_DISPLAY unset); running headless.",
                  file=sys.stderr)
            return _serve(args)
    from station.ui.main import run_gui

    def make_station(data_dir: Path | None) -> Station:
        # The window builds no services itself: the composition root does, as for `serve`.
        options = station_options(args)
        if data_dir is not None:
            options.data_dir = data_dir
        options.capture = None  # the window runs its own capture loop (preview, settings)
        return build_station(options)

    return int(run_gui(args, make_station))


def station_options(args: argparse.Namespace) -> StationOptions:
    capture = getattr(args, "capture", None) or ("demo" if args.demo else None)
    return StationOptions(data_dir=args.data_dir or default_data_dir(demo=args.demo), demo=args.demo,
                          capture=capture)


def _serve(args: argparse.Namespace) -> int:
    options = station_options(args)
    station = build_station(options)
    core = station.core
    stop = threading.Event()
    if options.capture:
        from station.scanning import ScanPipeline, open_source

        try:
            source = open_source(options.capture, core)
        except StationError:
            station.stop()
            raise
        station.parts.append(ScanPipeline(core, source, on_result=_print_result))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    station.start()
    try:
        _banner(core)
        if sys.stdin is not None and sys.stdin.isatty():
            _read_scans(core, stop)
        else:
            while not stop.wait(1.0):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        station.stop()
    print("station stopped.", file=sys.stderr)
    return 0


def _print_result(result: ScanResult) -> None:
    print(f"[{result.scan.source}] {verdict_line(result)}", flush=True)


def _banner(core: Core) -> None:
    counts = core.store.pass_counts()
    total = sum(counts.values())
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
    print(f"Station '{core.ctx.station_name}' ({core.ctx.station_id})")
    print(f"  data     {core.store.data_dir}")
    print(f"  passes   {total} ({summary})")
    print("Scan with a handheld scanner or type a code and press Enter; Ctrl-C stops.", flush=True)


def _read_scans(core: Core, stop: threading.Event) -> None:
    """Headless door: each line from a keyboard-wedge scanner (or a person) is one scan."""
    for line in sys.stdin:
        if stop.is_set():
            return
        text = line.strip()
        if not text:
            continue
        try:
            print(verdict_line(core.scans.submit(text, Source.HID)), flush=True)
        except StationError as exc:
            print(f"error: {exc}", flush=True)
