"""Webhook signing secrets: kept in the SecretStore (keyring), cached in memory for the sender."""

from __future__ import annotations

import threading

from station.store.secrets import SecretStore


class WebhookSecrets:
    def __init__(self, secrets: SecretStore) -> None:
        self._secrets = secrets
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _name(webhook_id: str) -> str:
        return f"webhook-secret-{webhook_id}"

    def cached(self, webhook_id: str) -> str | None:
        """Without touching the keyring (which may be slow: D-Bus), for the event loop."""
        with self._lock:
            return self._cache.get(webhook_id)

    def get(self, webhook_id: str) -> str | None:
        cached = self.cached(webhook_id)
        if cached is not None:
            return cached
        value = self._secrets.get(self._name(webhook_id))
        if value is not None:
            with self._lock:
                self._cache[webhook_id] = value
        return value

    def set(self, webhook_id: str, secret: str) -> None:
        self._secrets.set(self._name(webhook_id), secret)
        with self._lock:
            self._cache[webhook_id] = secret

    def delete(self, webhook_id: str) -> None:
        with self._lock:
            self._cache.pop(webhook_id, None)
        self._secrets.delete(self._name(webhook_id))
