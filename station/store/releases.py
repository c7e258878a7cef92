"""Hub claims waiting to be given back: the durable outbox of SyncClient.release().

A door that undoes the admission of a single-use pass records here, in the undo's own
transaction, that its claim at the hub must be released; the sync part deletes the row once
the hub has been told. So an undo made while the hub was away, or just before the station
stopped, is still released at the next connection, and a guest is not refused "already used"
at every other door for good.
"""

from __future__ import annotations

from station.store.db import Priority, Store, Tx


def record_release(tx: Tx, pass_id: str, admitted_at: str) -> None:
    """Inside the undo's transaction: the claim made for the admission at `admitted_at` must be
    given back. A pass undone twice keeps the later admission (releasing up to it covers both)."""
    tx.execute(
        "INSERT INTO sync_releases (pass_id, admitted_at) VALUES (?, ?) "
        "ON CONFLICT(pass_id) DO UPDATE SET admitted_at = max(admitted_at, excluded.admitted_at)",
        (pass_id, admitted_at),
    )


def pending_releases(store: Store) -> list[tuple[str, str]]:
    """(pass id, admitted at) of every claim not given back yet, oldest pass id first."""
    rows = store.fetch_all(
        "SELECT pass_id, admitted_at FROM sync_releases ORDER BY pass_id")
    return [(str(r["pass_id"]), str(r["admitted_at"])) for r in rows]


def release_done(store: Store, pass_id: str, admitted_at: str) -> None:
    """The hub was told. A row replaced meanwhile (a later undo of the same pass) stays."""
    store.write(lambda tx: tx.execute(
        "DELETE FROM sync_releases WHERE pass_id = ? AND admitted_at = ?", (pass_id, admitted_at)),
        Priority.SYNC)
