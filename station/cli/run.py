"""`station gui` and `station serve`: run the station."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import stat
import sys
import threading
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import IO, Any

from tqdm import tqdm

from station.app import Core, Station, StationOptions, build_station, default_data_dir
from station.cli.common import core_options
from station.cli.scans import verdict_line
from station.domain.door import NO_LIST, Door, parse_direction
from station.domain.errors import StationError
from station.domain.models import Source
from station.domain.sync_status import CatchUp
from station.net.server import DEFAULT_HOST, DEFAULT_PORT
from station.net.targets import parse_networks
from station.services.scans import ScanResult

log = logging.getLogger(__name__)


class InputKind(Enum):
    """What `station serve` finds on its standard input."""

    TERMINAL = "terminal"  # a person or a keyboard-wedge scanner types into it
    PIPE = "pipe"  # a pipe or a file: each line is scanned, then the station keeps running
    NONE = "none"  # nothing to read (closed, /dev/null as under systemd)


BANNER_INPUT = {
    InputKind.TERMINAL: "Scan with a handheld scanner or type a code and press Enter; Ctrl-C stops.",
    InputKind.PIPE: "Scanning each line of standard input as a code; the station keeps running "
                    "when it ends. Ctrl-C stops (or SIGTERM).",
    InputKind.NONE: "No input to type codes into (standard input is not a terminal or a pipe): "
                    "scans come from the camera and the API. Ctrl-C stops (or SIGTERM).",
}


def input_kind(stream: IO[Any] | None) -> InputKind:
    if stream is None:
        return InputKind.NONE
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
        if os.isatty(fd):
            return InputKind.TERMINAL
    except (OSError, ValueError):  # closed, or a stream without a descriptor
        return InputKind.NONE
    if stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode):
        return InputKind.PIPE
    return InputKind.NONE


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is between 0 and 65535 (0: any free port)")
    return port


def run_options() -> argparse.ArgumentParser:
    """Flags shared by `station gui` and `station serve`."""
    parent = argparse.ArgumentParser(add_help=False, parents=[core_options()])
    parent.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address the API listens on (default {DEFAULT_HOST}: this machine only)")
    parent.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"API port (default {DEFAULT_PORT}; 0 picks a free one)")
    parent.add_argument("--no-api", action="store_true", help="do not start the HTTP API")
    parent.add_argument("--allow-webhook-network", action="append", default=[], metavar="CIDR",
                        help="allow webhooks to this private/loopback network, e.g. 192.168.1.0/24 "
                             "(repeatable)")
    return parent


def sync_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("sync between stations")
    group.add_argument("--sync", metavar="URL", default=None,
                       help="hub to sync with: its join URL, tls://user:pass@host:4222#sha256=… "
                            "(remembered; the password "
                            "goes to keyring); 'off' forgets it and stops syncing (the data, and "
                            "its organisation, stay: another venue needs a new --data-dir); 'auto' "
                            "joins the hub of this station's organisation found on the LAN (mDNS), "
                            "with the password kept from an earlier join, and follows it when its "
                            "address changes")
    group.add_argument("--sync-ca", metavar="FILE", default=None,
                       help="a venue's own NATS (tls:// URL without #sha256=): the CA certificate "
                            "(PEM) its server certificate is checked against (remembered with "
                            "the URL; default: the system's CAs)")
    group.add_argument("--host-hub", action="store_true",
                       help="this station hosts the venue hub (and syncs through it)")
    group.add_argument("--hub-port", type=int, default=4222, help="port of the hosted hub")
    group.add_argument("--hub-lan", action="store_true",
                       help="let the hosted hub listen on the local network (default: loopback)")
    return parent


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = argparse.ArgumentParser(add_help=False, parents=[run_options(), sync_options()])
    gui = subparsers.add_parser("gui", parents=[parent], help="start the station window (default)")
    gui.add_argument("--screenshot", type=Path, metavar="FILE.png", default=None,
                     help="wait for the first verdict, save a PNG of the window and exit "
                          "(with --demo; renders off-screen when there is no display)")
    gui.add_argument("--kiosk", action="store_true",
                     help="open fullscreen on the Scan view with only what the door needs; "
                          "leaving needs the manager PIN (also a setting)")
    _door_options(gui, "the window's door (remembered, as when chosen on the Scan view)")
    gui.set_defaults(func=_gui)
    serve = subparsers.add_parser("serve", parents=[parent], help="run the station headless")
    serve.add_argument("--capture", metavar="SOURCE",
                       help="read passes from a camera (0, /dev/video0), a video file, an image "
                            "folder or 'demo' (the default with --demo)")
    _door_options(serve, "the door's check-in list, for the scanner and the camera")
    serve.set_defaults(func=_serve)


def _door_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--list", metavar="NAME|ID", help=what)
    parser.add_argument("--direction", choices=("in", "out", "entry", "exit"),
                        help="in (entry, the default) or out (exit)")


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
    networks = tuple(getattr(args, "allow_webhook_network", []) or [])
    parse_networks(networks)  # a bad CIDR is refused before anything starts
    capture = getattr(args, "capture", None) or ("demo" if args.demo else None)
    return StationOptions(
        data_dir=args.data_dir or default_data_dir(demo=args.demo), demo=args.demo,
        capture=capture,
        sync_url=getattr(args, "sync", None), sync_ca=getattr(args, "sync_ca", None),
        host_hub=getattr(args, "host_hub", False),
        hub_port=getattr(args, "hub_port", 4222), hub_lan=getattr(args, "hub_lan", False),
        api_host=getattr(args, "host", DEFAULT_HOST), api_port=getattr(args, "port", DEFAULT_PORT),
        api_enabled=not getattr(args, "no_api", False), webhook_networks=networks,
    )


def _serve(args: argparse.Namespace) -> int:
    options = station_options(args)
    station = build_station(options)
    core = station.core
    stop = threading.Event()
    try:  # an unknown list is refused before anything starts
        door = _door(core, args)
    except StationError:
        station.stop()
        raise
    if options.capture:
        from station.scanning import ScanPipeline, open_source

        try:
            source = open_source(options.capture, core)
        except StationError:
            station.stop()
            raise
        station.parts.append(ScanPipeline(core, source, on_result=_print_result, door=door))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    station.start()
    try:
        api = None if station.api is None else (station.api.address
                                                 or f"not running: {station.api.error}")
        kind = input_kind(sys.stdin)
        _banner(core, api, kind, door)
        if station.sync is not None:
            # In the background: the door takes scans while the history downloads.
            threading.Thread(target=_sync_banner, args=(station, stop), name="sync-banner",
                             daemon=True).start()
        if kind is not InputKind.NONE:
            # In a thread: the main thread stays free for SIGTERM and Ctrl-C, which a blocked
            # read would otherwise hold back until the next line arrives.
            threading.Thread(target=_read_scans, args=(core, stop, kind, door), name="stdin-scans",
                             daemon=True).start()
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


def _door(core: Core, args: argparse.Namespace) -> Door:
    """`--list` and `--direction`: the door the scanner and the camera scan at (API scans name
    their own)."""
    lst = core.lists.get(args.list) if getattr(args, "list", None) is not None else None
    return Door(lst, parse_direction(getattr(args, "direction", None)))


def _banner(core: Core, api: str | None = None, kind: InputKind = InputKind.TERMINAL,
            door: Door = NO_LIST) -> None:
    counts = core.store.pass_counts()
    total = sum(counts.values())
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
    print(f"Station '{core.ctx.station_name}' ({core.ctx.station_id})")
    print(f"  data     {core.store.data_dir}")
    print(f"  passes   {total} ({summary})")
    if api is not None:
        print(f"  api      {api}")
    if door != NO_LIST:
        where = door.list_.name if door.list_ is not None else "no list"
        print(f"  door     {where}, {door.direction}")
    print(BANNER_INPUT[kind], flush=True)


def _sync_banner(station: Station, stop: threading.Event, wait_s: float = 30.0) -> None:
    """Download the history before reporting in sync (a bar on a terminal); scanning works
    meanwhile, and an unreachable hub only delays the message."""
    sync = station.sync
    assert sync is not None
    where = sync.target.public_url() if sync.target is not None else "looking on the LAN (auto)"
    print(f"  sync     {where}", flush=True)
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
        prepared = (f", {sync.worker_batches} batches prepared in a worker process"
                    if sync.worker_batches else "")
        print(f"  sync     in sync with hub {status.hub} "
              f"({status.catch_up.done} events received{prepared})", flush=True)
    elif status.refused:  # not a delay: nothing will sync in this run
        print(f"  sync     {status.error} Scanning works offline.", flush=True)
    else:
        print(f"  sync     not yet in sync: {status.error or 'still downloading'}; "
              "scanning works offline meanwhile.", flush=True)


def _read_scans(core: Core, stop: threading.Event, kind: InputKind,
                door: Door = NO_LIST) -> None:
    """Headless door: each line from a keyboard-wedge scanner, a person or a pipe is one scan.

    Ctrl-D on a live terminal stops the station. The end of piped input, or a terminal that went
    away (closed window, lost SSH session), does not: the API, camera and webhook sender keep
    working until the station is told to stop."""
    try:
        # Bytes from the descriptor, not sys.stdin's buffered reader: this daemon thread may
        # still be blocked in a read when the interpreter shuts down, and must hold no lock
        # that shutdown wants.
        with open(sys.stdin.fileno(), "rb", buffering=0, closefd=False) as raw:
            for line in raw:
                if stop.is_set():
                    return
                text = line.strip()  # bytes: clean() refuses what is not UTF-8, in one sentence
                if text:
                    print(_scan_line(core, text, door), flush=True)
    except OSError as exc:  # EIO from a terminal that closed: not a reason to stop the door
        log.warning("the terminal went away (%s); the station keeps running without it "
                    "(SIGTERM stops it)", exc)
        return
    if kind is InputKind.PIPE:
        log.info("the piped input ended; the station keeps running (SIGTERM stops it)")
        return
    # A hung-up terminal also reads as end of input; only a live one means Ctrl-D was pressed.
    if not _terminal_alive():
        log.warning("the terminal went away; the station keeps running without it "
                    "(SIGTERM stops it)")
        return
    stop.set()


def _terminal_alive() -> bool:
    if sys.platform == "win32":
        return True
    import termios

    try:
        termios.tcgetattr(sys.stdin.fileno())
    except (termios.error, OSError, ValueError):
        return False
    return True


def _scan_line(core: Core, text: str | bytes, door: Door = NO_LIST) -> str:
    """The line the door prints for one scan; never raises."""
    try:
        return verdict_line(core.scans.submit(text, Source.HID, door=door))
    except StationError as exc:  # bad input, or a disk that refused the write: say so
        return f"error: {exc}"
    except Exception:  # a bug must not stop the door: the API and webhooks run on
        log.exception("a scan failed")
        return ("error: Could not record the scan because of an internal error — nothing was "
                "admitted; try again, and send the station log if it persists.")
