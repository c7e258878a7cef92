"""The organisation key: held by the hub, it certifies each enrolled station's signing key and
signs removals (domain/trust.py). Kept like the other secrets (keyring, or the 0600 file where
there is none); exported for backup only encrypted with a passphrase."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from station.domain.errors import InvalidInput
from station.store.secrets import SecretStore

log = logging.getLogger(__name__)

ORG_KEY_SECRET = "hub-organisation-key"
MIN_PASSPHRASE = 12


class OrgAuthority:
    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        pem = secrets.get(ORG_KEY_SECRET)
        if pem is None:
            key = Ed25519PrivateKey.generate()
            secrets.set(ORG_KEY_SECRET, key.private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode())
            log.info("hub: made the organisation key (it certifies the stations that enrol)")
        else:
            loaded = load_pem_private_key(pem.encode(), password=None)
            assert isinstance(loaded, Ed25519PrivateKey)
            key = loaded
        self.private = key

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def export(self, out: Path, passphrase: str) -> None:
        """Write the key, encrypted with `passphrase`, to a new file only this user can read."""
        if len(passphrase) < MIN_PASSPHRASE:
            raise InvalidInput(f"Choose a passphrase of at least {MIN_PASSPHRASE} characters: "
                               "it is all that protects the exported key.")
        pem = self.private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                         BestAvailableEncryption(passphrase.encode()))
        try:
            with open(out, "xb", opener=lambda p, f: os.open(p, f, 0o600)) as fh:
                fh.write(pem)
        except FileExistsError:
            raise InvalidInput(f"{out} exists already; choose a new file name.") from None


def load_exported(pem: bytes, passphrase: str) -> Ed25519PrivateKey:
    """An exported organisation key read back (restore); InvalidInput on a wrong passphrase."""
    try:
        key = load_pem_private_key(pem, password=passphrase.encode())
    except (ValueError, TypeError):
        raise InvalidInput("That passphrase does not open this key file.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput("That file holds no organisation key.")
    return key
