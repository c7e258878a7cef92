"""Secrets through keyring; a user-only file in the data directory where no keyring exists.

Headless machines have no keyring backend (keyring raises NoKeyringError). Rather than ship
`keyrings.alt` (base64 "encryption"), we fall back to files with mode 0600 inside the data
directory and say so once in the log.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keyring
import keyring.errors

log = logging.getLogger(__name__)

SERVICE = "station"


class SecretStore:
    def __init__(self, data_dir: Path, namespace: str) -> None:
        # The namespace (the station's organisation or data directory) keeps two stations
        # on one machine from reading each other's secrets.
        self._dir = Path(data_dir) / "secrets"
        self._namespace = namespace
        self._warned = False

    def _user(self, name: str) -> str:
        return f"{self._namespace}:{name}"

    def _file(self, name: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        return self._dir / safe

    def _fallback(self, exc: Exception) -> None:
        # Warn when the data directory first starts holding secrets in files; later runs only
        # note it at INFO, so every command on a headless machine does not repeat it.
        if not self._warned:
            level = logging.INFO if self._dir.exists() else logging.WARNING
            log.log(level, "No system keyring is available (%s); secrets are kept in %s, readable "
                    "only by this user.", exc.__class__.__name__, self._dir)
            self._warned = True

    @property
    def backend_name(self) -> str:
        return type(keyring.get_keyring()).__module__

    def get(self, name: str) -> str | None:
        try:
            value = keyring.get_password(SERVICE, self._user(name))
            if value is not None:
                return value
        except keyring.errors.KeyringError as exc:
            self._fallback(exc)
        path = self._file(name)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def set(self, name: str, value: str) -> None:
        try:
            keyring.set_password(SERVICE, self._user(name), value)
            return
        except keyring.errors.KeyringError as exc:
            self._fallback(exc)
        self._dir.mkdir(mode=0o700, exist_ok=True)
        path = self._file(name)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(value)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def delete(self, name: str) -> None:
        try:
            keyring.delete_password(SERVICE, self._user(name))
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            self._fallback(exc)
        self._file(name).unlink(missing_ok=True)
