"""The import figure of `station bench`: a realistic CSV with e-mails, imported whole, beside
two baselines measured in the same run (the machine is shared: compare ratios, not runs)."""

from __future__ import annotations

import csv
import random
import sqlite3
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.app import build_core
from station.domain.times import to_iso
from station.services.imports import import_passes
from station.store.webhooks import Webhook, WebhookStore

HEADER = ["Order ID", "Name", "Email", "Type", "Max Uses", "Valid Until", "Table", "Company"]


def write_guest_csv(path: Path, n: int, seed: int = 7) -> None:
    """n guests: most with their own address, one in ten a second ticket for an earlier guest's
    address (half of those typed in another case), one in five multi-use, two custom fields."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(n):
            j = rng.randrange(i) if i and rng.random() < 0.1 else i
            email = f"guest.{j}@example.com"
            if j != i and rng.random() < 0.5:
                email = f"Guest.{j}@Example.com"
            multi = i % 5 == 0
            writer.writerow([f"ORD-{i:07d}", f"Guest {j}", email, "multi" if multi else "single",
                             3 if multi else "", "2099-01-01T00:00:00Z", rng.randrange(1, 200),
                             rng.choice(["Acme", "Globex", "Initech", ""])])


def _bare_insert_rate(tmp: Path, source: Path) -> float:
    """Rows/s of one executemany of the file's rows into a bare table (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(tmp / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(f"CREATE TABLE guests ({', '.join(f'c{i}' for i in range(len(HEADER)))})")
    started = time.perf_counter()
    with source.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO guests VALUES ({', '.join('?' * len(HEADER))})", rows)
    conn.execute("COMMIT")
    rate = len(rows) / (time.perf_counter() - started)
    conn.close()
    return rate


def _signing_rate(n: int) -> float:
    key = Ed25519PrivateKey.generate()
    message = b'{"c":"AbCdEfGhIjKl","f":null,"i":"pas_AbCdEfGhIjKlMnOpQrSt","k":"0123456789abcdef"}'
    started = time.perf_counter()
    for _ in range(n):
        key.sign(message)
    return n / (time.perf_counter() - started)


def bench_import(tmp: Path, rows: int, seed: int) -> None:
    source = tmp / "guests-with-emails.csv"
    write_guest_csv(source, rows, seed)
    core = build_core(tmp / "import-data")
    try:
        # A subscriber to each event an import makes, so its outbox rows are written too.
        hooks = WebhookStore(core.store)
        for event in ("pass.created", "client.created"):
            hooks.insert(Webhook(id=f"whk_bench_{event}", event=event,
                                 target_url="https://hooks.example.com/bench",
                                 created_at=to_iso(core.ctx.now())))
        started = time.perf_counter()
        report = import_passes(source, core.passes, core.clients)
        seconds = time.perf_counter() - started
    finally:
        core.close()
    rate = report.imported / seconds
    bare = _bare_insert_rate(tmp, source)
    signing = _signing_rate(min(rows, 20_000))
    print(f"CSV import of {rows:,} rows with e-mails (a tenth repeat an earlier guest's address; "
          "custom fields; webhook subscribers)")
    print(f"  import: {report.imported:,} passes in {seconds:.1f} s = {rate:,.0f} rows/s "
          "(signing, events, clients, outbox)")
    print(f"  same run: Ed25519 signing alone {signing:,.0f}/s; bare executemany of the rows "
          f"{bare:,.0f} rows/s (import takes {bare / rate:.1f}x as long)", flush=True)
