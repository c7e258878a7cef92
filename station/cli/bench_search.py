"""The search figure of `station bench --only search`: the Passes view's two queries (a page of
51 and the count) for typical searches over N passes, with the folded trigram index, beside
the LIKE scan it replaced (case-sensitive to accents, ASCII-only case) on the same database in
the same run (the machine is shared: compare the two columns, not runs)."""

from __future__ import annotations

import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from station.app import build_core
from station.cli.bench_data import fill_passes
from station.domain.codes import new_id
from station.domain.models import Pass, PassStatus, PassType
from station.store.db import Store

FIRST = ["Chloé", "Hans", "Ada", "Bob", "Zoë", "Łukasz", "Anna", "Jean", "Marie", "Ørjan", "Guest",
         "Noah", "Emma", "Liam", "Sofía", "Mateo", "Aisha", "Yuki", "Olga", "François"]
LAST = ["Müller", "Ørsted", "Lovelace", "Builder", "Dupont", "Kowalski", "Smith", "Nguyen",
        "García", "Schröder", "O'Brien", "Rossi", "Novák", "Jensen", "Silva", "Kim"]
PAGE = 51  # the Passes view asks for a page of 50 (and one more to know there is a next)

# The search before the index: substrings by LIKE, which folds ASCII letters only.
OLD_WHERE = "(code = ? OR name LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')"


def _old_params(q: str) -> list[str]:
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return [q, like, like]


def _fill(store: Store, n: int, seed: int) -> list[str]:
    """n passes written through the store's upsert (bench_data.fill_passes: no signing, so the
    database fills in seconds). Returns their codes."""
    rng = random.Random(seed)
    epoch = datetime(2026, 1, 1)
    codes = [f"B{i:011d}" for i in range(n)]

    def make(i: int) -> Pass:
        stamp = (epoch + timedelta(milliseconds=i)).isoformat(timespec="milliseconds") + "Z"
        return Pass(id=new_id("pas"), code=codes[i], name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                    type=PassType.SINGLE, status=PassStatus.ACTIVE, uses=0,
                    public_url=f"https://example.com/p/{codes[i]}", created_at=stamp,
                    updated_at=stamp)

    fill_passes(store, n, make, email=lambda i: f"guest.{i}@example.com")
    return codes


def _fetch(conn: sqlite3.Connection, sql: str, params: Sequence[object]) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def bench_search(tmp: Path, n: int, seed: int = 7, repeat: int = 15) -> None:
    core = build_core(tmp / "data")
    try:
        store = core.store
        started = time.perf_counter()
        codes = _fill(store, n, seed)
        print(f"search: {n:,} passes written in {time.perf_counter() - started:.1f} s "
              f"(store upsert, index included); median of {repeat} runs, ms")
        queries = ["chloe", "Chloé", "mull", "schroder", "uest.4242@", codes[n // 2], "example", "bo"]
        conn = store.db().conn
        print(f"{'query':>14} {'found':>7} {'page':>8} {'count':>8} {'LIKE page':>10} "
              f"{'LIKE count':>11} {'LIKE found':>11}")
        for q in queries:
            found = store.count_passes(search=q)
            page = _median_ms(partial(store.list_passes, search=q, limit=PAGE), repeat)
            count = _median_ms(partial(store.count_passes, search=q), repeat)
            old_page = _median_ms(partial(
                _fetch, conn, f"SELECT * FROM passes WHERE {OLD_WHERE} "
                "ORDER BY created_at DESC, rowid DESC LIMIT ?", [*_old_params(q), PAGE]), repeat)
            old_count = _median_ms(partial(
                _fetch, conn, f"SELECT count(*) FROM passes WHERE {OLD_WHERE}", _old_params(q)),
                repeat)
            old_found = conn.execute(f"SELECT count(*) FROM passes WHERE {OLD_WHERE}",
                                     _old_params(q)).fetchone()[0]
            label = q if len(q) <= 14 else q[:13] + "…"
            print(f"{label:>14} {found:>7,} {page:>8.2f} {count:>8.2f} {old_page:>10.2f} "
                  f"{old_count:>11.2f} {old_found:>11,}", flush=True)
    finally:
        core.close()
