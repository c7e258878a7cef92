"""Pass codes and opaque ids, drawn from `secrets` so they cannot be guessed.

New pass codes use `CODE_ALPHABET`: base62 without the characters people confuse when they read
a code off paper and type it (0/O/o, 1/I/l). Every code is still 12 base62 characters, so codes
made before the change (which may hold any of them) keep scanning, looking up and revoking.

Typed look-alikes are not "corrected" on lookup: the new alphabet has no member of either
look-alike group to map a typed one to, and an old code may hold any of them, so a guess could
only ever point at a different pass.
"""

from __future__ import annotations

import re
import secrets
import string
import time

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
LOOK_ALIKES = "0Oo1Il"
CODE_ALPHABET = "".join(ch for ch in BASE62 if ch not in LOOK_ALIKES)  # 56 characters
CODE_LENGTH = 12
# Validation stays base62: it accepts old codes as well as new ones.
CODE_RE = re.compile(r"^[0-9A-Za-z]{12}$")


class _Drawer:
    """Uniform characters of one alphabet from the OS CSPRNG. Bytes at or above the largest
    multiple of the alphabet's size are dropped to keep it uniform; bytes.translate does the
    dropping and mapping in C (imports draw three strings per row)."""

    def __init__(self, alphabet: str) -> None:
        size = len(alphabet)
        limit = 256 // size * size
        self._drop = bytes(range(limit, 256))
        self._map = bytes(ord(alphabet[b % size]) for b in range(256))

    def __call__(self, length: int) -> str:
        out = b""
        while len(out) < length:
            out += secrets.token_bytes(length + 8).translate(None, self._drop)
        return out[:length].translate(self._map).decode()


random_base62 = _Drawer(BASE62)
_random_code = _Drawer(CODE_ALPHABET)


def new_code() -> str:
    # 56^12 ≈ 9.6e20: guessing a live code by brute force is hopeless.
    return _random_code(CODE_LENGTH)


def is_code(text: str) -> bool:
    return bool(CODE_RE.match(text))


# Ids sort by the millisecond they were made in, then at random: a table's unique index on its
# id takes new rows near its end instead of on a random page each, so a transaction writes far
# fewer pages (a history download's commits wrote 42 % fewer WAL pages for the events table
# alone: docs/measured-facts.md). They stay unguessable: 71 random bits in `new_id`'s
# 12 characters, 80 in an event id's 20 hex digits.
_TIME_CHARS = 8  # base62 milliseconds since 1970: 62^8 ms last until the year 8888
_RANDOM_CHARS = 12


def base62(number: int, width: int) -> str:
    """`number`'s last `width` base62 digits, most significant first (BASE62 is in ASCII
    order, so texts of one width sort as their numbers)."""
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def time_base62(ms: int) -> str:
    return base62(ms, _TIME_CHARS)


def new_id(prefix: str) -> str:
    return f"{prefix}_{time_base62(time.time_ns() // 1_000_000)}{random_base62(_RANDOM_CHARS)}"
