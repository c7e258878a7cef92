"""`station hub stations|remove|rotate-join|export-key|import-key`: the enrolled stations and
the organisation key, managed beside a running hub (or a stopped one: it picks the change up at
its next start). `import-key` restores an exported key into a new hub data directory."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from station.app import default_data_dir
from station.domain.errors import InvalidInput
from station.net.sync.hub import HubServer, configured_port
from station.net.sync.hub_admin import HubAdmin
from station.net.sync.setup import end_shared_password, hub_server
from station.services.org_authority import OrgAuthority, read_export, restore_key
from station.store.db import Store
from station.store.secrets import SecretStore

ACTIONS = ("stations", "remove", "rotate-join", "export-key", "import-key",
           "end-shared-password")
PASSPHRASE_ENV = "STATION_EXPORT_PASSPHRASE"  # for scripts; asked for on the terminal otherwise


def _hub(args: argparse.Namespace) -> tuple[HubServer, SecretStore, str]:
    data_dir = args.data_dir or default_data_dir()
    store = Store(data_dir)
    try:
        org = store.setting("org_id")
    finally:
        store.close()
    if org is None or configured_port(Path(data_dir) / "hub") is None:
        raise InvalidInput(f"{data_dir} hosts no hub yet: start it with `station hub` first.")
    secrets = SecretStore(data_dir, str(org))
    port = configured_port(Path(data_dir) / "hub") or args.port
    return hub_server(data_dir, secrets, port=port, lan=False), secrets, str(org)


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "import-key":
            return _import(args)
        server, secrets, org = _hub(args)
        admin = HubAdmin(server, secrets)
        if args.action == "stations":
            return _stations(admin)
        if args.action == "remove":
            return _remove(admin, args.which)
        if args.action == "rotate-join":
            print(f"sync url: {admin.rotate_join()}")
            print("The old join URL no longer enrols; enrolled stations keep working.",
                  file=sys.stderr)
            return 0
        if args.action == "end-shared-password":
            end_shared_password(secrets, server)
            print("The hub's shared password is replaced: doors that have not enrolled are "
                  "refused from the hub's next start; give them the join URL.")
            return 0
        return _export(secrets, args.out, org)
    except InvalidInput as exc:
        print(f"station: error: {exc}", file=sys.stderr)
        return 2


def _stations(admin: HubAdmin) -> int:
    listed = admin.stations()
    if not listed:
        print("No station has enrolled with this hub yet.", file=sys.stderr)
        return 0
    for item in listed:
        s = item.station
        print(f"{s.name}\t{s.station_id}\tlast seen {item.last_seen or 'unknown'}")
    return 0


def _remove(admin: HubAdmin, which: str | None) -> int:
    if not which:
        raise InvalidInput("Name the station to remove: station hub remove NAME|ID.")
    station, not_put = admin.remove(which)
    print(f"removed {station.name} ({station.station_id}): its credential no longer works.")
    if not_put is not None:
        print(f"station: warning: the hub did not take the removal record now ({not_put}); it "
              "will at its next start, and other doors then refuse that station's new passes.",
              file=sys.stderr)
    return 0


def _export(secrets: SecretStore, out: Path | None, org: str) -> int:
    if out is None:
        raise InvalidInput("Say where to write the key: station hub export-key --out FILE.")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None:
        passphrase = getpass.getpass("Passphrase for the exported key: ")
        if getpass.getpass("The same passphrase again: ") != passphrase:
            raise InvalidInput("The two passphrases differ; nothing was written.")
    OrgAuthority(secrets).export(out, passphrase, org)
    print(f"The organisation key is in {out}, encrypted with the passphrase: keep both apart.")
    return 0


def _import(args: argparse.Namespace) -> int:
    """Restore an exported organisation key (and its organisation) into a data directory that
    has no hub of another organisation: the doors' certificates verify against it again."""
    if not args.which:
        raise InvalidInput("Name the exported key file: station hub import-key FILE.")
    try:
        raw = Path(args.which).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read {args.which} ({exc.strerror}); nothing was "
                           "changed.") from None
    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is None:
        passphrase = getpass.getpass("Passphrase of the exported key: ")
    org, key = read_export(raw, passphrase)  # before anything is written
    data_dir = args.data_dir or default_data_dir()
    store = Store(data_dir)
    try:
        held = store.setting("org_id")
        if held is not None and held != org:
            raise InvalidInput(f"{data_dir} belongs to organisation {held}, the key to {org}: "
                               "restore into a new data directory; nothing was changed.")
        restore_key(SecretStore(data_dir, org), key)
        if held is None:
            store.set_setting("org_id", org)
    finally:
        store.close()
    print(f"The organisation key of {org} is restored in {data_dir}: start the hub there with "
          "`station hub`, and give the doors its join URL.")
    return 0
