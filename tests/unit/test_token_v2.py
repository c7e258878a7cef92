"""Compact signed tokens (format 2): round trip, tampering, keys, malformed input."""

from __future__ import annotations

import itertools

import pytest
from segno import consts
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.domain import token_v2, tokens
from station.domain.models import PassType
from station.domain.payload import compact_url, parse
from station.domain.qr_content import make_qr, segments

BASE = "https://passes.station.example"


def make(key: Ed25519PrivateKey, code: str = "AbCd2345EfGh", type: PassType = PassType.MULTI,
         max_uses: int | None = 3, valid_from: str | None = "2026-06-01T18:00:00.000Z",
         valid_until: str | None = "2026-12-31T23:00:00.000Z") -> str:
    claims = token_v2.message(key.public_key(), code, type, max_uses, valid_from, valid_until)
    return token_v2.token(claims, key.sign(claims))


@pytest.mark.parametrize("type_, max_uses, valid_from, valid_until", [
    (t, m, f, u) for t, m, f, u in itertools.product(
        PassType, [None, 1, 1_000_000], [None, "2026-06-01T18:00:00.000Z"],
        [None, "2026-12-31T23:00:00.000Z"])
    if not (t is PassType.SINGLE and m is not None)])
def test_round_trip_with_every_claim_combination(type_: PassType, max_uses: int | None,
                                                 valid_from: str | None, valid_until: str | None) -> None:
    key = Ed25519PrivateKey.generate()
    got = token_v2.verify_any(make(key, "0OoIl1zZ9aA8", type_, max_uses, valid_from, valid_until),
                              [key.public_key()])
    assert got == tokens.Claims(pass_id=token_v2.pass_id_for("0OoIl1zZ9aA8"), code="0OoIl1zZ9aA8",
                                type=type_, max_uses=max_uses, valid_from=valid_from,
                                valid_until=valid_until, kid=tokens.key_id(key.public_key()))


def test_validity_is_rounded_inwards_to_whole_minutes() -> None:
    key = Ed25519PrivateKey.generate()
    got = token_v2.verify(make(key, valid_from="2026-06-01T18:00:01Z", valid_until="2026-06-01T19:59:59Z"),
                          [key.public_key()])
    assert (got.valid_from, got.valid_until) == ("2026-06-01T18:01:00.000Z", "2026-06-01T19:59:00.000Z")


def test_every_altered_byte_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    raw = int(make(key)).to_bytes(90, "big")
    for i in range(len(raw)):
        altered = bytearray(raw)
        altered[i] ^= 0x01 if i else 0x02  # the version byte goes 2 -> 0: a shorter number
        text = str(int.from_bytes(altered, "big"))
        with pytest.raises(tokens.BadToken):
            token_v2.verify_any(text, [key.public_key()])


def test_rotation_wrong_key_and_forged_key_id() -> None:
    old, new, attacker = (Ed25519PrivateKey.generate() for _ in range(3))
    trusted = [old.public_key(), new.public_key()]
    assert token_v2.verify(make(old), trusted).kid == tokens.key_id(old.public_key())
    assert token_v2.verify(make(new), trusted).kid == tokens.key_id(new.public_key())
    with pytest.raises(tokens.BadToken, match="unknown key"):
        token_v2.verify(make(new), [old.public_key()])
    # An attacker's token naming the organisation's key id: the signature does not match.
    claims = bytearray(token_v2.message(attacker.public_key(), "AbCd2345EfGh", PassType.SINGLE,
                                        None, None, None))
    claims[1:5] = token_v2.short_kid(old.public_key())
    forged = token_v2.token(bytes(claims), attacker.sign(bytes(claims)))
    with pytest.raises(tokens.BadToken, match="does not match"):
        token_v2.verify(forged, trusted)


@pytest.mark.parametrize("text", ["", "0", "1" * 215, "0" + "1" * 214, "9" * 217, "9" * 5000,
                                  "12a45", "١٢٣٤٥", " 123", "2" * 100])
def test_garbage_truncated_and_oversized_input_is_refused(text: str) -> None:
    key = Ed25519PrivateKey.generate()
    with pytest.raises(tokens.BadToken):
        token_v2.verify_any(text, [key.public_key()])


def test_truncated_and_extended_tokens_are_refused() -> None:
    key = Ed25519PrivateKey.generate()
    good = make(key)
    for bad in (good[:-1], good[:-3], good + "0", good[1:]):
        with pytest.raises(tokens.BadToken):
            token_v2.verify_any(bad, [key.public_key()])


def test_format_1_tokens_keep_verifying() -> None:
    key = Ed25519PrivateKey.generate()
    claims = tokens.Claims(pass_id="pas_x", code="AbCd1234EfGh", type=PassType.SINGLE, max_uses=None,
                           valid_from=None, valid_until=None, kid=tokens.key_id(key.public_key()))
    assert token_v2.verify_any(tokens.sign(key, claims), [key.public_key()]) == claims


@pytest.mark.parametrize("shape", [str.upper, str.lower, lambda s: s])
def test_the_url_reads_in_any_case(shape: object) -> None:
    key = Ed25519PrivateKey.generate()
    token = make(key)
    url = compact_url(BASE, token)
    assert url.startswith("https://passes.station.example/p/")
    parsed = parse(shape(url), BASE)  # type: ignore[operator]
    assert (parsed.token, parsed.code, parsed.code_in_token, parsed.foreign) == (token, None, True, False)
    assert parse(token, BASE).token == token  # the bare token too


def test_a_pass_with_every_claim_set_fits_the_version_goals() -> None:
    key = Ed25519PrivateKey.generate()
    token = make(key, max_uses=1_000_000)
    assert make_qr(compact_url(BASE, token)).version <= 7
    assert make_qr(token).version <= 6


def test_the_qr_holds_the_prefix_in_upper_case_and_the_token_as_digits() -> None:
    """publicUrl keeps the vendor's lower-case form; only the QR's copy is upper case, which is
    what puts the prefix in alphanumeric mode (lower case would be byte mode: a larger code)."""
    token = make(Ed25519PrivateKey.generate())
    url = compact_url(BASE, token)
    assert url == f"https://passes.station.example/p/{token}"
    (head, head_mode), (tail, tail_mode) = segments(url)
    assert head == "HTTPS://PASSES.STATION.EXAMPLE/P/" and head_mode == consts.MODE_ALPHANUMERIC
    assert tail == token and tail_mode == consts.MODE_NUMERIC
    assert parse(head + tail, BASE).token == token


def test_the_layout_and_the_derived_id_never_change() -> None:
    """Printed passes outlive station versions, and doors of different versions must derive the
    same pass id from a code: a fixed key gives these bytes, digits and id, now and later."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    claims = token_v2.message(key.public_key(), "AbCd2345EfGh", PassType.MULTI, 3,
                              "2026-06-01T18:00:00Z", "2026-12-31T23:00:00Z")
    # version | key id | flags (multi, uses, from, until) | code | uses | from | until (minutes)
    assert claims.hex() == "02" "56475aa7" "0f" "1de6dba689776b9fcf" "000003" "00337f98" "00382ee4"
    token = token_v2.token(claims, key.sign(claims))  # Ed25519 signatures are deterministic
    assert token.startswith("5035243857628041065249779057076471409210653305423891551906564378")
    assert token.endswith("2990729497275909") and len(token) == 215
    assert token_v2.pass_id_for("AbCd2345EfGh") == "pas_pSt9tQBCmXZjjQ7p3Pss"
