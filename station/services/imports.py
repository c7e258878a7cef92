"""CSV import of passes and CSV export of scans.

Bad rows are reported with their line numbers and skipped; good rows are imported in batches of
one transaction each, so a 100k-row file neither holds the writer for long nor loses work.

Each row has a stable identity, recorded with its pass: the value of its reference column
(`ref`, `order id`… see REF_COLUMNS) when the file has one and the row fills it, else a hash of
the row's content; with the row's occurrence among rows of the same identity in the file, so
that two identical rows (two tickets for one person) are two passes. Importing a file again —
after a kill, or once it finished — imports only the rows not imported yet.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.domain.errors import InvalidInput, StationError
from station.domain.events import Event
from station.domain.models import Client, Pass
from station.services import validation
from station.services.clients import ClientService
from station.services.pass_signer import PassSigner
from station.services.passes import Draft, NewPass, PassService
from station.store import imports as import_store
from station.store.db import Priority, Store, Tx
from station.store.privacy import create_private_file

# Rows signed and written per writer job, in steps of STEP rows. The steps share one
# transaction while the door is quiet (each commit waits for the disk: 30-40 ms here), and
# commit at the next step when a door's scan is queued (the writer puts DOOR first): a scan
# waits for one step of the import at most.
BATCH = 5000
STEP = 1000
MAX_FILE_BYTES = 512 * 1024 * 1024

# Accepted spellings of each column, normalised to lower case without spaces, _ or -.
COLUMNS = {
    "name": "name",
    "email": "email",
    "type": "type",
    "maxuses": "max_uses",
    "validfrom": "valid_from",
    "validuntil": "valid_until",
    "clientid": "client_id",
}
# A column naming the row in the system the file came from (the first one found is used; it
# also stays a custom field of the pass). A bare `id` is not one: it may be anything.
REF_COLUMNS = frozenset({
    "ref", "reference", "order", "orderid", "orderno", "ordernumber", "orderref",
    "ticketid", "ticketno", "ticketnumber", "ticketref", "bookingid", "bookingref",
    "bookingreference", "externalid",
})


@dataclass
class ImportReport:
    imported: int = 0
    already_imported: int = 0  # rows an earlier import of the same rows made passes of
    errors: list[tuple[int, str]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)  # the file's column names
    refused_cells: dict[int, list[str]] = field(default_factory=dict)  # line -> cells, as read
    cancelled: bool = False  # stopped on request: the rows after the last batch were not read

    def summary(self) -> str:
        done = f"imported {self.imported:,} passes, {len(self.errors):,} rows refused"
        if self.cancelled:
            done += "; cancelled: importing the file again adds the rows still missing"
        if self.already_imported:
            return f"{self.already_imported:,} rows were already imported; {done}"
        return done

    def cell(self, line: int, column: str) -> str:
        """The cell of the refused row at `line` under a known column ("name", "email"…)."""
        cells = self.refused_cells.get(line, [])
        for i, header in enumerate(self.header):
            if COLUMNS.get(_norm(header)) == column and i < len(cells):
                return cells[i]
        return ""


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    key: str
    cells: list[str]
    new: NewPass
    email: str | None


# A line break inside a quoted cell is valid CSV (a spreadsheet cell with Alt+Enter); on a pass
# it is a space, as a badge or a list shows it on one line.
_LINE_BREAK = re.compile(r"[ \t]*[\r\n]+[ \t]*")


def _one_line(cell: str) -> str:
    return _LINE_BREAK.sub(" ", cell) if "\n" in cell or "\r" in cell else cell


def _norm(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


@contextlib.contextmanager
def _reader(path: Path) -> Iterator[tuple[list[str], Any]]:
    """The file's header and a csv reader after it; every way a file can be unreadable is one
    InvalidInput sentence."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path} is larger than 512 MiB; split it into smaller files.")
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a CSV file.") from None
    except PermissionError:
        raise InvalidInput(f"{path} cannot be read (permission denied); check its permissions.") from None
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise InvalidInput(f"{path} is empty; the first line must name the columns.")
            if "name" not in (COLUMNS.get(_norm(h)) for h in header):
                raise InvalidInput(
                    f"{path} has no 'name' column; the first line must name the columns "
                    "(name, email, type, max uses, valid from, valid until)."
                )
            yield header, reader
        except UnicodeDecodeError:
            raise InvalidInput(f"{path} is not UTF-8 text; save it as CSV UTF-8 and try again.") from None
        except csv.Error as exc:
            raise InvalidInput(f"{path} is not valid CSV: {exc}.") from None


def _rows(path: Path, header_out: list[str]
          ) -> Iterator[tuple[int, str, dict[str, str], dict[str, str], list[str]]]:
    """Yield (line number, row key, known columns, custom fields, cells) for each data row;
    the header goes into `header_out`."""
    with _reader(path) as (header, reader):
        header_out[:] = header
        normed = [_norm(h) for h in header]
        names = [COLUMNS.get(n, h.strip()) for n, h in zip(normed, header, strict=True)]
        ref = next((i for i, n in enumerate(normed) if n in REF_COLUMNS), None)
        known_names = set(COLUMNS.values())
        seen: dict[str, int] = {}
        while True:
            # A record may span lines (a quoted cell with a line break): its line number
            # is the one it starts on, where a spreadsheet user looks for it.
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                break
            if not any(cell.strip() for cell in row):
                continue
            joined = "".join(row)  # one search a row: a cell with a line break is rare
            if "\n" in joined or "\r" in joined:
                row = [_one_line(cell) for cell in row]
            known: dict[str, str] = {}
            custom: dict[str, str] = {}
            for key, value in zip(names, row, strict=False):
                (known if key in known_names else custom)[key] = value
            if len(row) > len(names):
                known["__extra__"] = "yes"
            base = _identity(normed, row, ref)
            seen[base] = occurrence = seen.get(base, -1) + 1
            yield (start, f"{base}#{occurrence}", known,
                   {k: v for k, v in custom.items() if k and v}, row)


def _identity(normed: list[str], row: list[str], ref: int | None) -> str:
    """The row's reference when it has one, else a hash of its non-empty cells by column
    (column order, spelling and surrounding spaces do not change it)."""
    if ref is not None and ref < len(row) and row[ref].strip():
        return "ref:" + row[ref].strip()
    cells = sorted(f"{n}\x1e{v.strip()}" for n, v in zip(normed, row, strict=False) if v.strip())
    return "row:" + hashlib.sha256("\x1f".join(cells).encode()).hexdigest()[:32]


def count_rows(path: Path) -> int:
    """The file's data records (a quoted cell may span lines), read through once: a file that
    is not UTF-8 or not CSV anywhere is refused here, before anything is imported."""
    with _reader(Path(path)) as (_header, reader):
        return sum(1 for _ in reader)


def import_passes(path: Path, passes: PassService, clients: ClientService,
                  progress: Callable[[int], object] | None = None, *,
                  on_total: Callable[[int], None] | None = None,
                  cancel: threading.Event | None = None) -> ImportReport:
    """Import the rows of a CSV file as passes. A regular file is read through first: one
    that cannot be read whole imports nothing (a pipe can be read once only: its rows are
    imported as they come). `on_total(records)` is called after that pass, `progress(rows)`
    after each batch; setting `cancel` stops after the batch being written (the batches
    before it stay: importing the file again adds the rest)."""
    if Path(path).is_file():
        total = count_rows(Path(path))
        if on_total:
            on_total(total)
    report = ImportReport()
    signer = passes.batch_signer()
    batch: list[_Row] = []
    # A batch is signed (in the worker) while the one before it is written: one in flight.
    pending: _Signing | None = None

    def flush() -> None:
        nonlocal pending
        if not batch:
            return
        known = import_store.already_imported(passes.store, [r.key for r in batch])
        todo = [r for r in batch if r.key not in known]
        drafts = passes.drafts([r.new for r in todo])
        signing = _Signing(list(batch), todo, drafts, signer.submit([d.claims for d in drafts]))
        batch.clear()
        if pending is not None:
            _write(passes, clients, signer, pending, report, progress)
        pending = signing

    try:
        for line, key, known, custom, cells in _rows(Path(path), report.header):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            try:
                if known.get("__extra__"):
                    raise InvalidInput("the row has more cells than the header has columns")
                email = validation.email(known.get("email"))
                new = passes.validate(
                    known.get("name"), known.get("type") or "single", known.get("max_uses"),
                    known.get("valid_from"), known.get("valid_until"), known.get("client_id"),
                    custom,
                )
            except StationError as exc:
                report.errors.append((line, str(exc)))
                report.refused_cells[line] = cells
                if progress:
                    progress(1)
                continue
            batch.append(_Row(line, key, cells, new, email))
            if len(batch) >= BATCH:
                flush()
        if not report.cancelled:
            flush()
        if pending is not None:
            _write(passes, clients, signer, pending, report, progress)
    finally:
        signer.close()
    report.errors.sort()
    return report


@dataclass(frozen=True, slots=True)
class _Signing:
    batch: list[_Row]
    todo: list[_Row]  # the rows not imported before, as far as a read before the batch saw
    drafts: list[Draft]
    signatures: Future[list[bytes]]


def _write(passes: PassService, clients: ClientService, signer: PassSigner, signing: _Signing,
           report: ImportReport, progress: Callable[[int], object] | None) -> None:
    """One writer job: the batch's rows not imported before become passes (with their
    clients), and their keys are recorded with them, in steps of STEP rows."""
    signatures = signer.result(signing.signatures, [d.claims for d in signing.drafts])

    def step(tx: Tx, todo: list[_Row], drafts: list[Draft], signed: list[bytes]
             ) -> tuple[list[Pass], set[str], list[Event]]:
        # Checked again inside the transaction: another import may have written since the read.
        done = import_store.imported_keys(tx, [r.key for r in todo])
        named = tx.clients_by_ids([r.new.client_id for r in todo
                                   if r.new.client_id is not None and r.key not in done])
        rows: list[_Row] = []
        kept: list[Draft] = []
        kept_signed: list[bytes] = []
        for r, d, signature in zip(todo, drafts, signed, strict=True):
            if r.key in done:
                continue
            if r.new.client_id is not None and r.new.client_id not in named:
                report.errors.append(
                    (r.line, f"No client has id {r.new.client_id!r}; create the client first."))
                report.refused_cells[r.line] = r.cells
                continue
            rows.append(r)
            kept.append(d)
            kept_signed.append(signature)
        # A row naming a client id keeps it (and its address); one with an e-mail gets the
        # client of that address, found or created.
        client_of: list[Client | None] = [named.get(r.new.client_id) if r.new.client_id else None
                                          for r in rows]
        by_email = [i for i, r in enumerate(rows) if r.email and r.new.client_id is None]
        found = clients.find_or_create_many_in(
            tx, [(rows[i].new.name, rows[i].email or "") for i in by_email])
        for i, client in zip(by_email, found, strict=True):
            client_of[i] = client
        created = passes.write_drafts_in(tx, kept, kept_signed, by="import", clients=client_of)
        import_store.record_imported(
            tx, [(r.key, p.id, p.created_at) for r, p in zip(rows, created, strict=True)])
        return created, done, tx.appended

    steps = [functools.partial(step, todo=signing.todo[i:i + STEP],
                               drafts=signing.drafts[i:i + STEP], signed=signatures[i:i + STEP])
             for i in range(0, len(signing.todo), STEP)]
    results = passes.store.submit_steps(steps, Priority.USER).result() if steps else []
    for created, done, appended in results:
        passes.publish(appended)
        report.imported += len(created)
        report.already_imported += len(done)
    # Rows found imported before the batch was signed were not drafted: imported already.
    report.already_imported += len(signing.batch) - len(signing.todo)
    if progress:
        progress(len(signing.batch))


EXPORT_COLUMNS = ["id", "scannedAt", "verdict", "reason", "passId", "passCode", "passName",
                  "stationId", "source", "operator"]


def export_scans(store: Store, path: Path) -> int:
    rows = ([row.get(c) for c in EXPORT_COLUMNS] for row in store.iter_scan_rows())
    return _write_csv(path, EXPORT_COLUMNS, rows)


def write_report(report: ImportReport, path: Path) -> int:
    """The refused rows of an import as CSV: line, reason, then the row's cells under the
    file's own column names (fix them there and import the file again). Returns the rows."""
    header = ["line", "reason", *report.header]
    rows = ([line, reason, *report.refused_cells.get(line, [])] for line, reason in report.errors)
    return _write_csv(path, header, rows)


def _write_csv(path: Path, header: list[str], rows: Iterator[list[object]]) -> int:
    """Write a whole CSV file or nothing: a partial file is never left under `path`."""
    count = 0
    tmp = Path(path).with_suffix(Path(path).suffix + ".part")
    try:
        tmp.unlink(missing_ok=True)
        create_private_file(tmp)  # as private as the database, whatever the process's umask
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_safe_cell(v) for v in row])
                count += 1
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StationError(f"Could not write {path}: {exc.strerror}; choose another folder "
                           f"or free some space, then export again.") from None
    return count


def _safe_cell(value: object) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheet apps (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text



