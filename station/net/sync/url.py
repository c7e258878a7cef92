"""Sync URLs: `nats://user:password@host:port`, kept without the password outside keyring."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from station.domain.errors import InvalidInput

DEFAULT_PORT = 4222


@dataclass(frozen=True, slots=True)
class SyncTarget:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    scheme: str = "nats"

    @classmethod
    def parse(cls, text: str) -> SyncTarget:
        raw = (text or "").strip()
        if len(raw) > 500:
            raise InvalidInput("That sync URL is too long.")
        if "://" not in raw:
            raw = "nats://" + raw
        try:
            parts = urlsplit(raw)
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise InvalidInput(f"{text[:60]!r} is not a sync URL; use nats://user:pass@host:4222.") from None
        if parts.scheme not in ("nats", "tls") or not parts.hostname:
            raise InvalidInput(f"{text[:60]!r} is not a sync URL; use nats://user:pass@host:4222.")
        return cls(
            host=parts.hostname, port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            scheme=parts.scheme,
        )

    @property
    def hub(self) -> str:
        """host:port, the hub's name in the status bar and in the progress table."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def public_url(self) -> str:
        """The URL without the password (safe to show and to keep in settings)."""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        return f"{self.scheme}://{user}{self.hub}"

    def server_url(self) -> str:
        """What the NATS client connects to (credentials are passed apart)."""
        return f"{self.scheme}://{self.hub}"

    def full_url(self) -> str:
        """With the password: what `station hub` prints for other stations' --sync."""
        if not self.user:
            return self.public_url()
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"{self.scheme}://{quote(self.user, safe='')}{secret}@{self.hub}"

    def with_password(self, password: str | None) -> SyncTarget:
        return SyncTarget(self.host, self.port, self.user, password, self.scheme)
