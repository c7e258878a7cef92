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
# The exported file's first line names the organisation (not secret: a restored hub must serve
# the same organisation, or its doors refuse it); the encrypted key follows, as PEM.
EXPORT_HEADER = "station organisation: "
MAX_EXPORT_BYTES = 16 * 1024
NOT_AN_EXPORT = ("That file is not an organisation key exported by `station hub export-key`; "
                 "nothing was changed.")


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

    def export(self, out: Path, passphrase: str, org: str) -> None:
        """Write the key, encrypted with `passphrase`, to a new file only this user can read,
        with the name of the organisation `org` it belongs to (read_export)."""
        if len(passphrase) < MIN_PASSPHRASE:
            raise InvalidInput(f"Choose a passphrase of at least {MIN_PASSPHRASE} characters: "
                               "it is all that protects the exported key.")
        pem = (EXPORT_HEADER + org + "\n").encode() + self.private.private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(passphrase.encode()))
        try:
            with open(out, "xb", opener=lambda p, f: os.open(p, f, 0o600)) as fh:
                fh.write(pem)
        except FileExistsError:
            raise InvalidInput(f"{out} exists already; choose a new file name.") from None


def read_export(raw: bytes, passphrase: str) -> tuple[str, Ed25519PrivateKey]:
    """An exported file read back: the organisation and its key. InvalidInput (one sentence)
    for a file that is not one, a wrong passphrase or a damaged file."""
    try:
        text = raw.decode("ascii") if len(raw) <= MAX_EXPORT_BYTES else ""
    except UnicodeDecodeError:
        text = ""
    first, _, pem = text.partition("\n")
    org = first.removeprefix(EXPORT_HEADER).strip()
    if not first.startswith(EXPORT_HEADER) or not org.isprintable() or " " in org \
            or not 0 < len(org) <= 64 or "-----BEGIN ENCRYPTED PRIVATE KEY-----" not in pem:
        raise InvalidInput(NOT_AN_EXPORT)
    return org, load_exported(pem.encode(), passphrase)


def load_exported(pem: bytes, passphrase: str) -> Ed25519PrivateKey:
    """The encrypted key of an exported file; InvalidInput on a wrong passphrase."""
    try:
        # cryptography raises the same ValueError for a wrong passphrase and a damaged file.
        key = load_pem_private_key(pem, password=passphrase.encode())
    except (ValueError, TypeError):
        raise InvalidInput("That passphrase does not open this key file, or the file is "
                           "damaged: check the passphrase or use another copy; nothing was "
                           "changed.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(NOT_AN_EXPORT)
    return key


def restore_key(secrets: SecretStore, key: Ed25519PrivateKey) -> None:
    """Keep `key` as the hub's organisation key, where it has none yet (the same key again is
    fine); a hub with another key of its own is refused: it certified its doors with that."""
    held = secrets.get(ORG_KEY_SECRET)
    if held is not None:
        loaded = load_pem_private_key(held.encode(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey) or loaded.public_key().public_bytes_raw() \
                != key.public_key().public_bytes_raw():
            raise InvalidInput("This hub's data directory has an organisation key of its own "
                               "already: restore into a new data directory; nothing was "
                               "changed.")
        return
    secrets.set(ORG_KEY_SECRET, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                  NoEncryption()).decode())
    log.info("hub: the organisation key is restored from an export")
