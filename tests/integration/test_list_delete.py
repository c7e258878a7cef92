"""Deleting a check-in list (issue 14): a door set to it refuses every entry with the reason,
an exit is still recorded, everyone on it is checked out, and its name is free again. Real
SQLite files; the same door object a window or `station serve --list` keeps all evening."""

from __future__ import annotations

import pytest

from station.app import Core
from station.domain.door import Door
from station.domain.errors import NotFound
from station.domain.models import Direction, Pass, Reason, Verdict
from station.store.door_reads import inside_counts
from tests.integration.test_door_journal import merged


def _pass(core: Core, name: str) -> Pass:
    return core.passes.create(core.passes.validate(name, "multi"))


def test_a_door_set_to_a_deleted_list_refuses_entries_saying_why(core: Core) -> None:
    hall = core.lists.create({"name": "Hall", "capacity": 10}, by="Mia")
    core.lists.create({"name": "Bar"}, by="Mia")
    door = Door(hall)
    ada, bo = _pass(core, "Ada"), _pass(core, "Bo")
    assert core.scans.submit(ada.code, door=door, wait_merged=False).accepted  # unmerged
    gone = core.lists.delete("hall", by="Mia")
    assert gone.deleted and inside_counts(core.store) == {}  # Ada's entry merged, then out

    refused = core.scans.submit(bo.code, door=door, wait_merged=False)
    assert (refused.verdict, refused.reason) == (Verdict.REJECTED, Reason.WRONG_LIST)
    assert refused.message == ("Hall was deleted — this door admits nobody on it; choose "
                               "another list")
    assert core.scans.submit(ada.code, door=Door(hall, Direction.EXIT)).accepted
    merged(core)
    assert [x.name for x in core.lists.all()] == ["Bar"]
    assert core.lists.find("Hall") is None and core.lists.find(hall.id) == gone
    with pytest.raises(NotFound, match="was deleted"):
        core.lists.get(hall.id)
    with pytest.raises(NotFound):
        core.lists.delete(hall.id, by="Mia")
    again = core.lists.create({"name": "Hall"}, by="Mia")  # the name is free again
    assert again.id != hall.id and core.scans.submit(bo.code, door=Door(again)).accepted
