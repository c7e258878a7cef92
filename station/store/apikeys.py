"""API keys table: records only the hash of each key (see station.domain.apikeys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.store.db import Priority, Store, Tx


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    rate_limit: int  # requests per minute
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "prefix": self.prefix, "rateLimit": self.rate_limit,
                "createdAt": self.created_at, "revokedAt": self.revoked_at}


def _from_row(row: Any) -> ApiKey:
    return ApiKey(id=row["id"], name=row["name"], prefix=row["prefix"], rate_limit=row["rate_limit"],
                  created_at=row["created_at"], revoked_at=row["revoked_at"])


class ApiKeyStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def insert(self, key: ApiKey, hash_: str) -> None:
        def _in_tx(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO api_keys (id, name, prefix, hash, rate_limit, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key.id, key.name, key.prefix, hash_, key.rate_limit, key.created_at),
            )

        self._store.write(_in_tx, Priority.USER)

    def by_hash(self, hash_: str) -> ApiKey | None:
        row = self._store.db().execute("SELECT * FROM api_keys WHERE hash = ?", (hash_,)).fetchone()
        return _from_row(row) if row else None

    def by_id(self, key_id: str) -> ApiKey | None:
        row = self._store.db().execute("SELECT * FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _from_row(row) if row else None

    def list(self) -> list[ApiKey]:
        rows = self._store.db().execute("SELECT * FROM api_keys ORDER BY created_at DESC, id DESC")
        return [_from_row(r) for r in rows.fetchall()]

    def revoke(self, key_id: str, when: str) -> bool:
        """True when an active key was revoked now."""
        def _in_tx(tx: Tx) -> bool:
            cur = tx.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (when, key_id)
            )
            return cur.rowcount > 0

        return self._store.write(_in_tx, Priority.USER)
