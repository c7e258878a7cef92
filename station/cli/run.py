"""`station gui` and `station serve`: run the station."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import signal
import sys
import threading
from types import FrameType

from tqdm import tqdm

from station.app import Core, Station, StationOptions, build_station, default_data_dir
from station.cli.common import core_options
from station.cli.scans import verdict_line
from station.domain.errors import StationError
from station.domain.models import Source
from station.net.sync.client import CatchUp
from station.services.scans import ScanResult

log = logging.getLogger(__name__)


def sync_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("sync between stations")
    group.add_argument("--sync", metavar="URL", default=None,
                       help="hub to sync with, nats://user:pass@host:4222 (remembered; the password "
                            "goes to keyring); 'off' forgets it")
    group.add_argument("--host-hub", action="store_true",
                       help="this station hosts the venue hub (and syncs through it)")
    group.add_argument("--hub-port", type=int, default=4222, help="port of the hosted hub")
    group.add_argument("--hub-lan", action="store_true",
                       help="let the hosted hub listen on the local network (default: loopback)")
    return parent


def register(subparsers: argparse._SubParsersAction) -> None:
    parent = argparse.ArgumentParser(add_help=False, parents=[core_options(), sync_options()])
    gui = subparsers.add_parser("gui", parents=[parent], help="start the station window (default)")
    gui.set_defaults(func=_gui)
    serve = subparsers.add_parser("serve", parents=[parent], help="run the station headless")
    serve.add_argument("--capture", metavar="SOURCE",
                       help="read passes from a camera (0, /dev/video0), a video file, an image "
                            "folder or 'demo' (the default with --demo)")
    serve.set_defaults(func=_serve)


def _gui(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("station.ui.main") is None:
        print("station: the window is not part of this build yet; running headless.", file=sys.stderr)
        return _serve(args)
    from station.ui.main import run_gui  # type: ignore[import-not-found]

    return int(run_gui(args))


def station_options(args: argparse.Namespace) -> StationOptions:
    capture = getattr(args, "capture", None) or ("demo" if args.demo else None)
    return StationOptions(
        data_dir=args.data_dir or default_data_dir(demo=args.demo), demo=args.demo,
        capture=capture,
        sync_url=getattr(args, "sync", None), host_hub=getattr(args, "host_hub", False),
        hub_port=getattr(args, "hub_port", 4222), hub_lan=getattr(args, "hub_lan", False),
    )


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
        if station.sync is not None:
            # In the background: the door takes scans while the history downloads.
            threading.Thread(target=_sync_banner, args=(station, stop), name="sync-banner",
                             daemon=True).start()
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


def _sync_banner(station: Station, stop: threading.Event, wait_s: float = 30.0) -> None:
    """Download the history before reporting in sync (a bar on a terminal); scanning works
    meanwhile, and an unreachable hub only delays the message."""
    sync = station.sync
    assert sync is not None
    print(f"  sync     {sync.target.public_url()}", flush=True)
    bar = tqdm(total=0, unit="event", desc="sync", disable=not sys.stderr.isatty(), leave=False)

    def show(progress: CatchUp) -> None:
        bar.total = max(progress.total, bar.total or 0)
        bar.n = progress.done
        bar.refresh()

    try:
        synced = sync.wait_in_sync(wait_s, show)
    finally:
        bar.close()
    status = sync.status()
    if synced:
        print(f"  sync     in sync ({status['catchUp']['done']} events received)", flush=True)
    else:
        print(f"  sync     not yet in sync: {status['error'] or 'still downloading'}; "
              "scanning works offline meanwhile.", flush=True)


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
