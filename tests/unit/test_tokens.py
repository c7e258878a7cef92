"""Signed pass tokens: sign, verify, rotation, tampering."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.domain import tokens
from station.domain.models import PassType


def claims_for(key: Ed25519PrivateKey, **over: object) -> tokens.Claims:
    base: dict[str, object] = dict(pass_id="pas_x", code="AbCd1234EfGh", type=PassType.MULTI,
                                   max_uses=3, valid_from=None, valid_until="2026-07-01T00:00:00.000Z",
                                   kid=tokens.key_id(key.public_key()))
    base.update(over)
    return tokens.Claims(**base)  # type: ignore[arg-type]


def test_round_trip() -> None:
    key = Ed25519PrivateKey.generate()
    claims = claims_for(key)
    token = tokens.sign(key, claims)
    assert tokens.verify(token, [key.public_key()]) == claims


def test_rotation_accepts_old_and_new_keys() -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    trusted = [old.public_key(), new.public_key()]
    assert tokens.verify(tokens.sign(old, claims_for(old)), trusted).kid == tokens.key_id(old.public_key())
    assert tokens.verify(tokens.sign(new, claims_for(new)), trusted).kid == tokens.key_id(new.public_key())
    # A station that has not yet learned the new key refuses its tokens.
    with pytest.raises(tokens.BadToken, match="unknown key"):
        tokens.verify(tokens.sign(new, claims_for(new)), [old.public_key()])


def test_key_id_claim_cannot_point_at_another_trusted_key() -> None:
    attacker, org = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    forged = tokens.sign(attacker, claims_for(attacker, kid=tokens.key_id(org.public_key())))
    with pytest.raises(tokens.BadToken):
        tokens.verify(forged, [org.public_key()])


def _alter(token: str, **changes: object) -> str:
    body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims.update(changes)
    raw = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + sig


@pytest.mark.parametrize("change", [{"c": "ZZZZ1234EfGh"}, {"t": "single"}, {"m": 99},
                                    {"u": "2099-01-01T00:00:00.000Z"}, {"i": "pas_other"}])
def test_any_altered_claim_is_refused(change: dict[str, object]) -> None:
    key = Ed25519PrivateKey.generate()
    token = tokens.sign(key, claims_for(key))
    with pytest.raises(tokens.BadToken, match="does not match"):
        tokens.verify(_alter(token, **change), [key.public_key()])


@pytest.mark.parametrize("token", ["", ".", "a.b.c", "!!!.???", "x" * 5000, "e30.AAAA",
                                   "bm90IGpzb24.AAAA", "WzFd.AAAA"])
def test_malformed_tokens_are_refused(token: str) -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(tokens.BadToken):
        tokens.verify(token, [key.public_key()])


def test_flipped_signature_bit_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    body, sig = tokens.sign(key, claims_for(key)).split(".")
    raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
    raw[0] ^= 1
    bad = body + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(tokens.BadToken):
        tokens.verify(bad, [key.public_key()])
