"""Pass search ignores case and accents, through an index kept current by every write path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from station.app import Core, build_core
from station.services.imports import import_passes
from station.services.passes import PassService
from station.services.sync_apply import RemoteEventService
from station.store import migrations, search
from station.store.db import Store
from tests.conftest import StationCLI

GUESTS = [
    ("Chloé Müller", "chloe.muller@example.com"),
    ("Hans Ørsted", "hc@oersted.dk"),
    ("Straße Fan", ""),
    ("Ada Lovelace", "ada@analytical.org"),
    ("Bob", "bob@example.com"),
]


def assert_index_agrees(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:  # raises SQLITE_CORRUPT_VTAB when the index and the rows it indexes disagree
        conn.execute("INSERT INTO passes_search (passes_search, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def names(core: Core, query: str) -> list[str]:
    found = sorted(p.name for p in core.passes.list(search=query).items)
    assert core.store.count_passes(search=query) == len(found)
    return found


@pytest.fixture
def guests(core: Core, tmp_path: Path) -> Core:
    source = tmp_path / "guests.csv"
    source.write_text("Name,Email\n" + "".join(f"{n},{e}\n" for n, e in GUESTS), encoding="utf-8")
    assert import_passes(source, core.passes, core.clients).imported == len(GUESTS)
    return core


@pytest.mark.parametrize("query", ["Chloé", "chloe", "CHLOÉ", "MÜLLER", "muller", "mül", "chloe mull",
                                   "muller chloe", "  Chloé   Müller "])
def test_names_are_found_whatever_the_case_and_accents(guests: Core, query: str) -> None:
    assert names(guests, query) == ["Chloé Müller"]


@pytest.mark.parametrize(("query", "found"), [
    ("Ørsted", ["Hans Ørsted"]), ("orsted", ["Hans Ørsted"]), ("strasse", ["Straße Fan"]),
    ("STRASSE", ["Straße Fan"]), ("example.com", ["Bob", "Chloé Müller"]),
    ("@analytical", ["Ada Lovelace"]), ("oersted.dk", ["Hans Ørsted"]),
    ("bo", ["Bob"]),                       # shorter than a trigram: matched without the index
    ("chloe xyz", []), ("100%", []), ('"', []), ("zz_", []), ('chl"oe', []), ("NEAR(chloe", []),
])
def test_fragments_of_names_and_emails(guests: Core, query: str, found: list[str]) -> None:
    assert names(guests, query) == found


@pytest.mark.parametrize(("query", "found"), [
    ("chloe", ["Chloé Müller"]), ("MÜLLER", ["Chloé Müller"]), ("orsted", ["Hans Ørsted"]),
    ("example.com", ["Bob", "Chloé Müller"]), ("chloe xyz", []), ("bo", ["Bob"]),
])
def test_common_queries_read_in_order_find_the_same(
        guests: Core, monkeypatch: pytest.MonkeyPatch, query: str, found: list[str]) -> None:
    # Any match is "common" here: the page is read newest first with LIKE on the folded key.
    monkeypatch.setattr(search, "COMMON", 1)
    monkeypatch.setattr(search, "COMMON_COUNT", 1)
    assert search.is_common(guests.store.db().conn, query) == (found != [] or len(query) < 3)
    assert names(guests, query) == found


def test_control_characters_in_a_query_separate_words(guests: Core) -> None:
    # The service refuses them; the store must not fail on them either (a NUL once ended the
    # index's query string early: "unterminated string").
    found = guests.store.list_passes(search="chloe\x00muller\t").items
    assert [p.name for p in found] == ["Chloé Müller"]


def test_a_code_is_found_exactly(guests: Core) -> None:
    bob = guests.passes.list(search="bob").items[0]
    assert names(guests, bob.code) == ["Bob"]
    if bob.code.lower() != bob.code:  # codes are case-sensitive: no fold for them
        assert names(guests, bob.code.lower()) == []
    assert names(guests, bob.code[:-1] + "#") == []


def test_the_search_uses_the_index_and_the_code_index(core: Core) -> None:
    plan = " ".join(r[3] for r in core.store.db().execute(
        "EXPLAIN QUERY PLAN SELECT * FROM passes WHERE (code = ? OR (rowid IN "
        "(SELECT rowid FROM passes_search WHERE passes_search MATCH ?)))", ["x", '"abc"']))
    assert "VIRTUAL TABLE INDEX" in plan and "code=?" in plan, plan


def test_scans_new_emails_and_synced_passes_keep_the_index_current(guests: Core, tmp_path: Path) -> None:
    chloe = guests.passes.list(search="chloe").items[0]
    assert guests.scans.submit(chloe.public_url).accepted
    # A scan rewrites the pass row without its e-mail: the key keeps the e-mail.
    assert names(guests, "chloe.muller@") == ["Chloé Müller"]

    other = build_core(tmp_path / "other")
    try:
        created = other.passes.create_many([PassService.validate("Zoë Ångström")])
        other.scans.submit(created[0].public_url)
        events = [e for p in created for e in other.store.events_for_pass(p.id)]
    finally:
        other.close()
    for key in other.ctx.keys.public_keys_b64():
        guests.ctx.keys.trust(key)
    RemoteEventService(guests.ctx).apply(events)
    assert names(guests, "angstrom") == ["Zoë Ångström"]
    assert names(guests, "ZOE") == ["Zoë Ångström"]

    # A pass whose e-mail becomes known later (its client synced after it) is found by it.
    zoe = guests.passes.list(search="zoe").items[0]
    guests.store.write(lambda tx: tx.upsert_pass(zoe, "Zoe@Ångström.example"))
    assert names(guests, "zoe@angstrom") == ["Zoë Ångström"]
    assert_index_agrees(guests.store.path)


@pytest.mark.allow_log("station.store.privacy", "now private to you")
def test_a_version_9_database_migrates_and_back_fills_the_index(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir()
    conn = sqlite3.connect(data / "station.db", isolation_level=None)
    for version in range(9):
        migrations.apply_step(conn, version)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    columns = "id, code, name, type, status, public_url, created_at, updated_at, email"
    conn.executemany(f"INSERT INTO passes ({columns}) VALUES (?, ?, ?, 'single', 'active', '', ?, ?, ?)", [
        ("pas_1", "CODE1", "Chloé Müller", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "c@example.com"),
        ("pas_2", "CODE2", "Hans Ørsted", "2026-01-02T00:00:00Z", "2026-01-02T00:00:00Z", None),
    ])
    conn.close()

    store = Store(data)
    try:
        assert store.schema_found == 9
        assert sorted(p.name for p in store.list_passes(search="MULLER").items) == ["Chloé Müller"]
        assert sorted(p.name for p in store.list_passes(search="orsted").items) == ["Hans Ørsted"]
        assert [p.name for p in store.list_passes(search="c@exa").items] == ["Chloé Müller"]
        assert [p.code for p in store.list_passes(search="CODE2").items] == ["CODE2"]
    finally:
        store.close()
    assert_index_agrees(data / "station.db")


def test_bench_prints_the_search_figures_beside_the_old_like_search(cli: StationCLI) -> None:
    out = cli("bench", "--only", "search", "--search-passes", "2000").stdout
    assert "search: 2,000 passes written in" in out
    assert "LIKE page" in out
    chloe = next(line.split() for line in out.splitlines() if line.split()[:1] == ["chloe"])
    assert int(chloe[1].replace(",", "")) > 0 and chloe[-1] == "0"  # found now, not by LIKE
