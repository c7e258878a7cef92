"""The SQLite store: migrations, WAL, station identity, secrets."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from pathlib import Path

import keyring
import pytest

from station.domain.errors import StationError
from station.store import health, migrations
from station.store.db import Store
from station.store.releases import pending_releases, record_release
from station.store.secrets import SecretStore


def test_migrations_from_an_empty_file(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        assert store.schema_found == 0
        conn = sqlite3.connect(store.path)
        assert migrations.current_version(conn) == migrations.LATEST
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"settings", "clients", "passes", "scans", "events"} <= tables
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    finally:
        store.close()
    # Opening again migrates nothing and keeps the station id.
    first_id = store.station_id
    again = Store(tmp_path)
    assert again.schema_found == migrations.LATEST
    assert again.station_id == first_id
    again.close()


@pytest.mark.allow_log("station.store.privacy", "now private to you")
def test_each_migration_step_applies_on_the_previous_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "station.db", isolation_level=None)
    for version in range(migrations.LATEST):
        assert migrations.current_version(conn) == version
        conn.execute("BEGIN")
        migrations.apply_step(conn, version)
        conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    conn.close()
    store = Store(tmp_path)
    assert store.schema_found == migrations.LATEST
    store.close()


def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "station.db")
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.close()
    with pytest.raises(StationError, match="newer Station"):
        Store(tmp_path)


def test_failed_migration_leaves_the_file_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations.V1_CORE + ";CREATE TABLE passes (x)"])
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path)
    conn = sqlite3.connect(tmp_path / "station.db")
    assert migrations.current_version(conn) == 0
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    conn.close()


@pytest.mark.allow_log("station.store.db", "was restored or copied")
def test_a_restored_copy_mints_a_new_station_id(tmp_path: Path) -> None:
    original = Store(tmp_path / "a")
    first = original.station_id
    original.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    restored = Store(tmp_path / "b")
    assert restored.station_id != first
    assert restored.setting("previous_station_ids") == [first]
    restored.close()
    # The original directory keeps its id.
    assert Store(tmp_path / "a").station_id == first


def test_secrets_use_keyring_when_available(tmp_path: Path, memory_keyring: object) -> None:
    secrets = SecretStore(tmp_path, "org_1")
    secrets.set("api", "s3cret")
    assert secrets.get("api") == "s3cret"
    assert not (tmp_path / "secrets").exists()
    secrets.delete("api")
    assert secrets.get("api") is None


def test_secrets_fall_back_to_a_user_only_file_without_keyring(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    secrets = SecretStore(tmp_path, "org_1")
    secrets.set("signing", "pem-data")
    secrets.set("other", "x")
    assert secrets.get("signing") == "pem-data"
    path = tmp_path / "secrets" / "signing"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    warnings = [r for r in caplog.records if "No system keyring" in r.getMessage()]
    assert len(warnings) == 1  # said once, not on every call


def test_readers_of_ended_threads_are_closed(tmp_path: Path) -> None:
    import threading

    store = Store(tmp_path)
    try:
        def read() -> None:
            store.setting("station_id")

        for _ in range(50):
            worker = threading.Thread(target=read)
            worker.start()
            worker.join()
        read()
        assert len(store._readers) <= 2  # this thread's, and at most the last worker's
    finally:
        store.close()


def _plan(conn: sqlite3.Connection, sql: str, params: tuple[object, ...]) -> str:
    return " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


@pytest.mark.allow_log("station.store.privacy", "now private to you")
def test_unused_indexes_are_dropped_and_the_queries_that_matter_stay_indexed(tmp_path: Path) -> None:
    # A file at the schema before the drop, holding an event and a pass.
    conn = sqlite3.connect(tmp_path / "station.db", isolation_level=None)
    for version in range(4):
        for statement in migrations._statements(migrations.MIGRATIONS[version]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.execute(
        "INSERT INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp, data) "
        "VALUES ('e1', 'pass.created', 'st', 1, 'h1', 'p1', '2026-01-01T00:00:00Z', '{}')")
    conn.execute(
        "INSERT INTO passes (id, code, name, type, status, email, public_url, created_at, updated_at) "
        "VALUES ('p1', 'C1', 'Ann', 'single', 'active', 'a@x.io', 'u', 't', 't')")
    conn.close()

    store = Store(tmp_path)
    assert store.schema_found == 4
    store.close()
    conn = sqlite3.connect(tmp_path / "station.db")
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not {"idx_events_type", "idx_events_time", "idx_passes_name", "idx_passes_email"} & indexes
    assert conn.execute("SELECT id FROM events").fetchall() == [("e1",)]
    assert conn.execute("SELECT name, email FROM passes").fetchall() == [("Ann", "a@x.io")]
    # Trigger polling, pass history, the pass list and expiry still search an index.
    assert "USING INDEX idx_events_type_time (type=?)" in _plan(
        conn, "SELECT * FROM events WHERE type IN (?, ?) ORDER BY timestamp DESC, id DESC LIMIT 5",
        ("pass.created", "scan.accepted"))
    assert "idx_events_type_time" in _plan(
        conn, "SELECT json_extract(data, '$.scanId') FROM events WHERE type = 'scan.reverted'", ())
    assert "USING INDEX idx_events_pass (pass_id=?)" in _plan(
        conn, "SELECT * FROM events WHERE pass_id = ? ORDER BY hlc, origin, id", ("p1",))
    assert "USING INDEX idx_passes_created" in _plan(
        conn, "SELECT rowid, * FROM passes ORDER BY created_at DESC, rowid DESC LIMIT 5", ())
    assert "USING INDEX idx_passes_status_until" in _plan(
        conn, "SELECT * FROM passes WHERE status = 'active' AND valid_until < ? ORDER BY valid_until",
        ("z",))
    conn.close()


@pytest.mark.allow_log("station.store.privacy", "now private to you")
def test_pending_claim_releases_table_is_added_to_a_file_at_the_previous_version(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "station.db", isolation_level=None)
    for version in range(5):
        for statement in migrations._statements(migrations.MIGRATIONS[version]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.execute("INSERT INTO sync_progress (hub, published_seq) VALUES ('h|org_a|t', 7)")
    conn.close()

    store = Store(tmp_path)
    try:
        assert store.schema_found == 5
        store.write(lambda tx: record_release(tx, "pas_1", "2026-01-01T10:00:00.000Z"))
        assert pending_releases(store) == [("pas_1", "2026-01-01T10:00:00.000Z")]
        rows = store.db().query("SELECT hub, published_seq FROM sync_progress")
        assert list(rows) == [{"hub": "h|org_a|t", "published_seq": 7}]
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "station.db")
    assert migrations.current_version(conn) == migrations.LATEST
    conn.close()


@pytest.mark.allow_log("station.store.privacy", "now private to you")
def test_a_station_database_carries_its_application_id(tmp_path: Path) -> None:
    """New files and files migrated from before the marker both say they are Station's."""
    Store(tmp_path / "new").close()
    old = tmp_path / "old"
    old.mkdir()
    conn = sqlite3.connect(old / "station.db", isolation_level=None)
    for version in range(5):
        for statement in migrations._statements(migrations.MIGRATIONS[version]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.close()
    Store(old).close()
    for directory in (tmp_path / "new", old):
        conn = sqlite3.connect(directory / "station.db")
        assert conn.execute("PRAGMA application_id").fetchone()[0] == health.APPLICATION_ID
        conn.close()


def test_stations_starting_together_on_a_new_directory_share_one_database(tmp_path: Path) -> None:
    """The first start creates station.db whole (built aside, then linked into place): two
    stores opened at once both end up on the same file, and nothing is left beside it."""
    import threading

    stores: list[Store] = []
    errors: list[BaseException] = []

    def open_store() -> None:
        try:
            stores.append(Store(tmp_path))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(stores) == 4
    assert len({store.station_id for store in stores}) == 1
    for store in stores:
        store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["station.db"]
