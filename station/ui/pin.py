"""The manager PIN: stored hashed (scrypt, random salt) in the store's settings, never in clear.

Hashing costs tens of milliseconds on purpose; callers run these functions off the GUI thread.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any, Protocol

from station.domain.errors import InvalidInput

SETTING = "ui.manager_pin"
# scrypt at n=2**14, r=8: 16 MiB and ~50 ms per try, so a stolen database does not give away a
# 4-8 digit PIN in a blink (it still can be brute-forced offline: the PIN guards the door
# screen, not the data; the data directory's permissions do that).
N, R, P = 2**14, 8, 1


class SettingsStore(Protocol):  # the part of station.store.db.Store this module needs
    def setting(self, key: str, default: Any = None) -> Any: ...

    def set_setting(self, key: str, value: Any) -> None: ...


def check_pin_format(pin: str) -> str:
    pin = pin.strip()
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise InvalidInput("A PIN is 4 to 12 digits.")
    return pin


def _hash(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def has_pin(store: SettingsStore) -> bool:
    return bool(store.setting(SETTING))


def set_pin(store: SettingsStore, pin: str) -> None:
    pin = check_pin_format(pin)
    salt = secrets.token_bytes(16)
    store.set_setting(SETTING, {"alg": "scrypt", "n": N, "r": R, "p": P, "salt": salt.hex(),
                                "hash": _hash(pin, salt, N, R, P).hex()})


def verify_pin(store: SettingsStore, pin: str) -> bool:
    record = store.setting(SETTING)
    if not record:
        return False
    try:
        expected = bytes.fromhex(record["hash"])
        got = _hash(pin.strip(), bytes.fromhex(record["salt"]), int(record["n"]), int(record["r"]),
                    int(record["p"]))
    except (KeyError, ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, got)
