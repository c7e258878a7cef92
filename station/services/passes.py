"""PassService: create, find, list, revoke, activate, and the expiry sweep."""

from __future__ import annotations

import builtins
import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from station.domain import token_v2
from station.domain.codes import is_code, new_code
from station.domain.errors import Conflict, InvalidInput, NotFound
from station.domain.events import Event, EventType, expiry_event_id
from station.domain.models import Client, Pass, PassStatus, PassType
from station.domain.payload import compact_url
from station.domain.times import normalize_iso, parse_iso, to_iso
from station.services import validation
from station.services.context import Context
from station.services.pass_signer import PassSigner
from station.store.db import Page, Priority, Store, Tx

log = logging.getLogger(__name__)

MAX_REASON = 500


MAX_ATTENTION = 200


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
    attention: str | None = None  # a note for the door ("Check ID — under 18")


@dataclass(frozen=True, slots=True)
class Draft:
    """A pass about to be created: its id, code and the token claims to sign (see drafts())."""

    new: NewPass
    pass_id: str
    code: str
    claims: bytes


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
        attention: Any = None,
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
        return NewPass(clean_name, kind, uses, start, end, client, validation.fields(fields),
                       attention=validation.text(attention, "Attention", max_len=MAX_ATTENTION,
                                                 required=False))

    # --- commands ---------------------------------------------------------------------------
    def create(self, new: NewPass, *, by: str = "manager") -> Pass:
        return self._ctx.write(lambda tx: self.create_in(tx, new, by=by))

    def create_many(self, items: Iterable[NewPass], *, by: str = "import") -> list[Pass]:
        """Create several passes in one transaction (imports)."""
        wanted = list(items)
        return self._ctx.write(lambda tx: self.create_many_in(tx, wanted, by=by))

    def create_in(self, tx: Tx, new: NewPass, *, by: str) -> Pass:
        return self.create_many_in(tx, [new], by=by)[0]

    def create_many_in(self, tx: Tx, items: Sequence[NewPass], *, by: str) -> list[Pass]:
        drafts = self.drafts(items)
        return self.write_drafts_in(tx, drafts, self.sign(drafts), by=by)

    def drafts(self, items: Sequence[NewPass]) -> list[Draft]:
        """Ids, codes and the claims to sign for new passes: no transaction needed, so an import
        can have them signed elsewhere while it writes the previous batch."""
        key = self._ctx.keys.private.public_key()
        made: list[Draft] = []
        for new in items:
            # Format 2: the id follows from the code, so a door admitting the pass before it
            # synced records the scan under this id (the token has no room for one).
            code = new_code()
            claims = token_v2.message(key, code, new.type, new.max_uses, new.valid_from,
                                      new.valid_until)
            made.append(Draft(new, token_v2.pass_id_for(code), code, claims))
        return made

    def batch_signer(self) -> PassSigner:
        """Signs the drafts of a long import in a worker process (see pass_signer)."""
        return PassSigner(self._ctx.keys.private)

    def sign(self, drafts: Sequence[Draft]) -> list[bytes]:
        key = self._ctx.keys.private
        return [key.sign(d.claims) for d in drafts]

    def write_drafts_in(self, tx: Tx, drafts: Sequence[Draft], signatures: Sequence[bytes], *,
                        by: str, clients: Sequence[Client | None] = ()) -> list[Pass]:
        """Write signed drafts as passes and their `pass.created` events, in a few statements
        (an import writes thousands per transaction). `clients`, when given, are the drafts'
        clients found by the caller (an import's, by e-mail), in place of NewPass.client_id."""
        found = list(clients) or [None] * len(drafts)
        wanted = [d.new.client_id for d, c in zip(drafts, found, strict=True)
                  if c is None and d.new.client_id is not None]
        named = tx.clients_by_ids(wanted) if wanted else {}
        for i, d in enumerate(drafts):
            if found[i] is None and d.new.client_id is not None:
                found[i] = named.get(d.new.client_id)
                if found[i] is None:
                    raise NotFound(f"No client has id {d.new.client_id!r}; create the client first.")
        drafts, signatures = self._with_free_codes(tx, drafts, signatures)
        now = to_iso(self._ctx.now())
        created: list[Pass] = []
        rows: list[tuple[Pass, str | None]] = []
        events: list[Event] = []
        for d, signature, client in zip(drafts, signatures, found, strict=True):
            new = d.new
            p = Pass(
                id=d.pass_id, code=d.code, name=new.name, type=new.type, status=PassStatus.ACTIVE,
                uses=0, max_uses=new.max_uses, valid_from=new.valid_from,
                valid_until=new.valid_until, client_id=client.id if client else None,
                fields=new.fields,
                public_url=compact_url(self._ctx.base_url, token_v2.token(d.claims, signature)),
                created_at=now, updated_at=now, attention=new.attention,
            )
            data = p.to_api()
            data.pop("provisional")
            data.pop("conflicts")
            data["createdBy"] = by
            events.append(self._ctx.event(tx, EventType.PASS_CREATED, data, pass_id=d.pass_id,
                                          timestamp=now))
            rows.append((p, client.email if client else new.email))
            created.append(p)
        tx.append_new_events(events)
        tx.upsert_passes(rows)
        return created

    def _with_free_codes(self, tx: Tx, drafts: Sequence[Draft], signatures: Sequence[bytes]
                         ) -> tuple[Sequence[Draft], Sequence[bytes]]:
        """Redraw (and sign again) a draft whose code a pass already has, or another draft of
        the batch: 62^12 codes make it all but impossible, but a code must be unique."""
        codes = [d.code for d in drafts]
        taken = tx.taken_codes(codes)
        if not taken and len(set(codes)) == len(codes):
            return drafts, signatures
        seen = set(taken)
        fixed: list[Draft] = []
        for d in drafts:
            while d.code in seen:
                d = self.drafts([d.new])[0]
                seen |= tx.taken_codes([d.code])
            seen.add(d.code)
            fixed.append(d)
        return fixed, [old if f is d else self.sign([f])[0]
                       for f, d, old in zip(fixed, drafts, signatures, strict=True)]

    def revoke(self, ref: str, *, reason: str | None = None, by: str = "manager") -> Pass:
        clean_reason = validation.text(reason, "Reason", max_len=MAX_REASON, required=False)
        return self._command(ref, "revoke", PassStatus.REVOKED, by=by, reason=clean_reason)

    def activate(self, ref: str, *, by: str = "manager") -> Pass:
        return self._command(ref, "activate", PassStatus.ACTIVE, by=by, reason=None)

    def set_attention(self, ref: str, note: Any, *, by: str = "manager") -> Pass:
        """Set (or with None clear) the pass's note for the door, as a `pass.attention_set`
        event that reaches every door; the same note again records nothing (a replay)."""
        clean = validation.text(note, "Attention", max_len=MAX_ATTENTION, required=False)

        def _in_tx(tx: Tx) -> Pass:
            current = self._find(tx, ref)
            if current.attention == clean:
                return current
            _, after = self._ctx.record_pass_change(
                tx, EventType.PASS_ATTENTION_SET, {"id": current.id, "attention": clean, "by": by},
                pass_id=current.id)
            assert after is not None
            return after

        return self._ctx.write(_in_tx)

    def _command(self, ref: str, trigger: str, to: PassStatus, *, by: str, reason: str | None) -> Pass:
        def _in_tx(tx: Tx) -> Pass:
            current = self._find(tx, ref)
            if current.status is to:
                # Already there (a replayed Zapier action, a second click): the pass as it
                # stands, with no new event and so no webhook.
                return current
            if trigger == "activate" and current.status is not PassStatus.REVOKED:
                raise Conflict(
                    f"Pass {current.code} is {current.status}; only a revoked pass can be activated."
                )
            return self.change_status(tx, current, trigger, to, by=by, reason=reason)

        return self._ctx.write(_in_tx)

    def change_status(self, tx: Tx, current: Pass, trigger: str, to: PassStatus, *, by: str,
                      reason: str | None, event_id: str | None = None) -> Pass:
        """Record a status command, refold, and return the pass as it now stands."""
        data = {**current.to_api(), "from": str(current.status), "to": str(to), "by": by,
                "reason": reason, "trigger": trigger}
        # The data's pass fields are the pass after the change (record_pass_change fills them).
        _, after = self._ctx.record_pass_change(tx, EventType.PASS_STATUS_CHANGED, data,
                                                pass_id=current.id, event_id=event_id)
        assert after is not None
        return after

    def expire_due(self, limit: int = 500) -> list[Pass]:
        """Mark active passes past validUntil as expired (the periodic sweep)."""
        now = self._ctx.now()
        expired: list[Pass] = []
        events: list[Event] = []
        def expire(tx: Tx, pass_id: str) -> tuple[Pass | None, list[Event]]:
            current = tx.pass_by_id(pass_id)
            if current is None or current.status is not PassStatus.ACTIVE:
                return None, tx.appended
            return self.expire_in(tx, current), tx.appended

        for candidate in self._ctx.store.passes_due_to_expire(to_iso(now), limit):
            # One short job per pass: a door's scan never waits behind the whole sweep.
            done, appended = self._ctx.store.write(
                functools.partial(expire, pass_id=candidate.id), Priority.HOUSEKEEPING)
            if done is not None:
                expired.append(done)
                events += appended
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

    def history(self, ref: str) -> builtins.list[Event]:  # `list` here is the method above
        return self._ctx.store.events_for_pass(self.get(ref).id)
