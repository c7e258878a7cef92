"""Pass codes and opaque ids, drawn from `secrets` so they cannot be guessed."""

from __future__ import annotations

import re
import secrets
import string

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
CODE_LENGTH = 12
CODE_RE = re.compile(r"^[0-9A-Za-z]{12}$")


def new_code() -> str:
    # 62^12 ≈ 3.2e21: guessing a live code by brute force is hopeless.
    return "".join(secrets.choice(BASE62) for _ in range(CODE_LENGTH))


def is_code(text: str) -> bool:
    return bool(CODE_RE.match(text))


def new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(BASE62) for _ in range(20))}"
