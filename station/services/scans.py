"""ScanService: payload in, verdict out, recorded in the door journal first (docs/door-journal.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from station.domain import payload as payloads
from station.domain import token_v2, tokens
from station.domain.codes import new_id
from station.domain.errors import Conflict, InvalidInput, NotFound, StorageError
from station.domain.events import Event, EventType, new_event_id
from station.domain.explain import explain, explain_needs_log
from station.domain.door import NO_LIST, AttentionAnswer, Door, DoorDecision, answered, scan_extras
from station.domain.models import (Direction, Pass, PassStatus, PassType, Reason, Scan, Source,
                                   Verdict)
from station.domain.fold import fold_next
from station.domain.rules import Decision, decide
from station.domain.times import parse_iso, to_iso
from station.services.bus import Observers
from station.services.claims import Claim, Claimer, ClaimState, Releaser, Unclaimer
from station.services.context import Context
from station.services.door_probes import decide_with_probes, read_pass
from station.services.key_trust import SignedByRemoved, removed_signer
from station.services.passes import PassService
from station.services.scan_merge import (JournalEntry, ScanMerger, announce, parse_all,
                                         unmerged_events)
from station.store.db import Priority, Tx
from station.store.door_journal import Appending
from station.store.door_reads import PassRows
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
    # The list asks the door to confirm the note: nothing is recorded yet; submit again with
    # the door's AttentionAnswer (only when asked with hold_attention: the window's door).
    awaiting: bool = False

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
    def __init__(self, ctx: Context, passes: PassService, merger: ScanMerger) -> None:
        self._ctx = ctx
        self._passes = passes
        # The door journal, and the thread that merges its entries into the log.
        self.merger = merger
        # Set by the composition root when the station syncs: strict single use while online.
        self.claimer: Claimer | None = None
        # Set with the claimer: an undone single-use admission gives its hub claim back (the
        # undo's transaction records the release as pending; the releaser is told after commit).
        self.releaser: Releaser | None = None
        # Set with the claimer: a fresh claim for a scan that could not be recorded goes back.
        self.unclaimer: Unclaimer | None = None
        # Every scan this station decided (any source: window, API, CLI in this process): once
        # in the log (wait_merged), or for the door's own paths once durable in the journal.
        # The door's window shows them all; unlike the bus, refusals of codes that name no pass
        # are here too (they record a scan row but no event). Scans applied from other
        # stations through sync never pass through submit, so they are not here.
        self.decided: Observers[ScanResult] = Observers()

    def submit(self, payload: str | bytes, source: str = Source.MANUAL,
               operator: str | None = None, *, door: Door = NO_LIST,
               override_by: str | None = None, wait_merged: bool = True,
               hold_attention: bool = False, attention: AttentionAnswer | None = None
               ) -> ScanResult:
        """Decide one scan and make it durable in the door journal; raises InvalidInput for
        what can never be a pass. `door`: its check-in list and direction (none and entry:
        exactly today's decision); `override_by`: the manager who allowed an entry over the
        list's capacity. `wait_merged`: return only once the scan is in the log (the API, the
        command line: what they read next shows it); the door's own paths pass False and
        return at the journal's fsync, whatever the main writer is doing. `hold_attention`:
        an entry whose note the list asks to confirm records nothing and comes back
        `awaiting` (the window's door shows the note); `attention`: the door's answer (without
        hold_attention and an answer, as the API and the command line do, it is recorded at
        once, unconfirmed)."""
        try:
            source = Source(source)
        except ValueError:
            raise InvalidInput(f"Unknown scan source {str(source)[:20]!r}.") from None
        parsed = payloads.parse(payload, self._ctx.base_url)
        # The signature is checked once per scan (an Ed25519 verify costs ~0.3 ms): both the
        # claim and the decision use the outcome.
        verified = self._verify(parsed)
        claim: Claim | None = None
        try:
            # Outside the journal's lock: the claim may wait (briefly) on the network.
            # An exit never claims: the hub's claim is a single-use pass's first use.
            if door.direction is not Direction.EXIT:
                claim = self._claim(parsed, verified)
            # One decision at a time, in the journal's write transaction (its lock holds off
            # every other door of this data directory, in any process): each sees the entries
            # of the ones before it. The entry is durable when the block ends (fsync).
            with self.merger.journal.appending() as journal:
                result, entry = self._decide(parsed, source, operator, journal, claim,
                                             verified, door, override_by,
                                             hold_attention, attention)
                if entry is None:  # waiting for the door's answer: nothing recorded
                    pass
                elif wait_merged:
                    # Its caller waits for the log anyway: straight into it, one fsync'd
                    # commit, not two (journal, then merge: an API scan took 1.9 ms instead
                    # of 0.9). Still under the journal's lock, so no door decides meanwhile
                    # without seeing it; its events are published once the lock is let go.
                    merged = self.merger.merge_now(entry)
                else:
                    entry_id = journal.add(entry.scan.scanned_at, entry.scan.pass_id,
                                           entry.scan.id, entry.to_json())
            if entry is None:
                self._give_back(claim)  # asked again with the door's answer
                return result
            if not wait_merged:
                self.merger.appended(entry_id)
        except StorageError as exc:
            # Not in the journal: no verdict exists, so none may be shown (a door must never
            # admit someone it could not record), and a claim made for it would make another
            # door refuse a guest nobody admitted.
            self._give_back(claim)
            raise exc.about("record the scan", "nothing was admitted") from exc.__cause__
        if door.list_ is not None and not result.accepted:
            self._give_back(claim)  # refused by the list: the pass may still enter elsewhere
        if wait_merged:
            self._ctx.publish(merged)
        self.decided.publish((result,))
        return result

    def _give_back(self, claim: Claim | None) -> None:
        """A fresh hub claim for a scan that admitted nobody goes back to the hub."""
        if (claim is not None and claim.fresh and claim.at is not None
                and claim.pass_id is not None and self.unclaimer is not None):
            self.unclaimer(claim.pass_id, claim.at)

    def close(self) -> None:
        """Merge what the door journal still holds (the station is stopping)."""
        self.merger.close()

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
                verified = verified.claims  # scanned only if held here (see _decide)
            if not isinstance(verified, tokens.Claims):
                return None
            claims = verified
            if claims.type is not PassType.SINGLE:
                return None
            pass_id = claims.pass_id
            current = self._held(pass_id=claims.pass_id)
        elif parsed.code is not None:
            current = self._held(code=parsed.code)
            pass_id = current.id if current else None
        if pass_id is None or (current is not None and current.type is not PassType.SINGLE):
            return None
        if current is not None and decide(current, self._ctx.now()).verdict is not Verdict.ACCEPTED:
            return None
        return replace(self.claimer(pass_id), pass_id=pass_id)

    def _held(self, *, pass_id: str | None = None, code: str | None = None) -> Pass | None:
        """The pass as this thread's reader sees it, for the claim only: the decision looks
        again, under the journal's lock, with the journal's unmerged entries counted on. Not
        read here: a pass this door admitted and has not merged yet (a scan again within the
        merge's 0.2 s) is claimed again (the hub answers with this door's own claim, or one made
        now for an admission made offline) and refused by the decision; every other scan
        saves a journal read (its lock and a statement) before its claim."""
        store = self._ctx.store
        return (store.pass_by_id(pass_id) if pass_id else None) or (
            store.pass_by_code(code) if code else None)

    def _overlaid(self, current: Pass, texts: list[str], door: Door, now: datetime,
                  rows: PassRows | None) -> tuple[Pass, list[Event], PassRows | None,
                                                  set[str] | None]:
        """`current` with the admissions of its unmerged journal entries (`texts`) folded on,
        and the events of those entries (a refusal's explanation reads them with the log). An
        entry the log already holds (merged, not yet deleted from the journal) is in the row.
        At a door with a list or an exit, also the pass's probes (`rows`) and the ids of those
        entries the log holds (`present`), read in the same moment (decide_with_probes
        applies the others on the probes without reading again).

        Every statement counts at a door (each gives up the GIL, which a download in the same
        process then holds for up to a switch interval), so a pass with no entries, the usual
        case, costs the one journal read; with entries, the row is read again together with
        which of them the log holds, in one read transaction (a merge committed between two
        separate reads could count an entry twice or not at all). Entries cannot go meanwhile:
        the caller holds the journal's lock, and only a merge's delete, under it, removes them."""
        entries = parse_all(texts)
        if not entries:
            return current, [], rows, None
        store = self._ctx.store
        with store.read_snapshot():
            again, rows = read_pass(self._ctx, door, now, pass_id=current.id)
            current = again or current
            present = store.events_present([e.event.id for e in entries if e.event])
        for entry in entries:
            if entry.counts and entry.event is not None and entry.event.id not in present:
                current = fold_next(current, entry.event) or current
        return current, unmerged_events(entries, present), rows, present

    def _decide(self, parsed: payloads.ParsedPayload, source: Source, operator: str | None,
                journal: Appending, claim: Claim | None = None,
                verified: tokens.Claims | tokens.BadToken | None = None,
                door: Door = NO_LIST, override_by: str | None = None,
                hold_attention: bool = False, answer: AttentionAnswer | None = None
                ) -> tuple[ScanResult, JournalEntry | None]:
        """The verdict and the journal entry that records it, from the reader and the
        journal's unmerged entries, inside the journal's write transaction."""
        now = self._ctx.now()
        store = self._ctx.store
        current: Pass | None = None
        # At a door with a list or an exit, the probes its decision reads, read with the pass.
        rows: PassRows | None = None
        admitted_on_signature = False
        if parsed.foreign:
            return self._refuse_unlinked(parsed, source, operator, Reason.FOREIGN)
        if parsed.token is not None:
            if verified is None:
                verified = self._verify(parsed)
            if isinstance(verified, SignedByRemoved):
                # Its pass scans only if this door holds it (its creation reached the hub
                # before the removal): a token carries no time it was signed at.
                held = store.pass_by_id(verified.claims.pass_id)
                if held is None or held.provisional:
                    log.info("refused a pass token: %s", verified)
                    return self._refuse_unlinked(parsed, source, operator,
                                                 Reason.BAD_SIGNATURE, str(verified))
                verified = verified.claims
            if isinstance(verified, tokens.BadToken):
                log.info("refused a pass token: %s", verified)
                return self._refuse_unlinked(parsed, source, operator, Reason.BAD_SIGNATURE)
            assert verified is not None
            claims = verified
            if not parsed.code_in_token and claims.code != parsed.code:
                return self._refuse_unlinked(parsed, source, operator, Reason.BAD_SIGNATURE)
            current, rows = read_pass(self._ctx, door, now, pass_id=claims.pass_id)
            if current is None:
                current, rows = read_pass(self._ctx, door, now, code=claims.code)
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
            current, rows = read_pass(self._ctx, door, now, code=parsed.code)
        if current is None:
            return self._refuse_unlinked(parsed, source, operator, Reason.UNKNOWN)
        # The pass's unmerged entries: read once, under the journal's lock, for both uses.
        own = journal.entries_for(current.id)
        current, unmerged, rows, present = self._overlaid(current, own, door, now, rows)

        at_door: DoorDecision | None = None
        if door == NO_LIST:
            decision = decide(current, now)  # today's path, unchanged
        else:  # the list's probes count the journal's unmerged entries too
            at_door = decide_with_probes(self._ctx, journal, current, now, door,
                                         override=override_by is not None, own=own, rows=rows,
                                         present=present)
            if at_door.accepted and at_door.confirm and answer is None and hold_attention:
                return self._awaiting(current, at_door, parsed.text, source, operator, now), None
            at_door = answered(at_door, answer)
            decision = at_door.decision
        taken = (claim is not None and claim.state is ClaimState.TAKEN
                 and decision.verdict is Verdict.ACCEPTED and current.type is PassType.SINGLE)
        if taken:
            # Another door holds the hub's claim: its admission has not reached this log yet.
            decision = Decision(Verdict.REJECTED, Reason.USED)
        expire = decision.expire and not current.provisional
        if expire:  # as the merge will record it (an expiry command before the scan)
            current = replace(current, status=PassStatus.EXPIRED, updated_at=to_iso(now))
        scan = Scan(
            id=new_id("scn"), pass_id=current.id, station_id=store.station_id,
            scanned_at=to_iso(now), verdict=decision.verdict, reason=decision.reason,
            source=source, operator=operator, payload=parsed.text,
        )
        # The station's name (`stationName`) is added by the merge: one statement less here.
        # The door's keys (list, direction, re-entry…): the merge writes them into the scan
        # row and the occupancy rows from here, as a direct write would.
        confirmed_by = answer.by if answer is not None and answer.admit else None
        extras = (scan_extras(door, at_door, override_by=override_by, confirmed_by=confirmed_by)
                  if at_door else {})
        data = {**current.to_api(), "scan": {**scan.to_api(), **extras}}
        # Its place in the log (origin_seq, HLC) is given by the merge, in the writer.
        event = Event(id=new_event_id(), type=EventType.PASS_SCANNED, timestamp=to_iso(now),
                      data=data, origin=store.station_id, origin_seq=0, hlc="",
                      pass_id=current.id)
        counts = decision.verdict is Verdict.ACCEPTED or admitted_on_signature
        # The pass after this scan (uses counted, status): what the door shows.
        after = (fold_next(current, event) or current) if counts else current
        entry = JournalEntry(replace(scan, payload=parsed.text[:256]), event, counts, expire)
        # Only a refusal's explanation reads the log ("Already used at Door 2 at 19:03"): an
        # admission costs the same however often the pass was scanned before.
        needs_log = explain_needs_log(decision.reason)
        events = [*store.events_for_pass(current.id), *unmerged] if needs_log else []
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
                          after.attention if entered else None), entry

    def _awaiting(self, current: Pass, at_door: DoorDecision, text: str, source: Source,
                  operator: str | None, now: datetime) -> ScanResult:
        """An entry waiting for the door to read the note: a result, but no scan recorded."""
        scan = Scan(id=new_id("scn"), pass_id=current.id, station_id=self._ctx.store.station_id,
                    scanned_at=to_iso(now), verdict=Verdict.ACCEPTED, reason=None, source=source,
                    operator=operator, payload=text[:256])
        return ScanResult(Verdict.ACCEPTED, None, at_door.message or "", scan, current,
                          attention=at_door.attention, awaiting=True)

    def _taken_message(self, claim: Claim, now: datetime) -> str:
        where = claim.holder_name or self._ctx.station_names().get(claim.holder or "", "another door")
        text = f"Already used at {where}"
        if claim.at:
            try:
                text += f" at {parse_iso(claim.at).astimezone().strftime('%H:%M')}"
            except (InvalidInput, ValueError):
                pass
        return text

    def _refuse_unlinked(self, parsed: payloads.ParsedPayload, source: Source,
                         operator: str | None, reason: Reason,
                         detail: str | None = None) -> tuple[ScanResult, JournalEntry]:
        """A refusal that names no pass of ours: a scan row for the record, no event.
        `detail`: why, when the reason alone does not say it (a removed station's key)."""
        now = self._ctx.now()
        scan = Scan(
            id=new_id("scn"), pass_id=None, station_id=self._ctx.station_id,
            scanned_at=to_iso(now), verdict=Verdict.REJECTED, reason=reason, source=source,
            operator=operator, payload=parsed.text,
        )
        message = explain(reason, None, [], {}, now)
        if detail:
            message = f"{message} ({detail})"
        entry = JournalEntry(replace(scan, payload=parsed.text[:256]), None)
        return ScanResult(Verdict.REJECTED, reason, message, scan, None), entry

    def undo(self, scan_id: str, *, by: str = "door") -> Pass:
        """Take back an accepted scan (a wrong person let through): a compensating event."""
        self.merger.wait_scan(scan_id)  # a scan still in the door journal: in the log first

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
            reverted = self._ctx.record(tx, EventType.SCAN_REVERTED, {"scanId": scan_id, "passId": before.id,
                                                           "by": by}, pass_id=before.id, at=now)
            after = self._ctx.refold(tx, before.id).pass_
            assert after is not None
            announce(self._ctx, tx, before, after, by=by, trigger="undo", event=reverted)
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
