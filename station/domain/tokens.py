"""Signed pass tokens (Ed25519).

A token carries the claims a station needs to admit a pass it has never synced — id, code,
type, use limit and validity — and a signature by the organisation's key over them. Stations
trust a list of public keys, so the organisation can rotate its key without reprinting passes.

Format: base64url(claims JSON) "." base64url(signature), claims with short keys to keep the QR small.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from station.domain.models import PassType

MAX_TOKEN_LENGTH = 1024


class BadToken(Exception):
    """The token is malformed, altered, or signed by a key this station does not trust."""


@dataclass(frozen=True, slots=True)
class Claims:
    pass_id: str
    code: str
    type: PassType
    max_uses: int | None
    valid_from: str | None
    valid_until: str | None
    kid: str

    def to_json(self) -> bytes:
        body = {
            "i": self.pass_id,
            "c": self.code,
            "t": str(self.type),
            "m": self.max_uses,
            "f": self.valid_from,
            "u": self.valid_until,
            "k": self.kid,
        }
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_key_bytes(key)).hexdigest()[:16]


def sign(private_key: Ed25519PrivateKey, claims: Claims) -> str:
    message = claims.to_json()
    return token(message, private_key.sign(message))


def token(message: bytes, signature: bytes) -> str:
    """The token of claims already serialised (`Claims.to_json`) and signed (elsewhere: an
    import signs in a worker process)."""
    return f"{_b64(message)}.{_b64(signature)}"


def verify(token: str, trusted: Iterable[Ed25519PublicKey]) -> Claims:
    """Return the claims if a trusted key signed them; raise BadToken otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadToken("malformed token")
    body_b64, sig_b64 = token.split(".")
    try:
        message = _unb64(body_b64)
        signature = _unb64(sig_b64)
        raw = json.loads(message)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadToken("malformed token") from None
    if not isinstance(raw, dict):
        raise BadToken("malformed token")
    keys = {key_id(k): k for k in trusted}
    key = keys.get(str(raw.get("k")))
    if key is None:
        raise BadToken("signed by an unknown key")
    try:
        key.verify(signature, message)
    except InvalidSignature:
        raise BadToken("signature does not match") from None
    try:
        claims = Claims(
            pass_id=str(raw["i"]),
            code=str(raw["c"]),
            type=PassType(raw["t"]),
            max_uses=None if raw.get("m") is None else int(raw["m"]),
            valid_from=raw.get("f"),
            valid_until=raw.get("u"),
            kid=str(raw["k"]),
        )
    except (KeyError, ValueError, TypeError):
        raise BadToken("malformed claims") from None
    # Re-serialise: a signed but non-canonical body is treated as tampered.
    if claims.to_json() != message:
        raise BadToken("non-canonical claims")
    return claims
