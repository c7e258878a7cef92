"""The door screen: verdict card text and colour, refusals in words, warnings, undo, entry."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from station.domain.events import EventType
from station.domain.models import PassStatus
from station.ui.main_window import MainWindow
from station.ui.verdicts import COLOURS, Kind
from tests.gui.conftest import scan


def new_pass(window: MainWindow, name: str, **kw: Any) -> Any:
    passes = window.core.passes
    return passes.create(passes.validate(name, **kw))


def test_accepted_scan_shows_green_card_with_name_and_type(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Ada Lovelace")
    durable: list[bool] = []

    def shown(_view: object) -> None:  # recorded before shown: in the journal or the log
        journal = [text for _, text in window.core.scans.merger.journal.pending()]
        logged = window.core.store.list_scans(pass_id=p.id).items
        durable.append(any(p.id in text for text in journal) or bool(logged))

    window.scan_view.verdict_shown.connect(shown)
    view = scan(qtbot, window, p.public_url)
    assert durable == [True]
    card = window.scan_view.card
    assert view.kind is Kind.ACCEPTED
    assert card.word.text() == "ACCEPTED"
    assert card.title.text() == "Ada Lovelace"
    assert card.detail.text() == "Single entry"
    assert card.background().name() == COLOURS[Kind.ACCEPTED]
    assert card.icon.kind is Kind.ACCEPTED  # icon + word + colour, never colour alone
    assert window.core.passes.get(p.code).status is PassStatus.USED  # merged into the log


def test_second_scan_is_refused_with_where_and_when(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Grace Hopper")
    scan(qtbot, window, p.code)
    view = scan(qtbot, window, p.code)
    card = window.scan_view.card
    assert view.kind is Kind.REFUSED
    assert card.word.text() == "REFUSED"
    assert card.background().name() == COLOURS[Kind.REFUSED]
    assert card.title.text().startswith("Already used at This station at ")
    assert card.detail.text() == "Grace Hopper"


@pytest.mark.parametrize("case, headline", [
    ("revoked", "Revoked by manager: chargeback"),
    ("unknown", "Unknown pass"),
    ("not_yet", "Not valid until "),
])
def test_refused_reasons_in_words(qtbot: Any, window: MainWindow, case: str, headline: str) -> None:
    passes = window.core.passes
    if case == "revoked":
        p = new_pass(window, "Chargeback Charlie")
        passes.revoke(p.code, reason="chargeback", by="manager")
        payload = p.public_url
    elif case == "unknown":
        payload = "ZZZZZZZZZZZZ"
    else:
        payload = new_pass(window, "Early Bird", valid_from="2099-01-01T00:00:00Z").code
    view = scan(qtbot, window, payload)
    assert view.kind is Kind.REFUSED
    assert window.scan_view.card.title.text().startswith(headline)


def test_text_that_cannot_be_a_pass_says_so_and_records_nothing(qtbot: Any, window: MainWindow) -> None:
    view = scan(qtbot, window, "\x00\x01binary")
    assert view.kind is Kind.ERROR
    assert window.scan_view.card.word.text() == "NOT A PASS"
    assert "control or binary characters" in window.scan_view.card.detail.text()
    assert window.core.store.list_scans().items == []


def test_last_use_of_a_multi_pass_is_amber_with_a_note(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Weekend Walter", type="multi", max_uses=2)
    first = scan(qtbot, window, p.code)
    assert first.kind is Kind.ACCEPTED
    assert window.scan_view.card.detail.text() == "Multi-use · 1 use left"
    last = scan(qtbot, window, p.code)
    card = window.scan_view.card
    assert last.kind is Kind.WARNING
    assert card.word.text() == "ACCEPTED"
    assert card.background().name() == COLOURS[Kind.WARNING]
    assert card.note.text() == "That was the last use of this pass."
    assert card.icon.kind is Kind.WARNING


def test_undo_takes_back_the_admission_with_a_compensating_event(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Wrong Person")
    scan(qtbot, window, p.code)
    view = window.scan_view
    assert view.undo_button.isEnabled()
    assert "Wrong Person" in view.undo_button.text()
    with qtbot.waitSignal(view.verdict_shown, timeout=10000) as blocker:
        qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].kind is Kind.UNDONE
    assert view.card.word.text() == "UNDONE"
    assert not view.undo_button.isEnabled()
    assert window.core.passes.get(p.code).status is PassStatus.ACTIVE
    history = [e.type for e in window.core.passes.history(p.code)]
    assert history.count(EventType.PASS_SCANNED) == 1  # the fact stays; nothing deleted
    assert EventType.SCAN_REVERTED in history
    again = scan(qtbot, window, p.code)  # the pass works again
    assert again.kind is Kind.ACCEPTED


def test_refusal_offers_no_undo(qtbot: Any, window: MainWindow) -> None:
    scan(qtbot, window, "ZZZZZZZZZZZZ")
    assert not window.scan_view.undo_button.isEnabled()


def test_manual_entry_with_enter_scans(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Typed Tina")
    view = window.scan_view
    with qtbot.waitSignal(view.verdict_shown, timeout=10000) as blocker:
        qtbot.keyClicks(view.entry, p.code)
        qtbot.keyClick(view.entry, Qt.Key.Key_Return)
    assert blocker.args[0].kind is Kind.ACCEPTED
    assert view.entry.text() == ""
    assert view.results[-1].scan.source == "manual"


def test_counters_follow_scans(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Counted Carl")
    new_pass(window, "Not Here Yet")
    scan(qtbot, window, p.code)
    scan(qtbot, window, p.code)
    counters = window.scan_view.counters
    qtbot.waitUntil(lambda: counters["refused"].value.text() == "1", timeout=5000)
    assert counters["today"].value.text() == "1"
    assert counters["recent"].value.text() == "1"
    assert counters["passes"].value.text() == "1 / 2"


def test_verdict_sound_plays_unless_muted_and_never_crashes(qtbot: Any, window: MainWindow) -> None:
    p = new_pass(window, "Loud Lou")
    window.set_muted(False)
    scan(qtbot, window, p.code)
    assert window.sounds.last_played is Kind.ACCEPTED  # no audio device here: no crash either
    window.set_muted(True)
    window.sounds.last_played = None
    scan(qtbot, window, p.code)
    assert window.sounds.last_played is None
