"""What a list and three rules cost the door (issue 14's goal: within 1.2x of the verdict
without; docs/checkin-lists.md): each statement on the deciding thread's reader gives up the
GIL, which the merge thread or a download in the same process then holds, so at the door a
statement costs far more than its SQL (`station bench --only lists` measured 8 more statements
on the reader, and a second journal read, at 1.36x the verdict without a list). The probes are
read in one statement. Real SQLite file, the reader's own trace."""

from __future__ import annotations

from collections.abc import Callable

from station.app import Core
from station.domain.door import Door
from station.domain.models import Pass
from station.store import door_reads
from station.store.tx import CHUNK
from tests.integration.test_door_journal import merge_held, merged

RULES = [{"rule": "window", "from": "00:00", "until": "24:00"},
         {"rule": "entriesPerDay", "max": 3}, {"rule": "minutesBetween", "min": 30}]


def _reader_statements(core: Core, scan: Callable[[], object]) -> list[str]:
    """The statements the deciding thread's reader ran during `scan`."""
    conn = core.store.db().conn
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        scan()
    finally:
        conn.set_trace_callback(None)
    return seen


def _pass(core: Core, name: str) -> Pass:
    return core.passes.create(core.passes.validate(name, "multi"))


def test_a_list_with_three_rules_reads_no_statement_more_than_no_list(core: Core) -> None:
    vip = core.lists.create({"name": "VIP", "types": ["multi"], "rules": RULES}, by="Mia")
    warm, plain, listed = _pass(core, "Ada"), _pass(core, "Bo"), _pass(core, "Cy")
    core.scans.submit(warm.code, door=Door(vip), wait_merged=False)  # first statements: opening
    merged(core)
    with merge_held(core):  # the same journal for both
        without = _reader_statements(core, lambda: core.scans.submit(plain.code,
                                                                     wait_merged=False))
        with_list = _reader_statements(core, lambda: core.scans.submit(
            listed.code, door=Door(vip), wait_merged=False))
        # Scanned again before the merge: each pass's entry is in the journal, not the log.
        without_again = _reader_statements(core, lambda: core.scans.submit(
            plain.code, wait_merged=False))
        with_list_again = _reader_statements(core, lambda: core.scans.submit(
            listed.code, door=Door(vip), wait_merged=False))
    merged(core)
    # The list, the venue's zone, the pass's admitted entries (the rules' input) are read in
    # the statement that reads the pass (one moment of the data); with an unmerged entry, in
    # the read transaction that reads the pass again with which entries the log holds.
    assert len(with_list) == len(without), "\n".join(with_list)
    assert len(with_list_again) == len(without_again), "\n".join(with_list_again)
    scans = core.store.list_scans(pass_id=listed.id).items
    assert sorted(s.verdict for s in scans) == ["accepted", "rejected"]  # 30 min between


def test_the_probe_of_many_movers_reads_the_same_rows_in_parts(core: Core) -> None:
    # A capacity list with scans of hundreds of passes unmerged: the open entries are read in
    # chunks and the rest statement by statement, and must equal the one-statement probe.
    lounge = core.lists.create({"name": "Lounge", "capacity": 50, "reentry": True,
                                "rules": RULES}, by="Mia")
    p = _pass(core, "Ada")
    assert core.scans.submit(p.code, door=Door(lounge), wait_merged=False).accepted
    merged(core)
    since = "2000-01-01T00:00:00.000Z"
    one = door_reads.pass_probe(core.store, p.id, since_iso=since, count_on=(lounge.id,),
                                list_id=lounge.id)
    parts = door_reads.pass_probe(core.store, p.id, [f"pas_other{i}" for i in range(CHUNK)],
                                  since_iso=since, count_on=(lounge.id,), list_id=lounge.id)
    assert len(one.entries) == 1 and one.inside == 1 and one.list_text is not None
    assert len(one.open[p.id]) == 1 and one.visited == frozenset({lounge.id})
    assert parts == one
