"""API key format: `2pk_` + 30 random base62 characters + a 6-character checksum.

The checksum (CRC32 of the random part, in base62) lets a secret scanner or a person tell a real
Station key from a typo or a look-alike without asking the database, as GitHub's tokens do.
Only a SHA-256 of the key is ever stored: the key has 178 bits of entropy, so a plain fast hash
is enough (no password stretching needed) and lets the key be found by an index lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib

from station.domain.codes import BASE62, base62

PREFIX = "2pk_"
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
KEY_RE = re.compile(rf"^{PREFIX}[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}$")


def _checksum(random_part: str) -> str:
    return base62(zlib.crc32(random_part.encode("ascii")), CHECKSUM_LENGTH)


def new_key() -> str:
    random_part = "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    return PREFIX + random_part + _checksum(random_part)


def well_formed(key: str) -> bool:
    """True when `key` looks like a Station key and its checksum matches."""
    if not KEY_RE.match(key):
        return False
    body = key[len(PREFIX):]
    return secrets.compare_digest(_checksum(body[:RANDOM_LENGTH]), body[RANDOM_LENGTH:])


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def display_prefix(key: str) -> str:
    """What lists show so a person can tell keys apart: `2pk_AbCd…`."""
    return key[: len(PREFIX) + 4]
