"""Storage failures at the store layer, on a real small file system: classified by SQLite's
codes, nothing half-written, and the same writer connection works once the cause is gone."""

from __future__ import annotations

import pytest

from station.app import Core, build_core
from station.domain.errors import StorageCause, StorageError
from tests.conftest import StationCLI
from tests.small_disk import SmallDisk


def test_writer_survives_a_full_disk_and_writes_again(core: Core, small_disk: SmallDisk) -> None:
    before = core.store.count_events()
    small_disk.fill()
    with pytest.raises(StorageError) as failed:
        core.passes.create(core.passes.validate("Ada Lovelace"))
    assert failed.value.cause is StorageCause.FULL
    assert str(failed.value).startswith(
        "Could not save the change: the disk is full — nothing was changed")
    assert core.store.count_events() == before  # rolled back whole
    small_disk.free()
    p = core.passes.create(core.passes.validate("Ada Lovelace"))  # same writer, no reopen
    assert core.scans.submit(p.code).accepted


def test_read_only_disk_is_told_as_such(cli: StationCLI, small_disk: SmallDisk) -> None:
    code = cli("passes", "create", "--name", "Grace Hopper").stdout.split()[0]
    small_disk.read_only()
    refused = cli("scan", code, check=False)
    assert refused.returncode == 1
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "station: error: Could not record the scan: the data folder cannot be written"), lines
    with pytest.raises(StorageError) as failed:
        build_core(cli.data_dir)
    assert failed.value.cause is StorageCause.READ_ONLY
    small_disk.writable()
    assert cli("scan", code).stdout.startswith("ACCEPTED")
