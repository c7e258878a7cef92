"""The occupancy fold kept as rows, in the transaction of the event that changes it.

`keep_occupancy` is an append hook (every event a transaction inserts: the door's own scans and
what sync brings). A fact that sorts after every fact applied so far (`occupancy_head`) is
applied as `occupancy.Tally.apply` does, with a few statements; a fact from the past, or any
undo, refolds that one pass (its events and the check-outs) and moves the counts by the
difference; a check-out from the past rebuilds everything. The rows then always equal
`fold_occupancy` of the facts held (tests/integration/test_occupancy_store.py), and reading
"inside now" is a few rows whatever the number of scans. '' stands for "no list" in the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from station.domain.events import Event, EventType
from station.domain.occupancy import Kind, Movement, OpenEntry, Tally, fold_tally, movement_from_event
from station.store.rows import event_from_row
from station.store.tx import Tx, chunks, marks

HEAD = "occupancy_head"  # setting: the greatest order key applied, as a JSON list
NO_LIST = ""
_SEP = "\x1f"  # below every printable character: joined keys sort as the key tuples do
_FACT_TYPES = (EventType.PASS_SCANNED, EventType.SCAN_REVERTED, EventType.OCCUPANCY_CHECKOUT)
Key = tuple[str, str, str]
_CHECKOUTS = "occupancy_checkouts"  # tx.memo: the check-outs, until one is inserted


def encode_key(key: Key) -> str:
    return _SEP.join(key)


def decode_key(text: str) -> Key:
    a, b, c = (text.split(_SEP) + ["", "", ""])[:3]
    return (a, b, c)


def row_list(list_id: str | None) -> str:
    return list_id or NO_LIST


def keep_occupancy(tx: Tx, events: Sequence[Event]) -> None:
    """Append hook: fold the movements among `events` (just inserted) into the rows."""
    found = [(e, m) for e in events if (m := movement_from_event(e)) is not None]
    if not found:
        return
    if any(m.kind is Kind.CHECKOUT for _, m in found):
        tx.memo.pop(_CHECKOUTS, None)
    head = _head(tx)
    fast: list[Movement] = []
    slow: set[str] = set()
    for event, m in sorted(found, key=lambda em: em[1].key):
        past = head is not None and m.key <= head
        if m.kind is Kind.CHECKOUT:
            if past:
                rebuild(tx)
                return
            fast.append(m)
        elif m.kind is Kind.REVERT:
            if event.pass_id is None:
                rebuild(tx)
                return
            slow.add(event.pass_id)
        elif m.pass_id is not None:
            # An undo sorts after the scan it names (its station held the scan: the HLC moved
            # past it), so a scan whose undo is already applied is never on the fast path.
            if past and not _after_all_its_facts(tx, m):
                slow.add(m.pass_id)
            else:
                fast.append(m)
    for m in fast:
        if m.kind is Kind.CHECKOUT:
            _checkout(tx, m.list_id)
        elif m.pass_id in slow:
            continue  # its refold below counts it
        elif m.kind is Kind.ENTRY:
            _enter(tx, m)
        else:
            _exit(tx, m)
    if slow:
        refold_passes(tx, sorted(slow))
    newest = max(m.key for _, m in found)
    if head is None or newest > head:
        _set_head(tx, newest)


def _after_all_its_facts(tx: Tx, m: Movement) -> bool:
    """Whether a fact from the past still sorts after every event of its pass and every
    check-out: then the pass's rows are the fold of everything before it, and it applies as
    a new fact does (a sync download's facts mostly are; refolding each cost ~45 us)."""
    assert m.pass_id is not None
    if tx.last_event_key(m.pass_id) != m.key:
        return False
    checkouts = _movements(_checkouts(tx))
    return not checkouts or m.key > max(c.key for c in checkouts)


def _head(tx: Tx) -> Key | None:
    if HEAD not in tx.memo:
        row = tx.fetch_one("SELECT value FROM settings WHERE key = ?", (HEAD,))
        value = json.loads(row[0]) if row else None
        tx.memo[HEAD] = (value[0], value[1], value[2]) if value else None
    head: Key | None = tx.memo[HEAD]
    return head


def _set_head(tx: Tx, key: Key | None) -> None:
    tx.memo[HEAD] = key
    tx.set_setting(HEAD, list(key) if key else None)


def _bump(tx: Tx, list_id: str, n: int) -> None:
    tx.execute("INSERT INTO occupancy_counts (list_id, inside) VALUES (?, ?) "
               "ON CONFLICT(list_id) DO UPDATE SET inside = inside + excluded.inside", (list_id, n))


def _enter(tx: Tx, m: Movement) -> None:
    assert m.pass_id is not None
    lst = row_list(m.list_id)
    tx.execute("INSERT OR IGNORE INTO occupancy_open (pass_id, list_id, entry_key, scan_id) "
               "VALUES (?, ?, ?, ?)", (m.pass_id, lst, encode_key(m.key), m.scan_id))
    tx.execute("INSERT OR IGNORE INTO occupancy_visited (pass_id, list_id) VALUES (?, ?)",
               (m.pass_id, lst))
    _bump(tx, lst, 1)


def _exit(tx: Tx, m: Movement) -> None:
    """The pass's latest open entry on the exit's list, else its latest on any list."""
    row = tx.fetch_one("SELECT entry_key, list_id FROM occupancy_open WHERE pass_id = ? "
                       "ORDER BY list_id = ? DESC, entry_key DESC LIMIT 1",
                       (m.pass_id, row_list(m.list_id)))
    if row is None:
        return  # not recorded as inside: no count changes (never negative)
    tx.execute("DELETE FROM occupancy_open WHERE pass_id = ? AND entry_key = ?",
               (m.pass_id, row[0]))
    _bump(tx, row[1], -1)


def _checkout(tx: Tx, list_id: str | None) -> None:
    if list_id is None:
        for table in ("occupancy_open", "occupancy_visited", "occupancy_counts"):
            tx.execute(f"DELETE FROM {table}")
        return
    for table in ("occupancy_open", "occupancy_visited"):
        tx.execute(f"DELETE FROM {table} WHERE list_id = ?", (list_id,))
    tx.execute("UPDATE occupancy_counts SET inside = 0 WHERE list_id = ?", (list_id,))


def _checkouts(tx: Tx) -> list[Event]:
    """Every check-out (few), read once per transaction: a sync batch refolds many passes."""
    if _CHECKOUTS not in tx.memo:
        tx.memo[_CHECKOUTS] = [event_from_row(dict(r)) for r in tx.execute(
            "SELECT * FROM events WHERE type = ?", (EventType.OCCUPANCY_CHECKOUT,))]
    checkouts: list[Event] = tx.memo[_CHECKOUTS]
    return checkouts


def _movements(events: Iterable[Event]) -> list[Movement]:
    return [m for e in events if (m := movement_from_event(e)) is not None]


def refold_passes(tx: Tx, pass_ids: Sequence[str]) -> None:
    """Replace each pass's rows by the fold of its facts and every check-out, and move the
    counts by the difference (a pass's presence depends only on those). Their events are read
    a chunk of passes at a time: a sync batch from the past refolds most of its passes."""
    checkouts = _movements(_checkouts(tx))
    for chunk in chunks(pass_ids):
        facts: dict[str, list[Movement]] = {p: [] for p in chunk}
        # No filter by type: SQLite may then pick idx_events_type_time and read every scan.
        for row in tx.execute(f"SELECT * FROM events WHERE pass_id IN ({marks(len(chunk))})",
                              chunk):
            m = movement_from_event(event_from_row(dict(row)))
            if m is not None:
                facts[row["pass_id"]].append(m)
        for pass_id, own in facts.items():
            _replace_pass(tx, pass_id, fold_tally([*own, *checkouts]))


def _replace_pass(tx: Tx, pass_id: str, tally: Tally) -> None:
    for row in tx.execute("SELECT list_id, count(*) FROM occupancy_open WHERE pass_id = ? "
                          "GROUP BY list_id", (pass_id,)).fetchall():
        _bump(tx, row[0], -int(row[1]))
    tx.execute("DELETE FROM occupancy_open WHERE pass_id = ?", (pass_id,))
    tx.execute("DELETE FROM occupancy_visited WHERE pass_id = ?", (pass_id,))
    _write_pass(tx, pass_id, tally.open.get(pass_id, []), tally.visited.get(pass_id, set()))
    for entry in tally.open.get(pass_id, []):
        _bump(tx, row_list(entry.list_id), 1)


def _write_pass(tx: Tx, pass_id: str, entries: Sequence[OpenEntry],
                visited: Iterable[str | None]) -> None:
    tx.executemany("INSERT INTO occupancy_open (pass_id, list_id, entry_key, scan_id) "
                   "VALUES (?, ?, ?, ?)",
                   [(pass_id, row_list(e.list_id), encode_key(e.key), e.scan_id) for e in entries])
    tx.executemany("INSERT INTO occupancy_visited (pass_id, list_id) VALUES (?, ?)",
                   [(pass_id, row_list(v)) for v in visited])


def rebuild(tx: Tx) -> None:
    """Every row again from the whole log (a check-out from the past, the migration). ~10 µs
    a fact: seconds at a million scans, so never on the door's path for an ordinary scan."""
    rows = tx.execute(f"SELECT * FROM events WHERE type IN ({marks(len(_FACT_TYPES))})",
                      _FACT_TYPES)
    facts = _movements(event_from_row(dict(r)) for r in rows)
    tally: Tally = fold_tally(facts)
    for table in ("occupancy_open", "occupancy_visited", "occupancy_counts"):
        tx.execute(f"DELETE FROM {table}")
    for pass_id in set(tally.open) | set(tally.visited):
        _write_pass(tx, pass_id, tally.open.get(pass_id, []), tally.visited.get(pass_id, set()))
    tx.executemany("INSERT INTO occupancy_counts (list_id, inside) VALUES (?, ?)",
                   [(row_list(lst), n) for lst, n in tally.by_list.items()])
    _set_head(tx, max((m.key for m in facts), default=None))
