"""A list that asks the door to confirm a pass's note (`confirmAttention`, docs/checkin-lists.md):
the window's door holds the entry until it answers; Confirm records it with
`scan.attention.confirmedBy`, Turn away records a refusal `turned_away`; the API and the
command line (no hold) record at once. Real SQLite files."""

from __future__ import annotations

from station.app import Core
from station.domain.door import AttentionAnswer, Door
from station.domain.models import Reason, Verdict
from station.store.door_reads import inside_counts


def _scan_data(core: Core, pass_id: str, scan_id: str) -> dict[str, object]:
    for event in core.store.events_for_pass(pass_id):
        scan = event.data.get("scan") or {}
        if scan.get("id") == scan_id:
            return dict(scan)
    raise AssertionError(f"{scan_id} is not in the log")


def test_the_door_confirms_or_turns_away_and_both_are_recorded(core: Core) -> None:
    vip = core.lists.create({"name": "VIP", "confirmAttention": True}, by="Mia")
    door = Door(vip)
    ann = core.passes.create(core.passes.validate("Ann", "multi", attention="Check ID — under 18"))

    held = core.scans.submit(ann.code, door=door, hold_attention=True)
    assert held.awaiting and held.attention == "Check ID — under 18"
    assert core.store.list_scans(pass_id=ann.id).items == []  # nothing recorded while it waits
    assert inside_counts(core.store) == {}

    turned = core.scans.submit(ann.code, door=door, hold_attention=True,
                               attention=AttentionAnswer("door", admit=False))
    assert (turned.verdict, turned.reason) == (Verdict.REJECTED, Reason.TURNED_AWAY)
    assert not turned.awaiting and "Check ID" in turned.message
    assert inside_counts(core.store) == {}

    confirmed = core.scans.submit(ann.code, door=door, hold_attention=True,
                                  attention=AttentionAnswer("door", admit=True))
    assert confirmed.accepted and not confirmed.awaiting
    assert _scan_data(core, ann.id, confirmed.scan.id)["attention"] == {
        "note": "Check ID — under 18", "confirmedBy": "door"}
    assert inside_counts(core.store) == {vip.id: 1}
    reasons = [s.reason for s in core.store.list_scans(pass_id=ann.id).items]
    assert sorted(reasons, key=str) == sorted([Reason.TURNED_AWAY, None], key=str)

    # The API and the command line do not hold: recorded at once, unconfirmed, as documented.
    at_once = core.scans.submit(ann.code, door=door)
    assert at_once.accepted and not at_once.awaiting
    assert "attention" not in _scan_data(core, ann.id, at_once.scan.id)
