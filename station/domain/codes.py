"""Pass codes and opaque ids, drawn from `secrets` so they cannot be guessed."""

from __future__ import annotations

import re
import secrets
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CODE_LENGTH = 12
CODE_RE = re.compile(r"^[0-9A-Za-z]{12}$")


_ABOVE_248 = bytes(range(248, 256))
_TO_BASE62 = bytes(ord(BASE62[b % 62]) for b in range(256))


def random_base62(length: int) -> str:
    """Uniform base62 from the OS CSPRNG. Bytes ≥ 248 are dropped: 248 = 4 × 62 keeps it uniform.
    (bytes.translate does the dropping and mapping in C: imports draw three per row.)"""
    out = b""
    while len(out) < length:
        out += secrets.token_bytes(length + 8).translate(None, _ABOVE_248)
    return out[:length].translate(_TO_BASE62).decode()


def new_code() -> str:
    # 62^12 ≈ 3.2e21: guessing a live code by brute force is hopeless.
    return random_base62(CODE_LENGTH)


def is_code(text: str) -> bool:
    return bool(CODE_RE.match(text))


def new_id(prefix: str) -> str:
    return f"{prefix}_{random_base62(20)}"
