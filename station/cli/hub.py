"""`station hub`: run the venue hub (a nats-server with JetStream) for the other stations."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from station.app import default_data_dir
from station.domain.codes import new_id
from station.net.sync.setup import hub_server
from station.store.db import Store
from station.store.secrets import SecretStore


def register(subparsers: argparse._SubParsersAction) -> None:
    hub = subparsers.add_parser(
        "hub", help="host the venue hub other stations sync through",
        description="Start a NATS JetStream hub (store in the data directory, password required). "
                    "Its first line of output is the URL to give other stations' --sync.",
    )
    hub.add_argument("--data-dir", type=Path, default=None,
                     help="data directory (default: $STATION_DATA_DIR or the user data folder)")
    hub.add_argument("--port", type=int, default=4222, help="port to listen on (default 4222)")
    hub.add_argument("--lan", action="store_true",
                     help="listen on the local network too (default: this machine only)")
    hub.set_defaults(func=_hub)


def _hub(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        print("station: error: --port must be between 1 and 65535.", file=sys.stderr)
        return 2
    data_dir = args.data_dir or default_data_dir()
    store = Store(data_dir)
    try:
        org = store.setting("org_id")
        if org is None:  # as build_core does: the organisation outlives station ids
            org = new_id("org")
            store.set_setting("org_id", org)
    finally:
        store.close()
    server = hub_server(data_dir, SecretStore(data_dir, str(org)), port=args.port, lan=args.lan)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    try:
        print(f"sync url: {server.target.full_url()}", flush=True)
        print(f"hub store {server.dir}; Ctrl-C stops.", flush=True)
        while not stop.wait(1.0):
            if not server.running():
                print("station: error: the hub stopped; see its log in "
                      f"{server.dir / 'nats-server.log'}.", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("hub stopped.", file=sys.stderr)
    return 0
