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


def test_a_list_with_three_rules_reads_one_statement_more_than_no_list(core: Core) -> None:
    vip = core.lists.create({"name": "VIP", "types": ["multi"], "rules": RULES}, by="Mia")
    warm, plain, listed = _pass(core, "Ada"), _pass(core, "Bo"), _pass(core, "Cy")
    core.scans.submit(warm.code, door=Door(vip), wait_merged=False)  # first statements: opening
    merged(core)
    with merge_held(core):  # the same journal for both: neither pass has an entry in it
        without = _reader_statements(core, lambda: core.scans.submit(plain.code,
                                                                     wait_merged=False))
        with_list = _reader_statements(core, lambda: core.scans.submit(
            listed.code, door=Door(vip), wait_merged=False))
    merged(core)
    # The list, the venue's zone, the pass's presence and admitted entries (the rules'
    # input) in one statement, which is one moment of the data without a read transaction.
    assert len(with_list) - len(without) <= 1, "\n".join(with_list)
    assert core.store.list_scans(pass_id=listed.id).items[0].verdict == "accepted"
