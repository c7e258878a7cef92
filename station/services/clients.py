"""ClientService: the people passes belong to."""

from __future__ import annotations

from typing import Any

from station.domain.codes import new_id
from station.domain.errors import InvalidInput, NotFound
from station.domain.events import EventType
from station.domain.models import Client
from station.domain.times import to_iso
from station.services import validation
from station.services.context import Context
from station.store.db import Page, Tx


class ClientService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def create(self, name: Any, email: Any = None, phone: Any = None) -> Client:
        with self._ctx.store.transaction() as tx:
            client = self.create_in(tx, name, email, phone)
        self._ctx.publish(tx.appended)
        return client

    def create_in(self, tx: Tx, name: Any, email: Any = None, phone: Any = None) -> Client:
        clean_name = validation.text(name, "Client name")
        assert clean_name is not None
        client = Client(
            id=new_id("cli"),
            name=clean_name,
            email=validation.email(email),
            phone=validation.phone(phone),
            created_at=to_iso(self._ctx.now()),
        )
        tx.insert_client(client)
        self._ctx.record(tx, EventType.CLIENT_CREATED, client.to_api())
        return client

    def find_or_create_in(self, tx: Tx, name: str, email: str) -> Client:
        return tx.client_by_email(email) or self.create_in(tx, name, email)

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
