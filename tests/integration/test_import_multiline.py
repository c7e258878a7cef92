"""A quoted cell with a line break is valid CSV: its row is imported, and the report's line
numbers stay those a spreadsheet shows (the line a record starts on)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

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
