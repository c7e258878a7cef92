"""The data folder holds personal data, the PIN hash and usable tickets: it is private to its
user (folders 0700, files 0600), and a folder with looser modes is tightened on start."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.conftest import StationCLI
from tests.storage.door import Door


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_and_everything_in_it_is_private(cli: StationCLI, tmp_path: Path) -> None:
    created = cli("passes", "create", "--name", "Ada Lovelace")
    assert "private" not in created.stderr  # nothing to tighten in a folder made private
    data = cli.data_dir
    assert mode(data) == 0o700
    assert mode(data / "station.db") == 0o600
    secrets = data / "secrets"  # no keyring in tests: the signing key is a file here
    assert mode(secrets) == 0o700 and all(mode(f) == 0o600 for f in secrets.iterdir())
    door = Door(cli, "--no-api")
    try:
        door.wait_for("Scan with a handheld scanner")
        for name in ("station.db-wal", "station.db-shm"):  # exist while a station runs
            assert mode(data / name) == 0o600, name
    finally:
        door.stop()
    cli("scans", "export", str(tmp_path / "scans.csv"))
    assert mode(tmp_path / "scans.csv") == 0o600  # exports are as private as the database


def test_an_existing_loose_data_folder_is_tightened_once(cli: StationCLI) -> None:
    cli("passes", "create", "--name", "Ada Lovelace")
    data = cli.data_dir
    data.chmod(0o755)
    (data / "station.db").chmod(0o644)
    (data / "secrets").chmod(0o755)
    first = cli("passes", "list")
    said = [line for line in first.stderr.splitlines() if "now private" in line]
    assert len(said) == 1 and str(data) in said[0], first.stderr
    assert mode(data) == 0o700 and mode(data / "station.db") == 0o600
    assert mode(data / "secrets") == 0o700
    assert "now private" not in cli("passes", "list").stderr  # said once, when it changed
