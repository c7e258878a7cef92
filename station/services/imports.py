"""CSV import of passes and CSV export of scans.

Bad rows are reported with their line numbers and skipped; good rows are imported in batches of
one transaction each, so a 100k-row file neither holds the writer for long nor loses work.
"""

from __future__ import annotations

import csv

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from station.domain.errors import InvalidInput, StationError
from station.services import validation
from station.services.clients import ClientService
from station.services.passes import NewPass, PassService
from station.store.db import Store

BATCH = 1000
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


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _norm(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum())


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str], dict[str, str]]]:
    """Yield (line number, known columns, custom fields) for each data row."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path} is larger than 512 MiB; split it into smaller files.")
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InvalidInput(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder, not a CSV file.") from None
    with handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise InvalidInput(f"{path} is empty; the first line must name the columns.")
            names = [COLUMNS.get(_norm(h), h.strip()) for h in header]
            if "name" not in names:
                raise InvalidInput(
                    f"{path} has no 'name' column; the first line must name the columns "
                    "(name, email, type, max uses, valid from, valid until)."
                )
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                known: dict[str, str] = {}
                custom: dict[str, str] = {}
                for key, value in zip(names, row, strict=False):
                    (known if key in COLUMNS.values() else custom)[key] = value
                if len(row) > len(names):
                    known["__extra__"] = "yes"
                yield reader.line_num, known, {k: v for k, v in custom.items() if k and v}
        except UnicodeDecodeError:
            raise InvalidInput(f"{path} is not UTF-8 text; save it as CSV UTF-8 and try again.") from None
        except csv.Error as exc:
            raise InvalidInput(f"{path} is not valid CSV: {exc}.") from None


def count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return max(sum(1 for _ in fh) - 1, 0)


def import_passes(path: Path, passes: PassService, clients: ClientService,
                  progress: Callable[[int], None] | None = None) -> ImportReport:
    report = ImportReport()
    batch: list[tuple[NewPass, str | None]] = []

    def flush() -> None:
        if batch:
            report.imported += _import_batch(passes, clients, batch)
            if progress:
                progress(len(batch))
            batch.clear()

    for line, known, custom in _rows(Path(path)):
        try:
            if known.get("__extra__"):
                raise InvalidInput("the row has more cells than the header has columns")
            email = validation.email(known.get("email"))
            new = passes.validate(
                known.get("name"), known.get("type") or "single", known.get("max_uses"),
                known.get("valid_from"), known.get("valid_until"), known.get("client_id"), custom,
            )
        except StationError as exc:
            report.errors.append((line, str(exc)))
            if progress:
                progress(1)
            continue
        batch.append((new, email))
        if len(batch) >= BATCH:
            flush()
    flush()
    return report


def _import_batch(passes: PassService, clients: ClientService,
                  batch: list[tuple[NewPass, str | None]]) -> int:
    with passes.store.transaction() as tx:
        for new, email in batch:
            if email and new.client_id is None:
                client = clients.find_or_create_in(tx, new.name, email)
                new = replace(new, client_id=client.id)
            passes.create_in(tx, new, by="import")
    passes.publish(tx.appended)
    return len(batch)


EXPORT_COLUMNS = ["id", "scannedAt", "verdict", "reason", "passId", "passCode", "passName",
                  "stationId", "source", "operator"]


def export_scans(store: Store, path: Path) -> int:
    count = 0
    tmp = Path(path).with_suffix(Path(path).suffix + ".part")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(EXPORT_COLUMNS)
            for row in store.iter_scan_rows():
                writer.writerow([_safe_cell(row.get(c)) for c in EXPORT_COLUMNS])
                count += 1
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StationError(f"Could not write {path}: {exc.strerror}.") from None
    return count


def _safe_cell(value: object) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheet apps (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text



