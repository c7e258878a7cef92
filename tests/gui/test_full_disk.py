"""A full disk in the window: once the door journal has no room left (a running station grew its
WAL when it opened it, so some scans still fit, durably: docs/door-journal.md), a red NOT RECORDED
card with the sentence, never a verdict, and the next scan after space returns is admitted (no
restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from station.domain.models import PassStatus
from station.ui.main_window import MainWindow
from station.ui.verdicts import COLOURS, Kind, VerdictView
from tests.gui.conftest import scan
from tests.small_disk import SmallDisk, small_disk  # noqa: F401 (a fixture)


@pytest.fixture
def data_dir(small_disk: SmallDisk) -> Path:  # noqa: F811
    return small_disk.mount / "data"


def shown(qtbot: Any, window: MainWindow, payload: str) -> VerdictView:
    """The door's verdict, without waiting for the merge (on a full disk it waits for space)."""
    with qtbot.waitSignal(window.scan_view.verdict_shown, timeout=10000) as blocker:
        window.scan_view.submit(payload, "manual")
    return blocker.args[0]


@pytest.mark.allow_log("station.services.scan_merge", "kept in its journal")
@pytest.mark.allow_log("station.services.scan_merge", "Could not save the door's last scans")
def test_full_disk_shows_a_red_not_recorded_card_and_recovers(
        qtbot: Any, window: MainWindow, small_disk: SmallDisk) -> None:  # noqa: F811
    passes = window.core.passes
    p = passes.create(passes.validate("Ada Lovelace"))
    crew = passes.create(passes.validate("Crew", type="multi", max_uses=10_000))
    small_disk.fill()
    admitted = 0
    while (view := shown(qtbot, window, crew.public_url)).kind is Kind.ACCEPTED:
        admitted += 1  # durable in the journal's room; its merge waits for space
        assert admitted < 1000, "the door never found the disk full"
    view = shown(qtbot, window, p.public_url)
    card = window.scan_view.card
    assert view.kind is Kind.NOT_RECORDED
    assert card.word.text() == "NOT RECORDED"
    assert card.background().name() == COLOURS[Kind.REFUSED]  # red, like a refusal
    assert card.icon.kind is Kind.NOT_RECORDED
    assert card.title.text().startswith(
        "Could not record the scan: the disk is full — nothing was admitted")
    assert window.core.passes.get(p.code).status is PassStatus.ACTIVE  # nothing half-written
    small_disk.free()
    assert scan(qtbot, window, p.public_url).kind is Kind.ACCEPTED
    stored = window.core.store.pass_by_id(crew.id)
    assert stored is not None and stored.uses == admitted  # every admission, once
