"""ClientService: the people passes belong to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from station.domain.codes import new_id
from station.domain.errors import InvalidInput, NotFound
from station.domain.events import EventType
from station.domain.models import Client
from station.domain.times import to_iso
from station.services import validation
from station.services.context import Context
from station.store.db import Page, Tx, nocase


class ClientService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, name: Any, email: Any = None, phone: Any = None) -> Client:
        return self._ctx.write(lambda tx: self.create_in(tx, name, email, phone))

    def create_in(self, tx: Tx, name: Any, email: Any = None, phone: Any = None) -> Client:
        clean_name = validation.text(name, "Client name")
        assert clean_name is not None
        return self.create_many_in(
            tx, [(clean_name, validation.email(email), validation.phone(phone))])[0]

    def create_many_in(self, tx: Tx, people: Sequence[tuple[str, str | None, str | None]]
                       ) -> list[Client]:
        """Clients from checked (name, email, phone), in one statement and one event each."""
        now = to_iso(self._ctx.now())
        made = [Client(id=new_id("cli"), name=name, email=email, phone=phone, created_at=now)
                for name, email, phone in people]
        tx.insert_clients(made)
        tx.append_new_events([self._ctx.event(tx, EventType.CLIENT_CREATED, c.to_api(), timestamp=now)
                              for c in made])
        return made

    def find_or_create_many_in(self, tx: Tx, people: Sequence[tuple[str, str]]) -> list[Client]:
        """The client of each (name, email): the oldest with that address whatever its case,
        or a new one named after the first person who gave it."""
        found = tx.clients_by_emails([email for _, email in people])
        missing: dict[str, tuple[str, str, None]] = {}
        for name, email in people:
            key = nocase(email)
            if key not in found:
                missing.setdefault(key, (name, email, None))
        for key, client in zip(missing, self.create_many_in(tx, list(missing.values())), strict=True):
            found[key] = client
        return [found[nocase(email)] for _, email in people]

    def get(self, client_id: str) -> Client:
        if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 64:
            raise InvalidInput("Give a client id.")
        client = self._ctx.store.client_by_id(client_id.strip())
        if client is None:
            raise NotFound(f"No client has id {client_id!r}.")
        return client

    def list(self, *, limit: int = 50, cursor: str | None = None) -> Page:
        if not 1 <= limit <= 1000:
            raise InvalidInput("Limit must be between 1 and 1000.")
        return self._ctx.store.list_clients(limit=limit, cursor=cursor)
