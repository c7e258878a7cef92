"""The signed form of an event (issue 15, part 5): stable byte for byte, and what a signature
over it does and does not accept."""

from __future__ import annotations

import dataclasses
import pickle

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.domain import tokens
from station.domain.event_signature import (
    BAD_SIGNATURE,
    REMOVED_ORIGIN,
    UNKNOWN_ORIGIN,
    UNSIGNED,
    EventTrust,
    sign_event,
    signed_form,
    verifies,
)
from station.domain.events import Event
from station.net.sync import wire

EVENT = Event(id="evt_0123456789abcdef0123456789abcdef", type="pass.status_changed",
              timestamp="2026-06-01T18:00:00.000Z",
              data={"to": "revoked", "from": "active", "by": "Zoë", "id": "pas_1"},
              origin="sta_door_a", origin_seq=7, hlc="000001780336800000.000003", pass_id="pas_1")
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # Ed25519 signs deterministically


def test_the_signed_form_is_stable() -> None:
    # Stations of different versions must agree on these bytes forever: a change here is a new
    # form (a new tag), never an edit of this one.
    assert signed_form(EVENT) == (
        b'station-event-v1\n["evt_0123456789abcdef0123456789abcdef","pass.status_changed",'
        b'"2026-06-01T18:00:00.000Z","sta_door_a",7,"000001780336800000.000003","pas_1"]\n'
        b'{"by":"Zo\\u00eb","from":"active","id":"pas_1","to":"revoked"}')
    assert sign_event(KEY, EVENT) == ("PiKz6UNafkAmqSIcBLItNYuDrpIuUzbBcC-QGbZpDcW04TkgDZsgzGh85Q"
                                      "fCIjIINb4sPREr_9B1EEyTw6HZBw")
    # The data's key order and the signature field itself do not change the form.
    reordered = dataclasses.replace(EVENT, data=dict(reversed(EVENT.data.items())), sig="x")
    assert signed_form(reordered) == signed_form(EVENT)


def test_the_wire_carries_the_form_a_receiver_verifies_without_encoding_again() -> None:
    signed = dataclasses.replace(EVENT, sig=sign_event(KEY, EVENT))
    received, text = wire.decode_with_text(wire.encode(signed))
    assert received == signed
    assert verifies(received, (KEY.public_key(),), text)
    assert len(wire.encode(signed)) - len(wire.encode(EVENT)) == len(',"sig":""') + 86


def test_a_signature_holds_only_for_its_event_and_its_key() -> None:
    signed = dataclasses.replace(EVENT, sig=sign_event(KEY, EVENT))
    other = Ed25519PrivateKey.generate()
    assert verifies(signed, (other.public_key(), KEY.public_key()))  # any of the origin's keys
    assert not verifies(signed, (other.public_key(),))
    assert not verifies(signed, ())
    for changed in (dataclasses.replace(signed, data={**EVENT.data, "to": "active"}),
                    dataclasses.replace(signed, origin="sta_door_b"),
                    dataclasses.replace(signed, origin_seq=8),
                    dataclasses.replace(signed, pass_id="pas_2"),
                    dataclasses.replace(signed, sig=signed.sig[:-2] + "AA"),  # type: ignore[index]
                    dataclasses.replace(signed, sig="not a signature")):
        assert not verifies(changed, (KEY.public_key(),))
    # A pass token's signature by the same key is not an event's (the form's tag).
    message = b'{"c":"x"}'
    forged = dataclasses.replace(EVENT, sig=tokens.token(message, KEY.sign(message)).split(".")[1])
    assert not verifies(forged, (KEY.public_key(),))


def test_trust_refuses_unknown_origins_forgeries_and_late_unsigned_events() -> None:
    trust = EventTrust({"sta_door_a": (tokens.public_key_bytes(KEY.public_key()),)},
                       unsigned_until=10)
    signed = dataclasses.replace(EVENT, sig=sign_event(KEY, EVENT))
    assert trust.refusal(signed, before_switch=False) is None
    assert trust.refusal(dataclasses.replace(signed, origin="sta_x"), False) == UNKNOWN_ORIGIN
    by_other = dataclasses.replace(EVENT, sig=sign_event(Ed25519PrivateKey.generate(), EVENT))
    assert trust.refusal(by_other, False) == BAD_SIGNATURE
    # Unsigned: accepted only when the hub stored it before signing was switched on.
    assert trust.before_switch(10) and not trust.before_switch(11)
    assert trust.refusal(EVENT, before_switch=True) is None
    assert trust.refusal(EVENT, before_switch=False) == UNSIGNED
    assert not EventTrust({}, None).before_switch(1)
    # Sent to the worker process (the keys loaded here are not part of it).
    assert trust.keys_of("sta_door_a")
    again = pickle.loads(pickle.dumps(trust))
    assert again == trust and again.refusal(by_other, False) == BAD_SIGNATURE


def test_a_removed_stations_events_count_only_from_its_own_subject() -> None:
    # Its hub user is gone: what arrives on its subject it published before its removal;
    # anything else its key signs came through somebody else.
    trust = EventTrust({}, None,
                       removed={"sta_door_a": (tokens.public_key_bytes(KEY.public_key()),)})
    signed = dataclasses.replace(EVENT, sig=sign_event(KEY, EVENT))
    assert trust.refusal(signed, False, sender="sta_door_a") is None
    assert trust.refusal(signed, False, sender="sta_door_c") == REMOVED_ORIGIN
    assert trust.refusal(signed, False) == REMOVED_ORIGIN
    by_other = dataclasses.replace(EVENT, sig=sign_event(Ed25519PrivateKey.generate(), EVENT))
    assert trust.refusal(by_other, False, sender="sta_door_a") == BAD_SIGNATURE
    again = pickle.loads(pickle.dumps(trust))  # the worker process gets the removed keys too
    assert again.refusal(signed, False, sender="sta_door_c") == REMOVED_ORIGIN
    assert again.refusal(signed, False, sender="sta_door_a") is None
