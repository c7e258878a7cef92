"""CSV import: e-mails found through an index, batches, and re-runs that import only what is missing."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from station.app import Core
from station.domain.events import Event, EventType
from station.domain.models import Verdict
from station.services.imports import BATCH, import_passes
from station.store.db import Store
from tests.conftest import REPO, StationCLI

CLIENT_BY_EMAIL = "SELECT * FROM clients WHERE email = ? COLLATE NOCASE ORDER BY created_at LIMIT 1"


def write_rows(path: Path, rows: list[list[str]],
               header: tuple[str, ...] = ("Name", "Email", "Type", "Table")) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def guests(n: int, start: int = 0) -> list[list[str]]:
    return [[f"Guest {i}", f"guest.{i}@example.com", "single", str(i % 40)] for i in range(start, start + n)]


def count(data_dir: Path, sql: str = "SELECT count(*) FROM passes") -> int:
    conn = sqlite3.connect(data_dir / "station.db", timeout=30)
    try:
        return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # the station has not created its tables yet
        return 0
    finally:
        conn.close()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_client_lookup_by_email_uses_an_index(tmp_path: Path) -> None:
    # Each imported row with an e-mail looks its client up: a table scan made imports quadratic.
    Store(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "station.db")
    plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + CLIENT_BY_EMAIL, ("a@b.io",)))
    conn.close()
    assert "SCAN" not in plan and "USING INDEX" in plan, plan


def test_email_matching_ignores_case_and_reuses_the_oldest_client(core: Core, tmp_path: Path) -> None:
    ada = core.clients.create("Ada Lovelace", "Ada@Example.com")
    source = tmp_path / "guests.csv"
    write_rows(source, [["Ada", "ada@example.COM", "single", "1"],
                        ["Bob", "bob@example.com", "single", "2"],
                        ["Bob again", "BOB@example.com", "multi", "3"]])
    report = import_passes(source, core.passes, core.clients)
    assert (report.imported, report.errors) == (3, [])
    clients = core.clients.list(limit=10).items
    assert sorted(c.email for c in clients) == ["Ada@Example.com", "bob@example.com"]
    passes = {p.name: p for p in core.passes.list(limit=10).items}
    assert passes["Ada"].client_id == ada.id
    assert passes["Bob"].client_id == passes["Bob again"].client_id != ada.id
    assert core.passes.list(search="bob@example.com").items  # the pass row carries the e-mail


def test_a_rerun_imports_only_rows_not_imported_yet_and_says_so(cli: StationCLI, tmp_path: Path) -> None:
    source = tmp_path / "guests.csv"
    # Two identical rows are two tickets for the same person: both are passes, every time.
    rows = [*guests(5), ["Guest 0", "guest.0@example.com", "single", "0"]]
    write_rows(source, rows)
    first = cli("passes", "import", str(source))
    assert "imported 6 passes, 0 rows refused" in first.stdout
    assert "already imported" not in first.stdout

    again = cli("passes", "import", str(source))
    assert "6 rows were already imported; imported 0 passes, 0 rows refused" in again.stdout
    write_rows(source, [*rows, *guests(3, start=5), ["Guest 0", "guest.0@example.com", "single", "0"]])
    grown = cli("passes", "import", str(source))
    assert "6 rows were already imported; imported 4 passes, 0 rows refused" in grown.stdout
    assert count(cli.data_dir) == 10
    assert count(cli.data_dir, "SELECT count(*) FROM clients") == 8


def test_a_reference_column_is_the_row_identity(cli: StationCLI, tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    header = ("Order ID", "Name", "Email")
    write_rows(source, [["A-1", "Ada", "ada@example.com"], ["A-1", "Ada's guest", "ada@example.com"],
                        ["B-2", "Bob", "bob@example.com"]], header)
    cli("passes", "import", str(source))
    # The same orders exported again with a name corrected are the same rows: nothing doubles.
    write_rows(source, [["A-1", "Ada L.", "ada@example.com"], ["A-1", "Ada's guest", "ada@example.com"],
                        ["B-2", "Bob", "bob@example.com"], ["C-3", "Cy", ""]], header)
    again = cli("passes", "import", str(source))
    assert "3 rows were already imported; imported 1 passes" in again.stdout
    names = sorted(row[0] for row in sqlite3.connect(cli.data_dir / "station.db").execute(
        "SELECT name FROM passes"))
    assert names == ["Ada", "Ada's guest", "Bob", "Cy"]
    conn = sqlite3.connect(cli.data_dir / "station.db")
    fields = {r[0] for r in conn.execute("SELECT fields FROM passes WHERE name = 'Bob'")}
    conn.close()
    assert fields == {'{"Order ID": "B-2"}'}  # the reference stays on the pass as a field


def test_an_unknown_client_id_refuses_that_row_only(core: Core, tmp_path: Path) -> None:
    source = tmp_path / "guests.csv"
    write_rows(source, [["Ada", "cli_nobody"], ["Bob", ""]], ("Name", "Client ID"))
    report = import_passes(source, core.passes, core.clients)
    assert report.imported == 1
    assert [(line, "cli_nobody" in message) for line, message in report.errors] == [(2, True)]


def test_events_are_published_after_each_batch_commits(core: Core, tmp_path: Path) -> None:
    committed_when_seen: list[tuple[Event, int]] = []

    def on_event(event: Event) -> None:
        if event.type == EventType.PASS_CREATED:
            # A fresh reader sees only committed rows: the pass must already be there.
            committed_when_seen.append((event, count(core.store.data_dir,
                                                     f"SELECT count(*) FROM passes WHERE id = '{event.pass_id}'")))

    core.bus.subscribe(on_event)
    source = tmp_path / "guests.csv"
    n = 5 * BATCH + 10
    write_rows(source, guests(n))
    report = import_passes(source, core.passes, core.clients)
    assert report.imported == n
    assert len(committed_when_seen) == n
    assert all(seen == 1 for _, seen in committed_when_seen)
    assert core.store.count_events() == 2 * n  # a client.created and a pass.created each


def test_each_batch_is_its_own_transaction_so_a_scan_waits_for_one_batch_at_most(
        core: Core, tmp_path: Path) -> None:
    committed_at_first_event: list[int] = []

    def on_event(event: Event) -> None:
        if event.type == EventType.PASS_CREATED and len(committed_at_first_event) < 2:
            committed_at_first_event.append(core.store.count_passes())

    core.bus.subscribe(on_event)
    source = tmp_path / "guests.csv"
    write_rows(source, guests(2 * BATCH))
    import_passes(source, core.passes, core.clients)
    # The first batch was committed and published alone: the writer's queue can put a door's
    # scan between it and the next (tests/storage/test_writer.py proves the queue's order).
    assert committed_at_first_event[0] == BATCH


@pytest.mark.timeout(900)  # a loaded machine: the signing worker runs at a low CPU priority
def test_killed_mid_import_then_rerun_gives_exactly_one_pass_per_row(cli: StationCLI, tmp_path: Path) -> None:
    batch = BATCH
    total = 3 * batch
    rows = guests(total)
    source = tmp_path / "guests.csv"
    write_rows(source, rows)
    # The first run reads a pipe that stops after two and a half batches: it is killed (-9)
    # while waiting for more, with a batch or two committed (one may be in the signing worker)
    # and half a batch in memory.
    pipe = tmp_path / "guests.fifo"
    os.mkfifo(pipe)
    proc = subprocess.Popen([sys.executable, "-m", "station", "passes", "import", str(pipe)],
                            env=cli.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    writer_done = threading.Event()
    handle: list[object] = []

    def feed() -> None:
        fh = pipe.open("w", encoding="utf-8")  # blocks until the station opens the pipe
        handle.append(fh)
        fh.write("".join(lines[: 1 + 2 * batch + batch // 2]))
        fh.flush()
        writer_done.set()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        wait_for(writer_done.is_set, "the station to read the pipe")
        wait_for(lambda: count(cli.data_dir) >= batch, "a batch to commit")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        for fh in handle:
            try:
                fh.close()  # type: ignore[attr-defined]
            except BrokenPipeError:
                pass
    committed = count(cli.data_dir)
    assert committed in (batch, 2 * batch)  # whole batches only

    rerun = cli("passes", "import", str(source))
    assert (f"{committed:,} rows were already imported; imported {total - committed:,} passes, "
            "0 rows refused" in rerun.stdout)
    assert count(cli.data_dir) == total
    assert count(cli.data_dir, "SELECT count(*) FROM clients") == total
    done = cli("passes", "import", str(source))
    assert f"{total:,} rows were already imported; imported 0 passes" in done.stdout
    assert count(cli.data_dir) == total


def test_bench_prints_the_import_figure_beside_its_baselines(cli: StationCLI) -> None:
    # Two batches: the second is signed in the worker process, as in a long import.
    out = cli("bench", "--only", "import", "--import-rows", str(2 * BATCH)).stdout
    assert f"import: {2 * BATCH:,} passes in " in out
    assert "Ed25519 signing alone" in out and "bare executemany of the rows" in out


def test_imported_passes_are_signed_in_format_2_through_the_worker(core: Core, tmp_path: Path) -> None:
    """Batches after the first are signed in the worker process: their links are format 2 too."""
    source = tmp_path / "guests.csv"
    write_rows(source, guests(BATCH + 10))
    assert import_passes(source, core.passes, core.clients).imported == BATCH + 10
    last = core.passes.list(limit=1).items[0]  # the newest: from the second batch
    first = core.passes.list(search="guest.0@example.com").items[0]  # from the first batch
    for p in (first, last):
        assert p.public_url.startswith("https://passes.station.example/p/")
        assert core.scans.submit(p.public_url).verdict is Verdict.ACCEPTED
