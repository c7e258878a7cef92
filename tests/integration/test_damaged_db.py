"""A database that is not a healthy Station database is refused by every command, with one
sentence, exit status 3, and not a byte changed (no -wal/-shm created beside it either)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from station.store.migrations import LATEST
from tests.conftest import StationCLI

DAMAGED_EXIT = 3


def snapshot(data_dir: Path) -> dict[str, str]:
    """Every file of the data directory with the hash of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data_dir.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stopped station with a few passes, made once (the -wal folded in on exit)."""
    data_dir = tmp_path_factory.mktemp("template") / "data"
    guests = data_dir.parent / "guests.csv"
    guests.write_text("name\n" + "".join(f"Guest {i}\n" for i in range(20)))
    StationCLI(data_dir)("passes", "import", str(guests))
    db = data_dir / "station.db"
    assert db.stat().st_size > 8 * 4096 and not db.with_name("station.db-wal").exists()
    return data_dir


@pytest.fixture
def healthy_db(cli: StationCLI, template: Path) -> Path:
    shutil.copytree(template, cli.data_dir)
    return cli.data_dir / "station.db"


def zero_bytes(db: Path) -> None:
    db.write_bytes(b"")


def truncated(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


def garbage_header(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(b"\x00garbage-garbage" + data[16:])


def foreign_sqlite(db: Path) -> None:
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, path TEXT)")
    conn.commit()
    conn.close()


def newer_schema(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "zero bytes": (zero_bytes, "is empty"),
    "truncated": (truncated, "is truncated"),
    "garbage header": (garbage_header, "is not a SQLite database"),
    "foreign sqlite": (foreign_sqlite, "not a Station database"),
    "newer schema": (newer_schema, "newer Station"),
}


def assert_refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == DAMAGED_EXIT, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert words in lines[0]
    assert "station backup" in lines[0] and "--data-dir" in lines[0]


def every_family(outside: Path) -> list[list[str]]:
    return [["passes", "list", "--json"], ["scan", "AbCd1234EfGh", "--json"], ["clients", "list"],
            ["keys", "list"], ["scans", "export", str(outside / "scans.csv")],
            ["serve", "--no-api"], ["gui", "--no-api"], ["hub", "--port", "14222"],
            ["backup", str(outside / "backup.db")]]


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_commands_refuse_a_damaged_database_and_change_nothing(
        cli: StationCLI, healthy_db: Path, damage: str) -> None:
    make, words = DAMAGES[damage]
    make(healthy_db)
    before = snapshot(cli.data_dir)
    # Every command family on the headline case; the store's common paths on the others.
    families = every_family(cli.data_dir.parent)
    for args in families if damage == "zero bytes" else [families[0], families[5], families[-1]]:
        result = cli(*args, check=False, input="")
        assert_refused(result, words)
        assert snapshot(cli.data_dir) == before, args
    assert not (cli.data_dir.parent / "scans.csv").exists()
    assert not (cli.data_dir.parent / "backup.db").exists()


def test_a_missing_database_beside_its_wal_is_refused(cli: StationCLI, healthy_db: Path) -> None:
    db = healthy_db
    db.with_name("station.db-wal").write_bytes(db.read_bytes()[:4096])
    db.unlink()
    before = snapshot(cli.data_dir)
    assert_refused(cli("passes", "list", check=False), "station.db-wal")
    assert snapshot(cli.data_dir) == before


def test_a_new_data_directory_still_starts_a_new_station(cli: StationCLI) -> None:
    assert json.loads(cli("passes", "list", "--json").stdout) == []
    conn = sqlite3.connect(cli.data_dir / "station.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
    conn.close()


