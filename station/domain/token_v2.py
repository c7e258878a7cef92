"""Compact signed pass tokens (format 2): binary claims + Ed25519 signature, as one decimal number.

A QR code prints digits in numeric mode at 3.33 bits a character, so the decimal form of the
token's bytes costs barely more than the bytes themselves; format 1 (base64url JSON) costs about
twice as much. At the same printed size a smaller QR version has larger modules, which a webcam
reads from further away (docs/token-format.md has the measurements and the layout's why).

Layout (big-endian), signed as a whole, followed by the 64-byte signature:

    version (1 byte, = 2) | key id (4) | flags (1) | code (9) | max uses (3)? | from (4)? | until (4)?

The flags say the pass type (bit 0: multi) and which optional claims follow (bits 1-3); every
other bit must be 0. The code is its 12 base62 characters as one integer. Times are whole
minutes since 2020-01-01T00:00Z: the start rounded up and the end rounded down, so the token
never admits a moment the pass does not. The pass id is not carried: it is derived from the code
(`pass_id_for`), so a door that admits an unsynced pass records it under the id the issuing
station gave it, and the fold joins the two when they sync.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.domain import tokens
from station.domain.codes import BASE62, CODE_LENGTH, base62, is_code
from station.domain.models import PassType
from station.domain.times import parse_iso, to_iso

VERSION = 2
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# 4 bytes of the key's SHA-256: only picks which trusted key to try. Every trusted key with that
# prefix is tried, so a clash between two of an organisation's keys (odds ~n²/2^33) costs one
# more verification, never a refusal; a forger gains nothing, the signature must still verify.
KID_BYTES = 4
SIGNATURE_BYTES = 64
_CODE_BYTES = 9  # 62^12 < 2^72
_USES_BYTES = 3  # MAX_USES_LIMIT (1,000,000) < 2^24
_TIME_BYTES = 4  # minutes: 2^32 of them reach past the year 9999
_MULTI, _HAS_USES, _HAS_FROM, _HAS_UNTIL = 1, 2, 4, 8
_FIXED = 1 + KID_BYTES + 1 + _CODE_BYTES
_MAX_BYTES = _FIXED + _USES_BYTES + 2 * _TIME_BYTES + SIGNATURE_BYTES
MIN_DIGITS = len(str(VERSION * 256 ** (_FIXED + SIGNATURE_BYTES - 1)))
MAX_DIGITS = len(str(256 ** _MAX_BYTES))


def short_kid(key: Ed25519PublicKey) -> bytes:
    return bytes.fromhex(tokens.key_id(key))[:KID_BYTES]


def pass_id_for(code: str) -> str:
    """The pass id of a format-2 pass: a hash of its code, so any door can name it."""
    number = int.from_bytes(hashlib.sha256(b"station pass id\0" + code.encode()).digest(), "big")
    return "pas_" + base62(number, 20)[::-1]  # least significant digit first, as ever


def _minutes(text: str, *, round_up: bool) -> int:
    seconds = (parse_iso(text) - EPOCH).total_seconds()
    whole = int(-(-seconds // 60) if round_up else seconds // 60)
    return min(max(whole, 0), (1 << 8 * _TIME_BYTES) - 1)


def _iso(minutes: int) -> str:
    try:
        return to_iso(EPOCH + timedelta(minutes=minutes))
    except OverflowError:  # past the year 9999: no signer of ours writes it
        raise tokens.BadToken("malformed claims") from None


def message(key: Ed25519PublicKey, code: str, type: PassType, max_uses: int | None,
            valid_from: str | None, valid_until: str | None) -> bytes:
    """The claim bytes to sign for a pass (signing may happen elsewhere: an import's worker)."""
    if not is_code(code):
        raise ValueError(f"not a pass code: {code!r}")
    flags = (_MULTI if type is PassType.MULTI else 0) | (_HAS_USES if max_uses is not None else 0) \
        | (_HAS_FROM if valid_from else 0) | (_HAS_UNTIL if valid_until else 0)
    number = 0
    for ch in code:
        number = number * 62 + BASE62.index(ch)
    out = bytes([VERSION]) + short_kid(key) + bytes([flags]) + number.to_bytes(_CODE_BYTES, "big")
    if max_uses is not None:
        out += max_uses.to_bytes(_USES_BYTES, "big")
    if valid_from:
        out += _minutes(valid_from, round_up=True).to_bytes(_TIME_BYTES, "big")
    if valid_until:
        out += _minutes(valid_until, round_up=False).to_bytes(_TIME_BYTES, "big")
    return out


def token(claims: bytes, signature: bytes) -> str:
    """The token's text: claims and signature as one decimal number (the version byte, 2, keeps
    it free of leading zeros, so the digits give back the bytes exactly)."""
    return str(int.from_bytes(claims + signature, "big"))


def looks_like(text: str) -> bool:
    """Digits only and of a format-2 token's length (not yet checked): shorter digits are a
    typed number, not a pass."""
    return MIN_DIGITS <= len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


def _decode(text: str) -> tuple[bytes, bytes, int, int]:
    """(claims, signature, flags, code number) of a token's text; BadToken if malformed."""
    if not looks_like(text) or text[0] == "0":
        raise tokens.BadToken("malformed token")
    number = int(text)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    if len(raw) < _FIXED + SIGNATURE_BYTES or raw[0] != VERSION:
        raise tokens.BadToken("malformed token")
    flags = raw[1 + KID_BYTES]
    if flags & ~(_MULTI | _HAS_USES | _HAS_FROM | _HAS_UNTIL):
        raise tokens.BadToken("malformed claims")
    size = _FIXED + (_USES_BYTES if flags & _HAS_USES else 0) \
        + _TIME_BYTES * (bool(flags & _HAS_FROM) + bool(flags & _HAS_UNTIL))
    if len(raw) != size + SIGNATURE_BYTES:
        raise tokens.BadToken("malformed token")
    code_number = int.from_bytes(raw[_FIXED - _CODE_BYTES:_FIXED], "big")
    if code_number >= 62 ** CODE_LENGTH:
        raise tokens.BadToken("malformed claims")
    return raw[:size], raw[size:], flags, code_number


def verify(text: str, trusted: Iterable[Ed25519PublicKey]) -> tokens.Claims:
    """The claims if a trusted key signed them; BadToken (with the reason) otherwise."""
    claims, signature, flags, code_number = _decode(text)
    kid = claims[1:1 + KID_BYTES]
    candidates = [k for k in trusted if short_kid(k) == kid]
    if not candidates:
        raise tokens.BadToken("signed by an unknown key")
    for key in candidates:
        try:
            key.verify(signature, claims)
        except InvalidSignature:
            continue
        break
    else:
        raise tokens.BadToken("signature does not match")
    code = base62(code_number, CODE_LENGTH)
    rest = claims[_FIXED:]
    max_uses = valid_from = valid_until = None
    if flags & _HAS_USES:
        max_uses, rest = int.from_bytes(rest[:_USES_BYTES], "big"), rest[_USES_BYTES:]
        if max_uses < 1:
            raise tokens.BadToken("malformed claims")
    if flags & _HAS_FROM:
        valid_from, rest = _iso(int.from_bytes(rest[:_TIME_BYTES], "big")), rest[_TIME_BYTES:]
    if flags & _HAS_UNTIL:
        valid_until = _iso(int.from_bytes(rest[:_TIME_BYTES], "big"))
    return tokens.Claims(
        pass_id=pass_id_for(code), code=code,
        type=PassType.MULTI if flags & _MULTI else PassType.SINGLE, max_uses=max_uses,
        valid_from=valid_from, valid_until=valid_until, kid=tokens.key_id(key),
    )


def verify_any(text: str, trusted: Iterable[Ed25519PublicKey]) -> tokens.Claims:
    """Verify a token of either format: passes printed before format 2 keep scanning."""
    if looks_like(text):
        return verify(text, trusted)
    return tokens.verify(text, trusted)
