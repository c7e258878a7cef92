"""`station passes …`: create, list, show, revoke, activate, attention, import, qr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from station.cli.common import core_options, field_pairs, open_core, print_json, table
from station.domain.errors import InvalidInput
from station.domain.models import Pass, PassStatus, PassType
from station.services.imports import import_passes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parent = core_options()
    group = subparsers.add_parser("passes", help="create, list, revoke and activate passes")
    sub = group.add_subparsers(dest="passes_command", metavar="ACTION", required=True)

    create = sub.add_parser("create", parents=[parent], help="create a pass")
    create.add_argument("--name", required=True)
    create.add_argument("--type", choices=[t.value for t in PassType], default="single")
    create.add_argument("--max-uses", type=int)
    create.add_argument("--valid-from", metavar="TIME")
    create.add_argument("--valid-until", metavar="TIME")
    create.add_argument("--client", metavar="ID")
    create.add_argument("--field", action="append", default=[], metavar="K=V")
    create.add_argument("--attention", metavar="NOTE",
                        help='a note the door shows with an accepted entry, e.g. "Check ID"')
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=_create)

    listing = sub.add_parser("list", parents=[parent], help="list passes, newest first")
    listing.add_argument("--status", choices=[s.value for s in PassStatus])
    listing.add_argument("--type", choices=[t.value for t in PassType])
    listing.add_argument("--search", metavar="Q", help="name, email or exact code")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

    show = sub.add_parser("show", parents=[parent], help="show one pass and its history")
    show.add_argument("ref", metavar="CODE|ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=_show)

    revoke = sub.add_parser("revoke", parents=[parent], help="revoke a pass")
    revoke.add_argument("ref", metavar="CODE|ID")
    revoke.add_argument("--reason", metavar="TEXT")
    revoke.add_argument("--json", action="store_true")
    revoke.set_defaults(func=_revoke)

    note = sub.add_parser("attention", parents=[parent],
                          help="set or clear the note the door shows with the pass's entry")
    note.add_argument("ref", metavar="CODE|ID")
    what = note.add_mutually_exclusive_group(required=True)
    what.add_argument("note", metavar="NOTE", nargs="?", default=None)
    what.add_argument("--clear", action="store_true", help="remove the note")
    note.add_argument("--json", action="store_true")
    note.set_defaults(func=_attention)

    activate = sub.add_parser("activate", parents=[parent], help="re-activate a revoked pass")
    activate.add_argument("ref", metavar="CODE|ID")
    activate.add_argument("--json", action="store_true")
    activate.set_defaults(func=_activate)

    imp = sub.add_parser("import", parents=[parent], help="import passes from a CSV file")
    imp.add_argument("file", metavar="FILE.csv")
    imp.set_defaults(func=_import)

    qr = sub.add_parser("qr", parents=[parent],
                        help="write the pass's QR as the station prints it, name and code under it")
    qr.add_argument("ref", metavar="CODE|ID")
    qr.add_argument("--out", required=True, metavar="FILE.png|FILE.svg")
    qr.set_defaults(func=_qr)


def _print_pass(p: Pass, as_json: bool) -> None:
    if as_json:
        print_json(p.to_api())
        return
    left = p.uses_left()
    print(f"{p.code}  {p.name}  [{p.type}, {p.status}, uses {p.uses}"
          + (f", {left} left" if left is not None and p.type is PassType.MULTI else "") + "]")
    print(f"  id        {p.id}")
    if p.valid_from or p.valid_until:
        print(f"  valid     {p.valid_from or '…'} → {p.valid_until or '…'}")
    if p.client_id:
        print(f"  client    {p.client_id}")
    for key, value in p.fields.items():
        print(f"  {key:<9} {value}")
    print(f"  url       {p.public_url}")


def _attention(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        changed = core.passes.set_attention(args.ref, None if args.clear else args.note, by="cli")
    finally:
        core.close()
    _print_pass(changed, args.json)
    return 0


def _create(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        new = core.passes.validate(args.name, args.type, args.max_uses, args.valid_from,
                                   args.valid_until, args.client, field_pairs(args.field),
                                   args.attention)
        _print_pass(core.passes.create(new, by="cli"), args.json)
    finally:
        core.close()
    return 0


def _list(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        page = core.passes.list(status=args.status, type_=args.type, search=args.search,
                                limit=args.limit)
        if args.json:
            print_json([p.to_api() for p in page.items])
        else:
            rows = [[p.code, p.name[:40], str(p.type), str(p.status), str(p.uses), p.created_at[:16]]
                    for p in page.items]
            print(table(rows, ["CODE", "NAME", "TYPE", "STATUS", "USES", "CREATED"]))
            if page.next_cursor:
                print(f"… more; narrow with --search/--status or raise --limit (now {args.limit})")
    finally:
        core.close()
    return 0


def _show(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        p = core.passes.get(args.ref)
        history = core.passes.history(args.ref)
        if args.json:
            print_json({**p.to_api(), "history": [e.to_payload() for e in history]})
            return 0
        _print_pass(p, False)
        print("  history")
        for event in history:
            data = event.data
            detail = ""
            if event.type == "pass.scanned":
                scan = data.get("scan", {})
                detail = f"{scan.get('verdict')} {scan.get('reason') or ''} via {scan.get('source')}"
            elif event.type == "pass.status_changed":
                detail = f"{data.get('from')} → {data.get('to')} by {data.get('by')}" + (
                    f": {data['reason']}" if data.get("reason") else "")
            print(f"    {event.timestamp}  {event.type:<20} {detail}")
    finally:
        core.close()
    return 0


def _revoke(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        _print_pass(core.passes.revoke(args.ref, reason=args.reason, by="cli"), args.json)
    finally:
        core.close()
    return 0


def _activate(args: argparse.Namespace) -> int:
    core = open_core(args)
    try:
        _print_pass(core.passes.activate(args.ref, by="cli"), args.json)
    finally:
        core.close()
    return 0


def _qr(args: argparse.Namespace) -> int:
    target = Path(args.out)
    if target.suffix.lower() not in (".png", ".svg"):
        raise InvalidInput(f"--out must name a .png or .svg file, not {args.out[:80]!r}.")
    core = open_core(args)
    try:
        p = core.passes.get(args.ref)
    finally:
        core.close()
    # Imported here: Qt is loaded only by the command that paints.
    from station.domain.qr_content import make_qr
    from station.ui.pass_qr import save_labelled_qr

    try:
        save_labelled_qr(target, p.public_url, p.name, p.code)
    except OSError as exc:
        raise InvalidInput(f"Could not write {target}: {exc.strerror or exc}; "
                           "choose a folder you can write to.") from None
    version = make_qr(p.public_url).version
    print(f"Wrote the QR of pass {p.code} ({p.name}, QR version {version}) to {target}.")
    return 0


def _import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    core = open_core(args)
    try:
        with tqdm(total=0, unit="row", file=sys.stderr, disable=None) as bar:

            def total(n: int) -> None:  # known once the file was read through
                bar.total = n
                bar.refresh()

            report = import_passes(path, core.passes, core.clients, progress=bar.update,
                                   on_total=total)
    finally:
        core.close()
    for line, message in report.errors:
        print(f"line {line}: {message}", file=sys.stderr)
    print(report.summary())
    return 1 if report.errors else 0
