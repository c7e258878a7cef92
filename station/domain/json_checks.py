"""Checks on JSON values that become domain data (check-in lists, entry rules).

Each failure raises InvalidInput with one sentence naming the field and what to send instead.
The domain cannot use station/services/validation.py (it sits above the domain), so the few
checks lists and rules need live here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from station.domain.errors import InvalidInput
from station.domain.times import normalize_iso

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def obj(value: Any, what: str, allowed: Collection[str]) -> Mapping[str, Any]:
    """A JSON object whose keys are all among `allowed` (an unknown key is a typo to report,
    not something to drop silently)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a JSON object.")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise InvalidInput(f"{what} has an unknown key {unknown[0][:40]!r}; "
                           f"use only {', '.join(sorted(allowed))}.")
    return value


def text(value: Any, what: str, *, max_len: int = 200) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.")
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput(f"{what} must not be empty.")
    if len(cleaned) > max_len:
        raise InvalidInput(f"{what} is {len(cleaned)} characters long; at most {max_len} are allowed.")
    if _CONTROL.search(cleaned):
        raise InvalidInput(f"{what} contains control characters; remove them.")
    return cleaned


def optional_text(value: Any, what: str, *, max_len: int = 200) -> str | None:
    return None if value is None else text(value, what, max_len=max_len)


def flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{what} must be true or false.")
    return value


def whole(value: Any, what: str, *, low: int, high: int) -> int:
    # bool is an int in Python; `true` is not a number a person meant.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}.")
    if not low <= value <= high:
        raise InvalidInput(f"{what} is {value}; use a whole number from {low} to {high}.")
    return value


def array(value: Any, what: str, *, max_items: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(f"{what} must be a JSON array.")
    if len(value) > max_items:
        raise InvalidInput(f"{what} has {len(value)} items; at most {max_items} are allowed.")
    return value


def instant(value: Any, what: str) -> str | None:
    """An ISO 8601 time, normalised to the log's UTC form; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a time like 2026-06-01T18:00:00Z.")
    try:
        return normalize_iso(value)
    except InvalidInput:
        raise InvalidInput(f"{what} {value[:40]!r} is not a time; use ISO 8601 like "
                           "2026-06-01T18:00:00Z.") from None
