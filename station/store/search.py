"""Pass search: the folded `search_key` column and its trigram index (`passes_search`).

`passes.search_key` is the pass's name and e-mail folded (station.domain.textfold): written by
the pass upsert itself (db._upsert_pass_sql calls `station_fold`, a function each connection
of this store registers), so every path that writes a pass row — creation, scans, imports,
passes applied from other stations — keeps it current. `passes_search` is an FTS5 index over
that column with the trigram tokenizer (substrings of three characters or more): the upsert
indexes the rows it added (index_new_rows, one statement per batch), triggers follow a changed
key; the scan path, which rewrites a pass row with the same key, does not touch it.

A query is folded the same way and split into words: each word of three characters or more is
looked up in the index, shorter ones are matched with LIKE on the rows the index found. A query
matching many passes (or only short words) is matched by LIKE on the key while reading the
passes in the page's order, which stops at a page (is_common). A query equal to a pass code
finds that pass (exact, by the code's own unique index).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from station.domain.textfold import fold

FOLD_FUNCTION = "station_fold"
MIN_INDEXED = 3  # the trigram tokenizer cannot look up fewer characters
COMMON = 500  # matches from which a page is read in order rather than sorted (is_common)
COMMON_COUNT = 10_000  # matches from which counting them by LIKE on every row is faster


def _fold_or_none(text: str | None) -> str | None:
    return None if text is None else fold(text)


def register(conn: sqlite3.Connection) -> None:
    """Make `station_fold(text)` available to SQL on `conn` (the pass upsert and migration use it)."""
    conn.create_function(FOLD_FUNCTION, 1, _fold_or_none, deterministic=True)


def last_rowid(conn: sqlite3.Connection) -> int:
    """The highest pass rowid: rows inserted after this call have higher ones."""
    return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM passes").fetchone()[0])


def index_new_rows(conn: sqlite3.Connection, after_rowid: int) -> None:
    """Index the passes inserted since `last_rowid()` returned `after_rowid` (same transaction)."""
    conn.execute("INSERT INTO passes_search (rowid, search_key) "
                 "SELECT rowid, search_key FROM passes WHERE rowid > ?", (after_rowid,))


def key_sql(name: str, email: str) -> str:
    """SQL for the search key of a pass from two SQL expressions (its name and its e-mail)."""
    return f"{FOLD_FUNCTION}({name} || ' ' || coalesce({email}, ''))"


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


# Control characters separate words: a NUL would end an FTS5 query string early.
_CONTROLS = {c: " " for c in [*range(32), 127]}


def _words(query: str) -> tuple[list[str], list[str]]:
    """The query's folded words: those the index can look up, and the shorter ones."""
    words = fold(query.translate(_CONTROLS)).split()
    return [w for w in words if len(w) >= MIN_INDEXED], [w for w in words if len(w) < MIN_INDEXED]


def is_common(conn: sqlite3.Connection, query: str, *, for_count: bool = False) -> bool:
    """Whether `query` matches so many passes that a page of them is found faster by reading
    the passes newest first and stopping at a page (LIKE) than by sorting every match the
    index finds ("example" in 100k e-mails: 0.8 against 270 ms; "chloe", 5k matches, took
    15 ms from the index; docs/search-benchmark.md). Asks the index for at most COMMON matches; a count has its own
    limit (COMMON_COUNT): the index counts 5k matches in 4 ms, LIKE in 18."""
    limit = COMMON_COUNT if for_count else COMMON
    indexed, _short = _words(query)
    if not indexed:
        return True
    expression = " AND ".join(_phrase(w) for w in indexed)
    found = conn.execute("SELECT count(*) FROM (SELECT 1 FROM passes_search "
                         "WHERE passes_search MATCH ? LIMIT ?)", (expression, limit)).fetchone()[0]
    return int(found) >= limit


def filter_sql(query: str, *, common: bool = False) -> tuple[str, list[Any]]:
    """A WHERE term on `passes` (and its parameters) for the passes `query` finds; `common`
    (see is_common) matches every word by LIKE on the key, for a scan in the page's order."""
    indexed, short = _words(query)
    terms: list[str] = []
    params: list[Any] = []
    if indexed and not common:
        terms.append("rowid IN (SELECT rowid FROM passes_search WHERE passes_search MATCH ?)")
        params.append(" AND ".join(_phrase(w) for w in indexed))
    for word in (short if indexed and not common else indexed + short):
        terms.append("search_key LIKE ? ESCAPE '\\'")
        params.append(_like(word))
    if not terms:  # nothing left to match once folded (only marks or spaces): the code alone
        return "code = ?", [query]
    return f"(code = ? OR ({' AND '.join(terms)}))", [query, *params]
