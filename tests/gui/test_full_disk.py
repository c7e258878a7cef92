"""A full disk in the window: a red NOT RECORDED card with the sentence, never a verdict, and
the next scan after space returns is admitted (no restart)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from station.domain.models import PassStatus
from station.ui.main_window import MainWindow
from station.ui.verdicts import COLOURS, Kind
from tests.gui.conftest import scan
from tests.small_disk import SmallDisk, small_disk  # noqa: F401 (a fixture)


@pytest.fixture
def data_dir(small_disk: SmallDisk) -> Path:  # noqa: F811
    return small_disk.mount / "data"


def test_full_disk_shows_a_red_not_recorded_card_and_recovers(
        qtbot: Any, window: MainWindow, small_disk: SmallDisk) -> None:  # noqa: F811
    passes = window.core.passes
    p = passes.create(passes.validate("Ada Lovelace"))
    small_disk.fill()
    view = scan(qtbot, window, p.public_url)
    card = window.scan_view.card
    assert view.kind is Kind.NOT_RECORDED
    assert card.word.text() == "NOT RECORDED"
    assert card.background().name() == COLOURS[Kind.REFUSED]  # red, like a refusal
    assert card.icon.kind is Kind.NOT_RECORDED
    assert card.title.text().startswith(
        "Could not record the scan: the disk is full — nothing was admitted")
    assert not window.scan_view.can_undo  # no admission to undo
    assert window.core.passes.get(p.code).status is PassStatus.ACTIVE  # nothing half-written
    small_disk.free()
    assert scan(qtbot, window, p.public_url).kind is Kind.ACCEPTED
