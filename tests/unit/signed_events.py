"""Two origins' keys and made-up events, shared by the tests of signed event chains
(test_event_chain.py) and of publish rounds (test_publish_rounds.py)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.domain import tokens
from station.domain.event_signature import EventTrust
from station.domain.events import Event
from station.domain.remote import data_text

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # Ed25519 signs deterministically
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
TRUST = EventTrust({"sta_a": (tokens.public_key_bytes(KEY.public_key()),),
                    "sta_b": (tokens.public_key_bytes(OTHER.public_key()),)}, None)


def made_event(origin: str, seq: int) -> Event:
    return Event(id=f"evt_{origin}_{seq:04d}", type="pass.scanned",
                 timestamp="2026-06-01T18:00:00.000Z",
                 data={"passId": f"pas_{seq}", "verdict": "accepted", "n": seq}, origin=origin,
                 origin_seq=seq, hlc=f"{seq:018d}.000000", pass_id=f"pas_{seq}")


def refusals_of(events: list[Event]) -> list[str | None]:
    """What TRUST refuses of `events`, delivered as one batch with nothing known before."""
    n = len(events)
    return TRUST.refusals(events, [data_text(e.data) for e in events], [False] * n, [None] * n)
