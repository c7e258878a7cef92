"""`station hub`: run the venue hub (a nats-server with JetStream) for the other stations."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from station.app import default_data_dir
from station.cli import hub_admin
from station.domain.codes import new_id
from station.net.sync.mdns import SERVICE_TYPE, HubAnnouncer, discover
from station.net.sync.enrol_desk import EnrolmentDesk
from station.net.sync.setup import hub_server
from station.services.org_authority import OrgAuthority
from station.store.db import Store
from station.store.secrets import SecretStore


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hub = subparsers.add_parser(
        "hub", help="host the venue hub other stations sync through",
        description="Start a NATS JetStream hub (TLS only, with its own certificate; store in "
                    "the data directory, password required). Its first line of output is the "
                    "join URL to give other stations' --sync: it carries the certificate's "
                    "fingerprint, so they talk to this hub and no other.",
    )
    hub.add_argument("--data-dir", type=Path, default=None,
                     help="data directory (default: $STATION_DATA_DIR or the user data folder)")
    hub.add_argument("--port", type=int, default=4222, help="port to listen on (default 4222)")
    hub.add_argument("--lan", action="store_true",
                     help="listen on the local network too, and announce the hub there over "
                          "mDNS (default: this machine only, not announced)")
    hub.add_argument("action", nargs="?", choices=["discover", *hub_admin.ACTIONS],
                     help="'discover': list the hubs announcing themselves on the LAN; "
                          "'stations': the enrolled stations; 'remove NAME|ID': remove one "
                          "(its credential and key stop working); 'rotate-join': a new join "
                          "URL (the old one stops enrolling); 'export-key --out FILE': the "
                          "organisation key, encrypted with a passphrase, for backup; "
                          "'import-key FILE': restore it into a new hub data directory; "
                          "'end-shared-password' (hub stopped): doors that joined before "
                          "enrolment must enrol")
    hub.add_argument("which", nargs="?", help="remove: the station's name or id; import-key: the exported file")
    hub.add_argument("--out", type=Path, default=None, help="export-key: the file to write")
    hub.add_argument("--timeout", type=float, default=3.0,
                     help="discover: seconds to listen for announcements (default 3)")
    hub.add_argument("--interface", default=None,
                     help="discover: the local address to listen on (default: all)")
    hub.set_defaults(func=_hub)


def _discover(args: argparse.Namespace) -> int:
    if not 0 < args.timeout <= 60:
        print("station: error: --timeout must be between 0 and 60 seconds.", file=sys.stderr)
        return 2
    hubs = discover(args.timeout, args.interface)
    if not hubs:
        print("No hub announced itself on the LAN (is it started with --lan?).", file=sys.stderr)
        return 1
    for found in hubs:
        print(f"{found.url()}  organisation {found.org}  ({found.name})")
    return 0


def _hub(args: argparse.Namespace) -> int:
    if args.action == "discover":
        return _discover(args)
    if args.action in hub_admin.ACTIONS:
        return hub_admin.run(args)
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
    secrets = SecretStore(data_dir, str(org))
    server = hub_server(data_dir, secrets, port=args.port, lan=args.lan)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    # The enrolment desk answers the join URL; it also claims the hub for this data directory's
    # organisation unless the hub's store already serves one, which is then the one announced.
    desk = EnrolmentDesk(server, OrgAuthority(secrets), str(org))
    try:
        desk.start()
    except BaseException:
        server.stop()
        raise
    announcer = HubAnnouncer(server.target.host, args.port, desk.org) if args.lan else None
    try:
        print(f"sync url: {server.join_target.full_url()}", flush=True)
        if announcer is not None:
            try:
                announcer.start()
                print(f"announced on the LAN as {SERVICE_TYPE} ({server.target.host})", flush=True)
            except OSError as exc:
                announcer = None
                print(f"station: warning: the hub runs but could not be announced on the LAN "
                      f"({exc}); give other stations the sync URL.", file=sys.stderr, flush=True)
        print(f"hub store {server.dir}; Ctrl-C stops.", flush=True)
        while not stop.wait(1.0):
            if not server.running():
                print("station: error: the hub stopped; see its log in "
                      f"{server.dir / 'nats-server.log'}.", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        if announcer is not None:
            announcer.stop()
        desk.stop()
        server.stop()
    print("hub stopped.", file=sys.stderr)
    return 0
