"""The organisation's Ed25519 signing key (in keyring) and the public keys this station trusts."""

from __future__ import annotations

import base64
import logging
import threading

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from station.domain import tokens
from station.domain.errors import InvalidInput
from station.store.db import Store
from station.store.secrets import SecretStore

log = logging.getLogger(__name__)

SIGNING_KEY = "org-signing-key"


class OrgKeys:
    def __init__(self, store: Store, secrets: SecretStore) -> None:
        self._store = store
        self._secrets = secrets
        self._lock = threading.Lock()
        self._private: Ed25519PrivateKey | None = None
        self._trusted: list[Ed25519PublicKey] = []
        self._load()

    def _load(self) -> None:
        pem = self._secrets.get(SIGNING_KEY)
        if pem is None:
            self._private = self._generate()
        else:
            key = load_pem_private_key(pem.encode(), password=None)
            assert isinstance(key, Ed25519PrivateKey)
            self._private = key
        self._trusted = [self._decode(k) for k in self._store.setting("org_public_keys", [])]
        if tokens.key_id(self._private.public_key()) not in {tokens.key_id(k) for k in self._trusted}:
            self.trust(self._public_b64(self._private.public_key()))

    def _generate(self) -> Ed25519PrivateKey:
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        self._secrets.set(SIGNING_KEY, pem)
        return key

    @staticmethod
    def _public_b64(key: Ed25519PublicKey) -> str:
        return base64.b64encode(tokens.public_key_bytes(key)).decode()

    @staticmethod
    def _decode(b64: str) -> Ed25519PublicKey:
        try:
            raw = base64.b64decode(b64, validate=True)
            return Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            raise InvalidInput("That is not an Ed25519 public key (32 bytes, base64).") from None

    @property
    def private(self) -> Ed25519PrivateKey:
        assert self._private is not None
        return self._private

    @property
    def trusted(self) -> list[Ed25519PublicKey]:
        return list(self._trusted)

    def public_keys_b64(self) -> list[str]:
        return [self._public_b64(k) for k in self._trusted]

    def trust(self, public_b64: str) -> None:
        """Add a public key (from another station of the organisation, or after rotation)."""
        key = self._decode(public_b64)
        with self._lock:
            if tokens.key_id(key) in {tokens.key_id(k) for k in self._trusted}:
                return
            self._trusted.append(key)
            self._store.set_setting("org_public_keys", self.public_keys_b64())

    def keep_only_own(self) -> int:
        """Trust this station's current key alone (enrolment: the others come back certified).
        Returns how many keys stopped being trusted."""
        own = self._public_b64(self.private.public_key())
        with self._lock:
            dropped = len(self._trusted) - 1
            self._trusted = [self._decode(own)]
            self._store.set_setting("org_public_keys", [own])
        return dropped

    def distrust(self, public_b64: str) -> bool:
        """Stop trusting a key (its station was removed); False when it was not trusted."""
        key = self._decode(public_b64)
        with self._lock:
            kept = [k for k in self._trusted if tokens.key_id(k) != tokens.key_id(key)]
            if len(kept) == len(self._trusted):
                return False
            self._trusted = kept
            self._store.set_setting("org_public_keys", self.public_keys_b64())
            return True

    def rotate(self) -> str:
        """Sign new passes with a fresh key; passes signed by older keys stay valid."""
        with self._lock:
            self._private = self._generate()
        self.trust(self._public_b64(self._private.public_key()))
        return tokens.key_id(self._private.public_key())
