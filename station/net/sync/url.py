"""Sync URLs, kept without the password outside keyring.

The hub's join URL is `tls://user:password@host:port#sha256=<fingerprint>`: TLS, and the
SHA-256 of the hub's own certificate after the `#` (a URL fragment: never sent anywhere, and
copy-paste safe in a shell: base64url has no character a shell or a chat program alters). A
venue's own NATS with a certificate from its own CA is `tls://user:password@host:port` plus a
CA file (kept beside the URL, not in it). `nats://` is plaintext: still parsed, so an old saved
URL can be recognised and reported, but never connected to.

Room for later: an enrolment secret takes the password's place in the user-info part; the
fragment keeps only the fingerprint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote, urlsplit

from station.domain.errors import InvalidInput

DEFAULT_PORT = 4222
PIN = "sha256="
_FINGERPRINT = re.compile(r"[A-Za-z0-9_-]{43}")
USAGE = "use the hub's join URL, tls://user:pass@host:4222#sha256=…"


@dataclass(frozen=True, slots=True)
class SyncTarget:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    scheme: str = "tls"
    fingerprint: str | None = None  # the hub certificate's SHA-256 (base64url), when pinned
    ca_file: str | None = None  # a venue CA's certificate file, when not pinned

    @classmethod
    def parse(cls, text: str) -> SyncTarget:
        raw = (text or "").strip()
        if len(raw) > 500:
            raise InvalidInput("That sync URL is too long.")
        if "://" not in raw:
            raw = "tls://" + raw
        try:
            parts = urlsplit(raw)
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise InvalidInput(f"{text[:60]!r} is not a sync URL; {USAGE}.") from None
        if parts.scheme not in ("nats", "tls") or not parts.hostname:
            raise InvalidInput(f"{text[:60]!r} is not a sync URL; {USAGE}.")
        pin = None
        if parts.fragment:
            pin = parts.fragment[len(PIN):] if parts.fragment.startswith(PIN) else ""
            if not _FINGERPRINT.fullmatch(pin) or parts.scheme != "tls":
                raise InvalidInput("The part of the sync URL after '#' is not a hub fingerprint "
                                   "(sha256= and 43 characters): copy the whole join URL again.")
        return cls(
            host=parts.hostname, port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            scheme=parts.scheme, fingerprint=pin,
        )

    @property
    def hub(self) -> str:
        """host:port, the hub's name in the status bar and in the progress table."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def plaintext(self) -> bool:
        return self.scheme != "tls"

    def _pin(self) -> str:
        return f"#{PIN}{self.fingerprint}" if self.fingerprint else ""

    def public_url(self) -> str:
        """The URL without the password (safe to show and to keep in settings)."""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        return f"{self.scheme}://{user}{self.hub}{self._pin()}"

    def server_url(self) -> str:
        """What the NATS client connects to (credentials and TLS settings are passed apart)."""
        return f"{self.scheme}://{self.hub}"

    def full_url(self) -> str:
        """With the password: the join URL `station hub` prints for other stations' --sync."""
        if not self.user:
            return self.public_url()
        secret = f":{quote(self.password, safe='')}" if self.password else ""
        return f"{self.scheme}://{quote(self.user, safe='')}{secret}@{self.hub}{self._pin()}"

    def with_password(self, password: str | None) -> SyncTarget:
        return replace(self, password=password)

    def with_ca_file(self, ca_file: str | None) -> SyncTarget:
        return replace(self, ca_file=ca_file or None)

    def at(self, host: str, port: int) -> SyncTarget:
        """The same hub (same certificate pin, credentials, CA) found at another address."""
        return replace(self, host=host, port=port)
