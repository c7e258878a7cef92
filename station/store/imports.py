"""Which CSV rows are already passes (the `imported_rows` table), so a re-run skips them."""

from __future__ import annotations

from collections.abc import Sequence

from station.store.db import Store, Tx, chunks, marks


def imported_keys(tx: Tx, keys: Sequence[str]) -> set[str]:
    """The row keys among `keys` that an earlier import recorded."""
    found: set[str] = set()
    for chunk in chunks(list(keys)):
        found.update(r[0] for r in tx.execute(
            f"SELECT row_key FROM imported_rows WHERE row_key IN ({marks(len(chunk))})", chunk))
    return found


def already_imported(store: Store, keys: Sequence[str]) -> set[str]:
    """As imported_keys, read outside any transaction (to skip drafting and signing them)."""
    conn = store.db().conn
    found: set[str] = set()
    for chunk in chunks(list(keys)):
        found.update(r[0] for r in conn.execute(
            f"SELECT row_key FROM imported_rows WHERE row_key IN ({marks(len(chunk))})", chunk))
    return found


def record_imported(tx: Tx, rows: Sequence[tuple[str, str, str]]) -> None:
    """(row key, pass id, time) of each row, in the transaction that creates those passes."""
    tx.executemany("INSERT INTO imported_rows (row_key, pass_id, imported_at) VALUES (?, ?, ?)", rows)
