"""What the organisation key signs: station key certificates and removals (issue 15).

A certificate says "this station (id, name) signs passes with this public key", a removal says
"this station's key stopped being ours at this time". Both are a JSON object whose signature
(Ed25519, by the organisation key held by the hub) covers the canonical form of every other
field: compact JSON, keys sorted, UTF-8. Anything that does not verify is `Untrusted`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from station.domain.tokens import public_key_bytes

VERSION = 1
CERTIFICATE = "station-key"
REMOVAL = "station-removed"
ENROLMENT = "enrolment-request"


class Untrusted(Exception):
    """A record that is malformed, or not signed by the key it has to be signed by."""


def key_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(public_key_bytes(key)).decode()


def public_key(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except (ValueError, binascii.Error, TypeError):
        raise Untrusted("not an Ed25519 public key") from None


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes signed: every field but the signature, compact JSON with sorted keys."""
    body = {k: v for k, v in fields.items() if k != "sig"}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(private: Ed25519PrivateKey, fields: dict[str, Any]) -> dict[str, Any]:
    signed = dict(fields)
    signed["sig"] = base64.b64encode(private.sign(canonical(fields))).decode()
    return signed


def check(record: object, signer: Ed25519PublicKey, kind: str) -> dict[str, Any]:
    """The record if `signer` signed it and it is of `kind`; Untrusted otherwise."""
    if not isinstance(record, dict) or record.get("kind") != kind or record.get("v") != VERSION:
        raise Untrusted(f"not a {kind} record")
    try:
        signature = base64.b64decode(str(record.get("sig") or ""), validate=True)
        signer.verify(signature, canonical(record))
    except (InvalidSignature, ValueError, binascii.Error):
        raise Untrusted(f"the {kind} record's signature does not verify") from None
    return record


@dataclass(frozen=True, slots=True)
class Certified:
    """A station's signing key, certified by the organisation."""

    org: str
    station_id: str
    name: str
    key: str  # base64 Ed25519 public key
    issued_at: str

    def fields(self) -> dict[str, Any]:
        return {"v": VERSION, "kind": CERTIFICATE, "org": self.org, "stationId": self.station_id,
                "name": self.name, "key": self.key, "issuedAt": self.issued_at}


def certify(org_key: Ed25519PrivateKey, cert: Certified) -> dict[str, Any]:
    return sign(org_key, cert.fields())


def read_certificate(record: object, org_key: Ed25519PublicKey) -> Certified:
    fields = check(record, org_key, CERTIFICATE)
    cert = Certified(str(fields.get("org")), str(fields.get("stationId")),
                     str(fields.get("name")), str(fields.get("key")),
                     str(fields.get("issuedAt")))
    public_key(cert.key)  # a certificate over something that is not a key is no use
    return cert


@dataclass(frozen=True, slots=True)
class Removal:
    """A station removed from the organisation: its key signs nothing new from `removed_at`."""

    org: str
    station_id: str
    name: str
    key: str
    removed_at: str

    def fields(self) -> dict[str, Any]:
        return {"v": VERSION, "kind": REMOVAL, "org": self.org, "stationId": self.station_id,
                "name": self.name, "key": self.key, "removedAt": self.removed_at}


def sign_removal(org_key: Ed25519PrivateKey, removal: Removal) -> dict[str, Any]:
    return sign(org_key, removal.fields())


def read_removal(record: object, org_key: Ed25519PublicKey) -> Removal:
    fields = check(record, org_key, REMOVAL)
    return Removal(str(fields.get("org")), str(fields.get("stationId")), str(fields.get("name")),
                   str(fields.get("key")), str(fields.get("removedAt")))


def enrolment_request(private: Ed25519PrivateKey, station_id: str, name: str,
                      password_hash: str, at: str) -> dict[str, Any]:
    """What a station sends to enrol, signed with the key to be certified (proof it holds it).
    It carries a bcrypt hash of the password the station chose, never the password."""
    return sign(private, {"v": VERSION, "kind": ENROLMENT, "stationId": station_id, "name": name,
                          "key": key_b64(private.public_key()), "passwordHash": password_hash,
                          "at": at})


def read_enrolment_request(record: object) -> dict[str, Any]:
    """The request if it is signed by the key it asks to be certified; Untrusted otherwise."""
    if not isinstance(record, dict):
        raise Untrusted("not an enrolment request")
    return check(record, public_key(str(record.get("key") or "")), ENROLMENT)
