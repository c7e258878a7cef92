"""Checks on what users and integrations send, with messages a person can act on."""

from __future__ import annotations

import re
from typing import Any

from station.domain.errors import InvalidInput

MAX_NAME = 200
MAX_FIELDS = 50
MAX_FIELD_KEY = 64
MAX_FIELD_VALUE = 1000
MAX_USES_LIMIT = 1_000_000
EMAIL_RE = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[^@\s<>.]{1,63}$")


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _has_control(text: str) -> bool:
    # A regex, not a loop over characters: an import checks every cell of every row.
    return _CONTROL.search(text) is not None


def text(value: Any, what: str, *, max_len: int = MAX_NAME, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{what} is required.")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.")
    cleaned = value.strip()
    if len(cleaned) > max_len:
        raise InvalidInput(f"{what} is {len(cleaned)} characters long; at most {max_len} are allowed.")
    if _has_control(cleaned):
        raise InvalidInput(f"{what} contains control characters; remove them.")
    return cleaned


def email(value: Any) -> str | None:
    cleaned = text(value, "Email", max_len=254, required=False)
    if cleaned is not None and not EMAIL_RE.match(cleaned):
        raise InvalidInput(f"{cleaned!r} is not an email address.")
    return cleaned


def phone(value: Any) -> str | None:
    cleaned = text(value, "Phone", max_len=40, required=False)
    if cleaned is not None and not re.fullmatch(r"[0-9+()./ -]{3,40}", cleaned):
        raise InvalidInput(f"{cleaned!r} is not a phone number (digits, spaces, + ( ) - . / only).")
    return cleaned


def max_uses(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"Max uses must be a whole number, not {str(value)[:20]!r}.") from None
    if isinstance(value, float) and value != number or isinstance(value, bool):
        raise InvalidInput("Max uses must be a whole number.")
    if not 1 <= number <= MAX_USES_LIMIT:
        raise InvalidInput(f"Max uses must be between 1 and {MAX_USES_LIMIT}.")
    return number


def fields(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("Custom fields must be a set of key/value pairs.")
    if len(value) > MAX_FIELDS:
        raise InvalidInput(f"At most {MAX_FIELDS} custom fields are allowed.")
    cleaned: dict[str, str] = {}
    for key, val in value.items():
        k = text(key, "A custom field name", max_len=MAX_FIELD_KEY)
        if isinstance(val, bool) or not isinstance(val, (str, int, float)):
            raise InvalidInput(f"Custom field {k!r} must be text or a number.")
        v = text(str(val), f"Custom field {k!r}", max_len=MAX_FIELD_VALUE, required=False) or ""
        assert k is not None
        cleaned[k] = v
    return cleaned
