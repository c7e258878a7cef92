"""Hash-chained event signatures (issue 15, part 5, form v2): a run of an origin's linked
events verifies with the signature of its last event, and nothing altered rides along."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from station.domain import event_signature
from station.domain.event_signature import (
    BAD_SIGNATURE,
    EventTrust,
    linked_runs,
    sign_chained,
    sign_event,
    signed_form_v2,
    verifies,
)
from station.domain.events import Event
from tests.unit.signed_events import KEY, OTHER, made_event, refusals_of


def _chain(origin: str, key: Ed25519PrivateKey, first: int, n: int) -> list[Event]:
    """`n` events of `origin`, signed in order as a publisher does, each linked to the last."""
    out, prev = [], ""
    for seq in range(first, first + n):
        event = made_event(origin, seq)
        sig, prev = sign_chained(key, event, prev)
        out.append(dataclasses.replace(event, sig=sig))
    return out


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many signatures EventTrust.refusals verified."""
    count = [0]
    real = event_signature.verifies

    def counted(*args: Any) -> bool:
        count[0] += 1
        return real(*args)

    monkeypatch.setattr(event_signature, "verifies", counted)
    yield count


def test_the_v2_form_is_stable_and_the_sig_carries_prev() -> None:
    event = made_event("sta_a", 7)
    prev = "A" * 43
    assert signed_form_v2(event, prev) == (
        b'station-event-v2\n["evt_sta_a_0007","pass.scanned","2026-06-01T18:00:00.000Z",'
        b'"sta_a",7,"000000000000000007.000000","pas_7","' + prev.encode() + b'"]\n'
        b'{"n":7,"passId":"pas_7","verdict":"accepted"}')
    sig, own = sign_chained(KEY, event, prev)
    assert sig.endswith("." + prev) and len(sig) == 86 + 1 + 43 and len(own) == 43
    assert verifies(dataclasses.replace(event, sig=sig), (KEY.public_key(),))
    start, _ = sign_chained(KEY, event, "")  # a chain's first event
    assert start.endswith(".") and verifies(dataclasses.replace(event, sig=start),
                                            (KEY.public_key(),))
    # A v2 signature is not a v1 one of the same event (the tags differ), nor the other way.
    assert not verifies(dataclasses.replace(event, sig=start[:86]), (KEY.public_key(),))
    v1 = sign_event(KEY, event)
    assert not verifies(dataclasses.replace(event, sig=v1 + "."), (KEY.public_key(),))
    for bad in (v1 + ".short", v1 + "." + "A" * 44, "x" * 86 + "." + prev):
        assert not verifies(dataclasses.replace(event, sig=bad), (KEY.public_key(),))


def test_a_run_costs_one_verification_and_v1_events_still_verify_alone(
        verifications: list[int]) -> None:
    run = _chain("sta_a", KEY, 1, 50)
    assert linked_runs(run, [None] * 50, range(50)) == [list(range(50))]
    assert refusals_of(run) == [None] * 50 and verifications[0] == 1
    v1 = [dataclasses.replace(e, sig=sign_event(KEY, e)) for e in map(
        lambda s: made_event("sta_a", s), range(51, 54))]
    verifications[0] = 0
    assert refusals_of(run + v1) == [None] * 53 and verifications[0] == 1 + 3
    # A forged last event refuses itself; the one below it vouches for the rest.
    forged = dataclasses.replace(run[-1], data={**run[-1].data, "verdict": "rejected"})
    verifications[0] = 0
    assert refusals_of([*run[:-1], forged]) == [None] * 49 + [BAD_SIGNATURE]
    assert verifications[0] == 2
    # Damaged signature bytes below the top alter no event (the hashes vouch for its form);
    # on the top, that event is refused alone.
    damaged = [dataclasses.replace(e, sig=_damaged(e.sig)) for e in run]
    assert refusals_of([*damaged[:-1], run[-1]]) == [None] * 50
    assert refusals_of(damaged) == [BAD_SIGNATURE] * 50  # every one checked, every one bad
    assert refusals_of([*run[:-1], damaged[-1]]) == [None] * 49 + [BAD_SIGNATURE]


def _damaged(sig: str | None) -> str:
    assert sig is not None
    return ("A" if sig[0] != "A" else "B") + sig[1:]


ALTERATIONS = ("data", "seq", "origin", "prev", "swap", "drop")


def _altered(run: list[Event], j: int, how: str) -> tuple[list[Event], int | None]:
    """`run` with event j altered `how`, and the index of the altered event in the result
    (None: nothing forged, only reordered or missing)."""
    e = run[j]
    if how == "swap":
        return [*run[:j], run[j + 1], e, *run[j + 2:]], None
    if how == "drop":
        return [*run[:j], *run[j + 1:]], None
    sig = e.sig
    assert sig is not None
    changed = {
        "data": dataclasses.replace(e, data={**e.data, "verdict": "rejected"}),
        "seq": dataclasses.replace(e, origin_seq=e.origin_seq + 1000),
        "origin": dataclasses.replace(e, origin="sta_b"),
        "prev": dataclasses.replace(e, sig=sig[:87] + ("B" * 43 if sig[87:88] != "B"
                                                       else "C" * 43)),
    }[how]
    return [*run[:j], changed, *run[j + 1:]], j


@settings(max_examples=300, deadline=None)
@given(n=st.integers(3, 12), data=st.data())
def test_an_altered_event_never_verifies_with_its_run_and_is_the_only_one_refused(
        n: int, data: st.DataObject) -> None:
    how = data.draw(st.sampled_from(ALTERATIONS))
    inner = how in ("swap", "drop")  # reordered or dropped in the middle
    j = data.draw(st.integers(1, n - 2) if inner else st.integers(0, n - 1))
    run = _chain("sta_a", KEY, data.draw(st.integers(1, 10_000)), n)
    altered, forged = _altered(run, j, how)
    # Another door's chain, interleaved as the hub's stream holds them.
    other = _chain("sta_b", OTHER, 1, data.draw(st.integers(0, 5)))
    order = data.draw(st.permutations([0] * len(altered) + [1] * len(other)))
    sources = (iter(altered), iter(other))
    stream = [next(sources[k]) for k in order]
    ours = [i for i, e in enumerate(stream) if e.origin == "sta_a"]
    runs = linked_runs(stream, [None] * len(stream), ours)
    whys = refusals_of(stream)
    refused = [stream[i] for i, why in enumerate(whys) if why is not None]
    if forged is None:  # reordered or one missing: the chain breaks there, nothing is forged
        assert len(runs) > 1 and refused == []
    else:
        # No run vouches for the altered event from above: it tops its run (its own signature
        # is all that could carry it, and that fails), and it alone is refused.
        at = stream.index(altered[forged]) if how != "origin" else None
        assert at is None or any(run[-1] == at for run in runs)
        assert refused == [altered[forged]] and set(whys) == {None, BAD_SIGNATURE}
