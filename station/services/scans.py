"""ScanService: payload in, verdict out, everything recorded in one transaction first."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from station.domain import payload as payloads
from station.domain import token_v2, tokens
from station.domain.codes import new_id
from station.domain.errors import Conflict, InvalidInput, NotFound, StorageError
from station.domain.events import Event, EventType
from station.domain.explain import explain, explain_needs_log
from station.domain.door import NO_LIST, Door, DoorDecision, scan_extras
from station.domain.models import (
    Direction,
    Pass,
    PassStatus,
    PassType,
    Reason,
    Scan,
    Source,
    Verdict,
)
from station.domain.rules import Decision, decide
from station.domain.times import parse_iso, to_iso
from station.services.bus import Observers
from station.services.claims import Claim, Claimer, ClaimState, Releaser, Unclaimer
from station.services.context import Context
from station.services.door_probes import decide_with_probes
from station.services.key_trust import SignedByRemoved, removed_signer
from station.services.passes import PassService
from station.store.db import Priority, Tx
from station.store.releases import record_release

log = logging.getLogger(__name__)

UNDO_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class ScanResult:
    verdict: Verdict
    reason: str | None
    message: str  # what the door shows, e.g. "Already used at Door 2 at 19:03"
    scan: Scan
    pass_: Pass | None
    warning: str | None = None  # e.g. last use of a multi-pass, admitted offline on signature
    attention: str | None = None  # the pass's note for the door, on an accepted entry

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPTED

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "reason": self.reason,
            "message": self.message,
            "warning": self.warning,
            "pass": self.pass_.to_api() if self.pass_ else None,
            "scan": self.scan.to_api(),
            **({"attention": self.attention} if self.attention is not None else {}),
        }


class ScanService:
    def __init__(self, ctx: Context, passes: PassService) -> None:
        self._ctx = ctx
        self._passes = passes
        # Set by the composition root when the station syncs: strict single use while online.
        self.claimer: Claimer | None = None
        # Set with the claimer: an undone single-use admission gives its hub claim back (the
        # undo's transaction records the release as pending; the releaser is told after commit).
        self.releaser: Releaser | None = None
        # Set with the claimer: a fresh claim for a scan that could not be recorded goes back.
        self.unclaimer: Unclaimer | None = None
        # Every scan this station decided (any source: window, API, CLI in this process), after
        # its commit. The door's window shows them all; unlike the bus, refusals of codes that
        # name no pass are here too (they record a scan row but no event). Scans applied from
        # other stations through sync never pass through submit, so they are not here.
        self.decided: Observers[ScanResult] = Observers()

    def submit(self, payload: str | bytes, source: str = Source.MANUAL,
               operator: str | None = None, *, door: Door = NO_LIST,
               override_by: str | None = None) -> ScanResult:
        """Decide and record one scan. Raises InvalidInput for what can never be a pass.
        `door`: its check-in list and direction (none and entry: exactly today's decision);
        `override_by`: the manager who allowed an entry over the list's capacity."""
        try:
            source = Source(source)
        except ValueError:
            raise InvalidInput(f"Unknown scan source {str(source)[:20]!r}.") from None
        parsed = payloads.parse(payload, self._ctx.base_url)
        # The signature is checked once per scan (an Ed25519 verify costs ~0.3 ms): both the
        # claim and the decision use the outcome.
        verified = self._verify(parsed)
        # Outside the write transaction: the claim may wait (briefly) on the network.
        # An exit never claims: the hub's claim is a single-use pass's first use.
        claim = None if door.direction is Direction.EXIT else self._claim(parsed, verified)
        try:
            result = self._ctx.write(
                lambda tx: self._submit_in(tx, parsed, source, operator, claim, verified,
                                           door, override_by),
                Priority.DOOR)
        except StorageError as exc:
            # Rolled back whole: no verdict exists, so none may be shown (a door must never
            # admit someone it could not record), and a claim made for it would make another
            # door refuse a guest nobody admitted.
            self._give_back(claim)
            raise exc.about("record the scan", "nothing was admitted") from exc.__cause__
        if door.list_ is not None and not result.accepted:
            self._give_back(claim)  # refused by the list: the pass may still enter elsewhere
        self.decided.publish((result,))
        return result

    def _give_back(self, claim: Claim | None) -> None:
        """A fresh hub claim for a scan that admitted nobody goes back to the hub."""
        if (claim is not None and claim.fresh and claim.at is not None
                and claim.pass_id is not None and self.unclaimer is not None):
            self.unclaimer(claim.pass_id, claim.at)

    def _verify(self, parsed: payloads.ParsedPayload) -> tokens.Claims | tokens.BadToken | None:
        """The token's claims, the reason it was refused, or None when there is no token."""
        if parsed.foreign or parsed.token is None:
            return None
        try:
            return token_v2.verify_any(parsed.token, self._ctx.keys.trusted)
        except tokens.BadToken as exc:
            return removed_signer(self._ctx, parsed.token) or exc

    def _claim(self, parsed: payloads.ParsedPayload,
               verified: tokens.Claims | tokens.BadToken | None) -> Claim | None:
        """Ask the claimer for a single-use pass this door would admit; None when not asked."""
        if self.claimer is None or parsed.foreign:
            return None
        pass_id: str | None = None
        current: Pass | None = None
        if parsed.token is not None:
            if isinstance(verified, SignedByRemoved):
                verified = verified.claims  # scanned only if held here (see _submit_in)
            if not isinstance(verified, tokens.Claims):
                return None
            claims = verified
            if claims.type is not PassType.SINGLE:
                return None
            pass_id = claims.pass_id
            current = self._ctx.store.pass_by_id(claims.pass_id)
        elif parsed.code is not None:
            current = self._ctx.store.pass_by_code(parsed.code)
            pass_id = current.id if current else None
        if pass_id is None or (current is not None and current.type is not PassType.SINGLE):
            return None
        if current is not None and decide(current, self._ctx.now()).verdict is not Verdict.ACCEPTED:
            return None
        return replace(self.claimer(pass_id), pass_id=pass_id)

    def _submit_in(self, tx: Tx, parsed: payloads.ParsedPayload, source: Source,
                   operator: str | None, claim: Claim | None = None,
                   verified: tokens.Claims | tokens.BadToken | None = None,
                   door: Door = NO_LIST, override_by: str | None = None) -> ScanResult:
        now = self._ctx.now()
        current: Pass | None = None
        admitted_on_signature = False
        if parsed.foreign:
            return self._refuse_unlinked(tx, parsed, source, operator, Reason.FOREIGN)
        if parsed.token is not None:
            if verified is None:
                verified = self._verify(parsed)
            if isinstance(verified, SignedByRemoved):
                # Its pass scans only if this door holds it (its creation reached the hub
                # before the removal): a token carries no time it was signed at.
                held = tx.pass_by_id(verified.claims.pass_id)
                if held is None or held.provisional:
                    log.info("refused a pass token: %s", verified)
                    return self._refuse_unlinked(tx, parsed, source, operator,
                                                 Reason.BAD_SIGNATURE, str(verified))
                verified = verified.claims
            if isinstance(verified, tokens.BadToken):
                log.info("refused a pass token: %s", verified)
                return self._refuse_unlinked(tx, parsed, source, operator, Reason.BAD_SIGNATURE)
            assert verified is not None
            claims = verified
            if not parsed.code_in_token and claims.code != parsed.code:
                return self._refuse_unlinked(tx, parsed, source, operator, Reason.BAD_SIGNATURE)
            current = tx.pass_by_id(claims.pass_id) or tx.pass_by_code(claims.code)
            if current is None:
                # Signed by our organisation but not synced here yet: admit on the signature.
                current = Pass(
                    id=claims.pass_id, code=claims.code, name="", type=claims.type,
                    status=PassStatus.ACTIVE, uses=0, max_uses=claims.max_uses,
                    valid_from=claims.valid_from, valid_until=claims.valid_until,
                    public_url=parsed.text, created_at=to_iso(now), updated_at=to_iso(now),
                    provisional=True,
                )
                admitted_on_signature = True
        elif parsed.code is not None:
            current = tx.pass_by_code(parsed.code)
        if current is None:
            return self._refuse_unlinked(tx, parsed, source, operator, Reason.UNKNOWN)

        at_door: DoorDecision | None = None
        if door == NO_LIST:
            decision = decide(current, now)  # today's path, unchanged
        else:
            at_door = decide_with_probes(tx, self._ctx, current, now, door,
                                         override=override_by is not None)
            decision = at_door.decision
        taken = (claim is not None and claim.state is ClaimState.TAKEN
                 and decision.verdict is Verdict.ACCEPTED and current.type is PassType.SINGLE)
        if taken:
            # Another door holds the hub's claim: its admission has not reached this log yet.
            decision = Decision(Verdict.REJECTED, Reason.USED)
        if decision.expire and not current.provisional:
            current = self._passes.expire_in(tx, current)
        scan = Scan(
            id=new_id("scn"), pass_id=current.id, station_id=tx.station_id, scanned_at=to_iso(now),
            verdict=decision.verdict, reason=decision.reason, source=source, operator=operator,
            payload=parsed.text,
        )
        # Read once: each read is a statement, and each statement gives up the GIL, which the
        # door then waits to get back while a download keeps it busy.
        name = self._ctx.station_name
        extras = scan_extras(door, at_door, override_by=override_by) if at_door else {}
        data = {**current.to_api(), "scan": {**scan.to_api(), **extras}, "stationName": name}
        after = current
        if decision.verdict is Verdict.ACCEPTED or admitted_on_signature:
            # The event's data is the pass after this scan (uses counted, status, updatedAt).
            event, folded = self._ctx.record_pass_change(
                tx, EventType.PASS_SCANNED, data, pass_id=current.id, at=now,
                current=None if admitted_on_signature else current)
            assert folded is not None
            after = folded
            self._announce(tx, current, after, by=operator or name,
                           trigger="scan", at=now)
        else:  # a refusal changes nothing: the pass as it stands
            event = self._ctx.record(tx, EventType.PASS_SCANNED, data, pass_id=current.id, at=now)
        tx.insert_scan(scan, event.id, extras)
        # Only a refusal's explanation reads the log ("Already used at Door 2 at 19:03"): an
        # admission costs the same however often the pass was scanned before.
        needs_log = explain_needs_log(decision.reason)
        events = tx.events_for_pass(current.id) if needs_log else []
        message = explain(decision.reason, after, events,
                          self._ctx.station_names() if needs_log else {}, now)
        if at_door is not None and at_door.message is not None:
            message = at_door.message  # the list, a rule, an exit or a re-entry said it
        if taken and claim is not None:
            message = self._taken_message(claim, now)
        warning = None
        if at_door is not None and at_door.overridden:
            warning = f"Admitted over capacity on {override_by}'s override."
        elif decision.verdict is Verdict.ACCEPTED and door.direction is Direction.ENTRY:
            if admitted_on_signature:
                warning = "Admitted on its signature: this pass has not synced to this station yet."
            elif after.type == "multi" and after.status is PassStatus.USED:
                warning = "That was the last use of this pass."
        entered = decision.verdict is Verdict.ACCEPTED and door.direction is Direction.ENTRY
        return ScanResult(decision.verdict, decision.reason, message, scan, after, warning,
                          after.attention if entered else None)

    def _taken_message(self, claim: Claim, now: datetime) -> str:
        where = claim.holder_name or self._ctx.station_names().get(claim.holder or "", "another door")
        text = f"Already used at {where}"
        if claim.at:
            try:
                text += f" at {parse_iso(claim.at).astimezone().strftime('%H:%M')}"
            except (InvalidInput, ValueError):
                pass
        return text

    def _announce(self, tx: Tx, before: Pass, after: Pass, *, by: str, trigger: str,
                  at: datetime) -> None:
        """A status the fold derived from a scan or an undo, as `pass.status_changed` at the
        same instant as its cause (so its data's updatedAt is its own timestamp)."""
        if after.status != before.status and not before.provisional:
            data = {**after.to_api(), "from": str(before.status), "to": str(after.status), "by": by,
                    "reason": "scanned" if trigger == "scan" else "scan undone", "trigger": trigger}
            self._ctx.record(tx, EventType.PASS_STATUS_CHANGED, data, pass_id=after.id, at=at)

    def _refuse_unlinked(self, tx: Tx, parsed: payloads.ParsedPayload, source: Source,
                         operator: str | None, reason: Reason,
                         detail: str | None = None) -> ScanResult:
        """A refusal that names no pass of ours: a scan row for the record, no event.
        `detail`: why, when the reason alone does not say it (a removed station's key)."""
        now = self._ctx.now()
        scan = Scan(
            id=new_id("scn"), pass_id=None, station_id=tx.station_id, scanned_at=to_iso(now),
            verdict=Verdict.REJECTED, reason=reason, source=source, operator=operator,
            payload=parsed.text,
        )
        tx.insert_scan(scan, None)
        message = explain(reason, None, [], {}, now)
        if detail:
            message = f"{message} ({detail})"
        return ScanResult(Verdict.REJECTED, reason, message, scan, None)

    def undo(self, scan_id: str, *, by: str = "door") -> Pass:
        """Take back an accepted scan (a wrong person let through): a compensating event."""
        def _in_tx(tx: Tx) -> tuple[Pass, Releaser | None]:
            events = [e for e in self._scan_events(tx, scan_id)]
            if not events:
                raise NotFound(f"No recorded admission has scan id {scan_id!r}.")
            scanned = events[0]
            scan = scanned.data["scan"]
            if scan.get("verdict") != Verdict.ACCEPTED:
                raise Conflict("Only an accepted scan can be undone.")
            if any(e.type == EventType.SCAN_REVERTED and e.data.get("scanId") == scan_id
                   for e in tx.events_for_pass(scanned.pass_id or "")):
                raise Conflict("That scan was already undone.")
            if self._ctx.now() - parse_iso(scan["scannedAt"]) > UNDO_WINDOW:
                raise Conflict("That scan is too old to undo.")
            before = tx.pass_by_id(scanned.pass_id or "")
            assert before is not None
            now = self._ctx.now()
            self._ctx.record(tx, EventType.SCAN_REVERTED, {"scanId": scan_id, "passId": before.id,
                                                           "by": by}, pass_id=before.id, at=now)
            after = self._ctx.refold(tx, before.id).pass_
            assert after is not None
            self._announce(tx, before, after, by=by, trigger="undo", at=now)
            releaser = self.releaser if before.type is PassType.SINGLE else None
            if releaser is not None:
                # Durable with the undo itself: a station stopped before the hub was told
                # still gives the claim back at its next connection.
                record_release(tx, before.id, str(scan["scannedAt"]))
            return after, releaser

        after, releaser = self._ctx.write(_in_tx, Priority.DOOR)
        if releaser is not None:
            releaser()
        return after

    @staticmethod
    def _scan_events(tx: Tx, scan_id: str) -> list[Event]:
        event_id = tx.scan_event_id(scan_id)
        if event_id is None:
            return []
        event = tx.event_by_id(event_id)
        return [event] if event else []
