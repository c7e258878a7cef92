"""The verdict card: each verdict visibly new (flash, time, repeat count), and no jump between
verdict kinds."""

from __future__ import annotations

from typing import Any

import pytest

from station.ui.verdict_card import VerdictCard
from station.ui.verdicts import Kind, VerdictView

VIEWS = [
    VerdictView(Kind.ACCEPTED, "Ada Lovelace", "Single entry", scanned_at="2026-06-01T18:03:12Z"),
    VerdictView(Kind.REFUSED, "Already used at Door 2 at 19:03 (Main entrance, north side, by the cloakroom and the stairs)",
                "Grace Hopper", scanned_at="2026-06-01T18:03:13Z", repeat=2),
    VerdictView(Kind.WARNING, "Weekend Walter", "Multi-use · 0 uses left",
                "That was the last use of this pass.", scanned_at="2026-06-01T18:03:14Z"),
    VerdictView(Kind.ERROR, "Not a pass", "The text contains control or binary characters, so it "
                "cannot be a pass; scan the code again or type it."),
]


@pytest.mark.parametrize("size", [(900, 620), (560, 420)])
def test_the_word_does_not_move_between_verdict_kinds(qtbot: Any, size: tuple[int, int]) -> None:
    card = VerdictCard()
    qtbot.addWidget(card)
    card.resize(*size)
    card.show()
    qtbot.waitExposed(card)
    places = []
    for view in VIEWS:
        card.show_view(view)
        card.layout().activate()
        word = card.word.geometry()
        # the word's width follows its text ("NOT A PASS" is longer); where it sits must not
        places.append((view.kind, (word.left(), word.top(), word.height()), card.icon.geometry(),
                       card.title.geometry().top()))
    first = places[0]
    for kind, word, icon, title_top in places[1:]:
        assert (word, icon, title_top) == first[1:], f"{kind} moved the card's rows"


def test_each_verdict_flashes_and_shows_its_time_and_repeat(qtbot: Any) -> None:
    card = VerdictCard()
    qtbot.addWidget(card)
    card.show()
    card.show_view(VIEWS[1])
    assert card.flashing and card.flashes == 1
    assert card.stamp.text().endswith("2nd scan in a row")
    qtbot.waitUntil(lambda: not card.flashing, timeout=60_000)  # the flash is short and ends
    card.show_view(VIEWS[1])
    assert card.flashes == 2 and card.flashing  # the same verdict again still flashes
    card.show_view(VerdictView(Kind.IDLE, "Show a pass", ""), flash=False)
    assert card.flashes == 2 and card.stamp.text() == ""
