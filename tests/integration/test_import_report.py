"""The import report: line numbers a spreadsheet shows (also for records spanning lines: a
quoted cell with a line break is valid CSV and its row is imported), the refused rows saved as
CSV, a file unreadable anywhere imports nothing, and an import can be cancelled."""

from __future__ import annotations

import csv
import sqlite3
import threading
from pathlib import Path

import pytest

from station.app import Core
from station.domain.errors import InvalidInput
from station.services.imports import BATCH, import_passes, write_report
from tests.conftest import StationCLI

ROWS = [
    'Name,Email,Notes',
    '"Chloé\nMüller",chloe@example.com,"VIP\ntable 4"',   # lines 2-4
    ',nobody@example.com,no name',                           # line 5: refused
    '"Bob\n\nBuilder",bob@example.com,',                     # lines 6-8
    'Eve,not-an-address,',                                   # line 9: refused
]


@pytest.mark.parametrize(("newline", "bom"), [("\n", ""), ("\r\n", ""), ("\r\n", "\ufeff")],
                         ids=["lf", "crlf", "crlf-bom"])
def test_multi_line_cells_are_imported_with_the_lines_rows_start_on(
        cli: StationCLI, tmp_path: Path, newline: str, bom: str) -> None:
    source = tmp_path / "guests.csv"
    text = bom + "\n".join(ROWS) + "\n"
    source.write_bytes(text.replace("\n", newline).encode("utf-8"))

    result = cli("passes", "import", str(source), check=False)
    assert result.returncode == 1, result.stderr
    assert "imported 2 passes, 2 rows refused" in result.stdout
    refused = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert refused == ["line 5: Name is required.",
                       "line 9: 'not-an-address' is not an email address."], result.stderr

    conn = sqlite3.connect(cli.data_dir / "station.db")
    try:
        rows = dict(conn.execute("SELECT name, fields FROM passes").fetchall())
    finally:
        conn.close()
    assert rows == {"Chloé Müller": '{"Notes": "VIP table 4"}', "Bob Builder": "{}"}
    listed = cli("passes", "list", "--search", "chloe muller").stdout
    assert "Chloé Müller" in listed


def test_the_refused_rows_are_saved_with_their_cells(core: Core, tmp_path: Path) -> None:
    source = tmp_path / "guests.csv"
    source.write_text("\n".join(ROWS) + "\nMallory,=HYPERLINK(1),\n", encoding="utf-8")
    report = import_passes(source, core.passes, core.clients)
    assert report.imported == 2
    assert [line for line, _ in report.errors] == [5, 9, 10]
    assert report.cell(9, "name") == "Eve" and report.cell(9, "email") == "not-an-address"

    saved = tmp_path / "report.csv"
    assert write_report(report, saved) == 3
    with saved.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["line", "reason", "Name", "Email", "Notes"]
    assert rows[1] == ["5", "Name is required.", "", "nobody@example.com", "no name"]
    assert rows[2][:4] == ["9", "'not-an-address' is not an email address.", "Eve", "not-an-address"]
    assert rows[3][3] == "'=HYPERLINK(1)"  # no formula runs when the report is opened


def test_a_file_not_utf8_far_down_imports_nothing(core: Core, tmp_path: Path) -> None:
    source = tmp_path / "guests.csv"
    good = "".join(f"Guest {i},guest{i}@example.com\n" for i in range(3 * BATCH))
    source.write_bytes(b"Name,Email\n" + good.encode() + "Zoë,z@example.com\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="is not UTF-8 text; save it as CSV UTF-8"):
        import_passes(source, core.passes, core.clients)
    assert core.store.count_passes() == 0


def test_a_cancelled_import_keeps_whole_batches_and_a_rerun_adds_the_rest(core: Core, tmp_path: Path) -> None:
    total = 4 * BATCH
    source = tmp_path / "guests.csv"
    source.write_text("Name\n" + "".join(f"Guest {i}\n" for i in range(total)), encoding="utf-8")
    cancel = threading.Event()
    totals: list[int] = []
    report = import_passes(source, core.passes, core.clients, progress=lambda _n: cancel.set(),
                           on_total=totals.append, cancel=cancel)
    assert totals == [total]
    assert report.cancelled and "cancelled" in report.summary()
    assert 0 < report.imported < total and report.imported % BATCH == 0
    assert core.store.count_passes() == report.imported
    again = import_passes(source, core.passes, core.clients)
    assert (again.already_imported, again.imported) == (report.imported, total - report.imported)
