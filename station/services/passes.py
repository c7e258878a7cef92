"""PassService: create, find, list, revoke, activate, and the expiry sweep."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from station.domain import tokens
from station.domain.codes import is_code, new_code, new_id
from station.domain.errors import Conflict, InvalidInput, NotFound
from station.domain.events import Event, EventType, expiry_event_id
from station.domain.models import Pass, PassStatus, PassType
from station.domain.payload import public_url
from station.domain.times import normalize_iso, parse_iso, to_iso
from station.services import validation
from station.services.context import Context
from station.store.db import Page, Store, Tx

log = logging.getLogger(__name__)

MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class NewPass:
    """A pass to create, as validated input (see PassService.validate)."""

    name: str
    type: PassType
    max_uses: int | None
    valid_from: str | None
    valid_until: str | None
    client_id: str | None
    fields: dict[str, str]
    email: str | None = None


class PassService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    @property
    def store(self) -> Store:
        return self._ctx.store

    def publish(self, events: list[Event]) -> None:
        self._ctx.publish(events)

    # --- input ------------------------------------------------------------------------------
    @staticmethod
    def validate(
        name: Any,
        type: Any = "single",
        max_uses: Any = None,
        valid_from: Any = None,
        valid_until: Any = None,
        client_id: Any = None,
        fields: Any = None,
    ) -> NewPass:
        clean_name = validation.text(name, "Name")
        assert clean_name is not None
        try:
            kind = PassType(str(type).strip().lower() if type is not None else "single")
        except ValueError:
            raise InvalidInput(f"Pass type must be 'single' or 'multi', not {str(type)[:20]!r}.") from None
        uses = validation.max_uses(max_uses)
        if uses is not None and kind is PassType.SINGLE:
            raise InvalidInput("Max uses applies to multi-use passes only; use --type multi.")
        start = normalize_iso(valid_from) if valid_from not in (None, "") else None
        end = normalize_iso(valid_until) if valid_until not in (None, "") else None
        if start and end and parse_iso(start) >= parse_iso(end):
            raise InvalidInput("Valid from must be earlier than valid until.")
        client = validation.text(client_id, "Client id", max_len=64, required=False)
        return NewPass(clean_name, kind, uses, start, end, client, validation.fields(fields))

    # --- commands ---------------------------------------------------------------------------
    def create(self, new: NewPass, *, by: str = "manager") -> Pass:
        with self._ctx.store.transaction() as tx:
            created = self.create_in(tx, new, by=by)
        self._ctx.publish(tx.appended)
        return created

    def create_many(self, items: Iterable[NewPass], *, by: str = "import") -> list[Pass]:
        """Create several passes in one transaction (imports)."""
        with self._ctx.store.transaction() as tx:
            created = self.create_many_in(tx, list(items), by=by)
        self._ctx.publish(tx.appended)
        return created

    def create_in(self, tx: Tx, new: NewPass, *, by: str) -> Pass:
        return self.create_many_in(tx, [new], by=by)[0]

    def create_many_in(self, tx: Tx, items: Sequence[NewPass], *, by: str) -> list[Pass]:
        """Sign each pass and write the passes and their `pass.created` events in a few
        statements (an import writes thousands per transaction)."""
        named = tx.clients_by_ids([n.client_id for n in items if n.client_id is not None])
        for new in items:
            if new.client_id is not None and new.client_id not in named:
                raise NotFound(f"No client has id {new.client_id!r}; create the client first.")
        codes = self._free_codes(tx, len(items))
        key = self._ctx.keys.private
        kid = tokens.key_id(key.public_key())
        now = to_iso(self._ctx.now())
        created: list[Pass] = []
        rows: list[tuple[Pass, str | None]] = []
        events: list[Event] = []
        for new, code in zip(items, codes, strict=True):
            pass_id = new_id("pas")
            claims = tokens.Claims(pass_id=pass_id, code=code, type=new.type, max_uses=new.max_uses,
                                   valid_from=new.valid_from, valid_until=new.valid_until, kid=kid)
            p = Pass(
                id=pass_id, code=code, name=new.name, type=new.type, status=PassStatus.ACTIVE,
                uses=0, max_uses=new.max_uses, valid_from=new.valid_from,
                valid_until=new.valid_until, client_id=new.client_id, fields=new.fields,
                public_url=public_url(self._ctx.base_url, code, tokens.sign(key, claims)),
                created_at=now, updated_at=now,
            )
            data = p.to_api()
            data.pop("provisional")
            data.pop("conflicts")
            data["createdBy"] = by
            events.append(self._ctx.event(tx, EventType.PASS_CREATED, data, pass_id=pass_id,
                                          timestamp=now))
            email = named[new.client_id].email if new.client_id is not None else new.email
            rows.append((p, email))
            created.append(p)
        tx.append_new_events(events)
        tx.upsert_passes(rows)
        return created

    @staticmethod
    def _free_codes(tx: Tx, n: int) -> list[str]:
        """`n` distinct codes no pass has (62^12 codes: a clash is all but impossible)."""
        codes = list(dict.fromkeys(new_code() for _ in range(n)))
        while True:
            taken = tx.taken_codes(codes)
            codes = [c for c in codes if c not in taken]
            if len(codes) == n:
                return codes
            codes = list(dict.fromkeys([*codes, *(new_code() for _ in range(n - len(codes)))]))

    def revoke(self, ref: str, *, reason: str | None = None, by: str = "manager") -> Pass:
        clean_reason = validation.text(reason, "Reason", max_len=MAX_REASON, required=False)
        return self._command(ref, "revoke", PassStatus.REVOKED, by=by, reason=clean_reason)

    def activate(self, ref: str, *, by: str = "manager") -> Pass:
        return self._command(ref, "activate", PassStatus.ACTIVE, by=by, reason=None)

    def _command(self, ref: str, trigger: str, to: PassStatus, *, by: str, reason: str | None) -> Pass:
        with self._ctx.store.transaction() as tx:
            current = self._find(tx, ref)
            if trigger == "revoke" and current.status is PassStatus.REVOKED:
                raise Conflict(f"Pass {current.code} is already revoked.")
            if trigger == "activate" and current.status is not PassStatus.REVOKED:
                raise Conflict(
                    f"Pass {current.code} is {current.status}; only a revoked pass can be activated."
                )
            after = self.change_status(tx, current, trigger, to, by=by, reason=reason)
        self._ctx.publish(tx.appended)
        return after

    def change_status(self, tx: Tx, current: Pass, trigger: str, to: PassStatus, *, by: str,
                      reason: str | None, event_id: str | None = None) -> Pass:
        """Record a status command, refold, and return the pass as it now stands."""
        data = {**current.to_api(), "from": str(current.status), "to": str(to), "by": by,
                "reason": reason, "trigger": trigger}
        data["status"] = str(to)
        self._ctx.record(tx, EventType.PASS_STATUS_CHANGED, data, pass_id=current.id, event_id=event_id)
        after = self._ctx.refold(tx, current.id).pass_
        assert after is not None
        return after

    def expire_due(self, limit: int = 500) -> list[Pass]:
        """Mark active passes past validUntil as expired (the periodic sweep)."""
        now = self._ctx.now()
        expired: list[Pass] = []
        events: list[Event] = []
        for candidate in self._ctx.store.passes_due_to_expire(to_iso(now), limit):
            with self._ctx.store.transaction() as tx:
                current = tx.pass_by_id(candidate.id)
                if current is None or current.status is not PassStatus.ACTIVE:
                    continue
                expired.append(self.expire_in(tx, current))
            events += tx.appended
        self._ctx.publish(events)
        return expired

    def expire_in(self, tx: Tx, current: Pass) -> Pass:
        assert current.valid_until is not None
        return self.change_status(
            tx, current, "expire", PassStatus.EXPIRED, by="system", reason="validUntil passed",
            event_id=expiry_event_id(current.id, current.valid_until),
        )

    # --- queries ----------------------------------------------------------------------------
    def _find(self, tx: Tx, ref: str) -> Pass:
        ref = self._clean_ref(ref)
        found = tx.pass_by_code(ref) if is_code(ref) else None
        found = found or tx.pass_by_id(ref)
        if found is None:
            raise NotFound(f"No pass has code or id {ref!r}.")
        return found

    @staticmethod
    def _clean_ref(ref: Any) -> str:
        if not isinstance(ref, str) or not ref.strip() or len(ref) > 64:
            raise InvalidInput("Give a pass code (12 letters and digits) or a pass id.")
        return ref.strip()

    def get(self, ref: str) -> Pass:
        ref = self._clean_ref(ref)
        found = self._ctx.store.pass_by_code(ref) if is_code(ref) else None
        found = found or self._ctx.store.pass_by_id(ref)
        if found is None:
            raise NotFound(f"No pass has code or id {ref!r}.")
        return found

    def list(self, *, status: str | None = None, type_: str | None = None, search: str | None = None,
             limit: int = 50, cursor: str | None = None) -> Page:
        if status is not None and status not in set(PassStatus):
            raise InvalidInput(f"Status must be one of {', '.join(PassStatus)}.")
        if type_ is not None and type_ not in set(PassType):
            raise InvalidInput("Type must be 'single' or 'multi'.")
        if not 1 <= limit <= 1000:
            raise InvalidInput("Limit must be between 1 and 1000.")
        if search is not None:
            search = validation.text(search, "Search", max_len=200, required=False)
        return self._ctx.store.list_passes(status=status, type_=type_, search=search, limit=limit,
                                           cursor=cursor)

    def history(self, ref: str) -> list[Event]:
        return self._ctx.store.events_for_pass(self.get(ref).id)
