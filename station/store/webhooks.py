"""Webhook subscriptions, the delivery outbox and the attempt log.

The outbox row for an event is written by `enqueue_deliveries`, an append hook that runs inside
the transaction that records the event (see `Store.add_append_hook`), so an event and its
deliveries commit together or not at all.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from station.domain.events import VENDOR_EVENTS, Event
from station.store.db import Priority, Store, Tx
from station.store.failures import storage_errors
from station.store.rows import event_from_row

MAX_SUBSCRIPTIONS = 10
# How long a deleted subscription's delivery log stays readable (its tombstone is purged at the
# next deletion or station start after that).
KEEP_DELETED = timedelta(days=7)

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"  # its subscription was deleted before it was sent


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    event: str
    target_url: str
    created_at: str
    enabled: bool = True
    disabled_reason: str | None = None
    disabled_at: str | None = None
    consecutive_failures: int = 0
    deleted_at: str | None = None  # a tombstone: kept only so its delivery log stays readable

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "targetUrl": self.target_url,
                "createdAt": self.created_at, "enabled": self.enabled,
                "disabledReason": self.disabled_reason, "disabledAt": self.disabled_at,
                "consecutiveFailures": self.consecutive_failures}


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    webhook_id: str
    event_id: str
    event_type: str
    state: str
    attempts: int
    next_attempt_at: float
    created_at: str
    last_status: int | None
    last_error: str | None

    def to_api(self) -> dict[str, Any]:
        return {"id": self.id, "webhookId": self.webhook_id, "eventId": self.event_id,
                "event": self.event_type, "state": self.state, "attempts": self.attempts,
                "createdAt": self.created_at, "lastStatus": self.last_status,
                "lastError": self.last_error}


@dataclass(frozen=True, slots=True)
class Attempt:
    delivery_id: str
    attempted_at: str
    status: int | None
    duration_ms: float
    response: str | None
    error: str | None

    def to_api(self) -> dict[str, Any]:
        return {"deliveryId": self.delivery_id, "attemptedAt": self.attempted_at,
                "status": self.status, "durationMs": round(self.duration_ms, 1),
                "response": self.response, "error": self.error}


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A delivery ready to send, with what the sender needs to build the request."""

    id: str
    webhook_id: str
    target_url: str
    attempts: int
    event: Event


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt, as the sender reports it back to the store."""

    delivery_id: str
    webhook_id: str
    attempted_at: str
    status: int | None
    duration_ms: float
    response: str | None
    error: str | None
    succeeded: bool
    next_attempt_at: float | None  # None: no more automatic attempts
    disable_reason: str | None = None  # why the subscription is disabled (or deleted) now
    gone: bool = False  # the target answered 410 Gone: the subscription is deleted


@dataclass(frozen=True, slots=True)
class Recorded:
    """Subscriptions that the stored results disabled or deleted."""

    disabled: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def _webhook(row: Any) -> Webhook:
    return Webhook(id=row["id"], event=row["event"], target_url=row["target_url"],
                   created_at=row["created_at"], enabled=bool(row["enabled"]),
                   disabled_reason=row["disabled_reason"], disabled_at=row["disabled_at"],
                   consecutive_failures=row["consecutive_failures"], deleted_at=row["deleted_at"])


def _delivery(row: Any) -> Delivery:
    return Delivery(id=row["id"], webhook_id=row["webhook_id"], event_id=row["event_id"],
                    event_type=row["type"], state=row["state"], attempts=row["attempts"],
                    next_attempt_at=row["next_attempt_at"], created_at=row["created_at"],
                    last_status=row["last_status"], last_error=row["last_error"])


def enqueue_deliveries(tx: Tx, events: Sequence[Event]) -> None:
    """Append hook: one outbox row per enabled subscription to each event's type.

    Only events this station recorded: a replicated event is delivered by the station that
    recorded it, so an organisation's subscribers hear each event once, not once per door."""
    # Subscriptions change in their own transactions: one look per transaction is enough, and
    # spares an import the outbox statement per event when nobody subscribed to its type.
    subscribed = tx.memo.get("webhook_event_types")
    if subscribed is None:
        subscribed = tx.memo["webhook_event_types"] = {
            r[0] for r in tx.execute("SELECT DISTINCT event FROM webhooks WHERE enabled = 1")
            if r[0] in VENDOR_EVENTS}
    wanted = [e for e in events if e.type in subscribed and e.origin == tx.station_id]
    if not wanted:
        return
    now = time.time()
    tx.executemany(
        "INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, event_id, next_attempt_at, created_at) "
        "SELECT 'dlv_' || lower(hex(randomblob(10))), id, ?, ?, ? FROM webhooks "
        "WHERE event = ? AND enabled = 1",
        [(e.id, now, e.timestamp, e.type) for e in wanted],
    )


def _tombstone(tx: Tx, webhook_id: str, reason: str, now_iso: str) -> bool:
    """Delete a subscription: it stops counting and sending, its queued deliveries are
    cancelled, and its row stays (disabled) as a tombstone until purged. False when it was not
    a live subscription."""
    cur = tx.execute(
        "UPDATE webhooks SET deleted_at = ?, enabled = 0, disabled_reason = ?, "
        "disabled_at = coalesce(disabled_at, ?) WHERE id = ? AND deleted_at IS NULL",
        (now_iso, reason, now_iso, webhook_id),
    )
    if not cur.rowcount:
        return False
    tx.execute("UPDATE webhook_deliveries SET state = ?, last_error = coalesce(last_error, ?) "
               "WHERE webhook_id = ? AND state = ?", (CANCELLED, reason, webhook_id, PENDING))
    return True


class WebhookStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        # A full or failing disk can refuse even a read (a new reader maps the WAL index): the
        # sender waits and says so once, instead of logging a traceback every poll.
        with storage_errors(self._store.data_dir, doing="read the webhook outbox",
                            outcome="deliveries wait until it can be read"):
            rows: list[Any] = self._store.db().execute(sql, params).fetchall()
            return rows

    # --- subscriptions ---------------------------------------------------------------------
    def insert(self, hook: Webhook, limit: int = MAX_SUBSCRIPTIONS) -> bool:
        """Insert unless the organisation already has `limit` subscriptions; True when inserted.

        The count and the insert share one write transaction, so two concurrent requests
        cannot both take the tenth place."""
        def _in_tx(tx: Tx) -> bool:
            count = tx.execute("SELECT count(*) FROM webhooks WHERE deleted_at IS NULL").fetchone()[0]
            if count >= limit:
                return False
            tx.execute(
                "INSERT INTO webhooks (id, event, target_url, created_at) VALUES (?, ?, ?, ?)",
                (hook.id, hook.event, hook.target_url, hook.created_at),
            )
            return True

        return self._store.write(_in_tx, Priority.USER)

    def get(self, webhook_id: str, *, deleted: bool = False) -> Webhook | None:
        """A live subscription; with `deleted`, also a tombstone (for its delivery log)."""
        sql = "SELECT * FROM webhooks WHERE id = ?" + ("" if deleted else " AND deleted_at IS NULL")
        rows = self._rows(sql, (webhook_id,))
        return _webhook(rows[0]) if rows else None

    # Below this method, `list` in annotations would name it: they say builtins.list.
    def list(self) -> list[Webhook]:
        return [_webhook(r) for r in self._rows(
            "SELECT * FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC")]

    def delete(self, webhook_id: str, *, reason: str, now_iso: str, purge_before: str) -> bool:
        """Delete a live subscription (see _tombstone); True when it was live. Tombstones
        deleted before `purge_before` are purged in the same transaction."""
        def _in_tx(tx: Tx) -> bool:
            deleted = _tombstone(tx, webhook_id, reason, now_iso)
            self._purge(tx, purge_before)
            return deleted

        return self._store.write(_in_tx, Priority.USER)

    def purge_deleted(self, before: str) -> int:
        """Forget subscriptions deleted before `before` with their delivery logs."""
        def _in_tx(tx: Tx) -> int:
            return self._purge(tx, before)

        return self._store.write(_in_tx, Priority.USER)

    @staticmethod
    def _purge(tx: Tx, before: str) -> int:
        # Deliveries and attempts go with it (ON DELETE CASCADE).
        return tx.execute("DELETE FROM webhooks WHERE deleted_at IS NOT NULL AND deleted_at < ?",
                          (before,)).rowcount

    def enable(self, webhook_id: str) -> bool:
        def _in_tx(tx: Tx) -> bool:
            cur = tx.execute(
                "UPDATE webhooks SET enabled = 1, disabled_reason = NULL, disabled_at = NULL, "
                "consecutive_failures = 0 WHERE id = ? AND deleted_at IS NULL", (webhook_id,),
            )
            return cur.rowcount > 0

        return self._store.write(_in_tx, Priority.USER)

    def counts(self, webhook_id: str) -> dict[str, int]:
        rows = self._rows(
            "SELECT state, count(*) AS n FROM webhook_deliveries WHERE webhook_id = ? GROUP BY state",
            (webhook_id,),
        )
        found = {r["state"]: r["n"] for r in rows}
        return {state: int(found.get(state, 0)) for state in (PENDING, SUCCEEDED, FAILED)}

    # --- deliveries ------------------------------------------------------------------------
    def deliveries(self, webhook_id: str, limit: int = 50) -> builtins.list[Delivery]:
        rows = self._rows(
            "SELECT d.*, e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
            "WHERE d.webhook_id = ? ORDER BY d.seq DESC LIMIT ?", (webhook_id, limit),
        )
        return [_delivery(r) for r in rows]

    def delivery(self, delivery_id: str) -> Delivery | None:
        rows = self._rows(
            "SELECT d.*, e.type FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
            "WHERE d.id = ?", (delivery_id,),
        )
        return _delivery(rows[0]) if rows else None

    def attempts(self, delivery_id: str) -> builtins.list[Attempt]:
        rows = self._rows("SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY id",
                          (delivery_id,))
        return [Attempt(delivery_id=r["delivery_id"], attempted_at=r["attempted_at"],
                        status=r["status"], duration_ms=r["duration_ms"], response=r["response"],
                        error=r["error"]) for r in rows]

    def resend(self, delivery_id: str, now: float) -> bool:
        """Queue a delivery again (any state), with a fresh set of automatic retries; False
        when its subscription was deleted."""
        def _in_tx(tx: Tx) -> bool:
            cur = tx.execute(
                "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE id = ? AND webhook_id IN (SELECT id FROM webhooks WHERE deleted_at IS NULL)",
                (now, delivery_id),
            )
            return cur.rowcount > 0

        return self._store.write(_in_tx, Priority.USER)

    def enabled_ids(self) -> builtins.list[str]:
        return [r["id"] for r in self._rows("SELECT id FROM webhooks WHERE enabled = 1")]

    def due(self, webhook_id: str, now: float, limit: int,
            skip: Iterable[str] = ()) -> builtins.list[DueDelivery]:
        """Pending deliveries of one enabled subscription whose time has come, oldest first.

        Asked per subscription so a dead subscription's backlog never hides the others'."""
        skipped = list(skip)
        marks = ",".join("?" for _ in skipped)
        sql = (
            "SELECT d.id AS delivery_id, d.webhook_id, d.attempts, w.target_url, e.id, e.type, "
            "e.origin, e.origin_seq, e.hlc, e.pass_id, e.timestamp, e.data FROM webhook_deliveries d "
            "JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id "
            "WHERE d.webhook_id = ? AND d.state = 'pending' AND d.next_attempt_at <= ? "
            "AND w.enabled = 1"
            + (f" AND d.id NOT IN ({marks})" if skipped else "")
            + " ORDER BY d.next_attempt_at, d.seq LIMIT ?"
        )
        rows = self._rows(sql, (webhook_id, now, *skipped, limit))
        return [DueDelivery(id=r["delivery_id"], webhook_id=r["webhook_id"], attempts=r["attempts"],
                            target_url=r["target_url"], event=event_from_row(dict(r))) for r in rows]

    def next_due_at(self) -> float | None:
        rows = self._rows(
            "SELECT min(d.next_attempt_at) AS t FROM webhook_deliveries d "
            "JOIN webhooks w ON w.id = d.webhook_id WHERE d.state = 'pending' AND w.enabled = 1"
        )
        return rows[0]["t"] if rows and rows[0]["t"] is not None else None

    def record(self, outcomes: Sequence[Outcome], *, disable_after: int, now_iso: str,
               purge_before: str) -> Recorded:
        """Store attempt results in one transaction; returns the subscriptions disabled or
        deleted now.

        A delivery that ends in failure (retries used up) counts against its subscription;
        `disable_after` such failures in a row disable it. Any success resets the count. A 410
        deletes the subscription. A result whose subscription was deleted meanwhile is logged
        if its delivery is still kept, and otherwise dropped: never an error, since one would
        roll back the whole batch (and the other subscriptions' results would be sent again)."""
        done = Recorded()
        def _in_tx(tx: Tx) -> None:
            for o in outcomes:
                tx.execute(
                    "INSERT INTO webhook_attempts (delivery_id, attempted_at, status, duration_ms, "
                    "response, error) SELECT ?, ?, ?, ?, ?, ? "
                    "WHERE EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = ?)",
                    (o.delivery_id, o.attempted_at, o.status, o.duration_ms, o.response, o.error,
                     o.delivery_id),
                )
                if o.succeeded:
                    state = SUCCEEDED
                elif o.next_attempt_at is None:
                    state = FAILED
                else:
                    state = PENDING
                cur = tx.execute(
                    "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, "
                    "next_attempt_at = coalesce(?, next_attempt_at), last_status = ?, last_error = ? "
                    "WHERE id = ? AND state = 'pending'",
                    (state, o.next_attempt_at, o.status, o.error, o.delivery_id),
                )
                if not cur.rowcount:
                    continue  # cancelled (its subscription deleted) or purged meanwhile
                if o.gone:
                    if _tombstone(tx, o.webhook_id, o.disable_reason or "The target answered 410 "
                                  "Gone, so the subscription was deleted.", now_iso):
                        done.deleted.append(o.webhook_id)
                    continue
                if o.succeeded:
                    tx.execute("UPDATE webhooks SET consecutive_failures = 0 WHERE id = ?",
                               (o.webhook_id,))
                    continue
                reason = o.disable_reason
                if state == FAILED:
                    tx.execute("UPDATE webhooks SET consecutive_failures = consecutive_failures + 1 "
                               "WHERE id = ?", (o.webhook_id,))
                    row = tx.execute("SELECT consecutive_failures, enabled FROM webhooks WHERE id = ?",
                                     (o.webhook_id,)).fetchone()
                    if reason is None and row is not None and row[1] and row[0] >= disable_after:
                        reason = f"Disabled after {row[0]} failed deliveries in a row."
                if reason is not None:
                    cur = tx.execute(
                        "UPDATE webhooks SET enabled = 0, disabled_reason = ?, disabled_at = ? "
                        "WHERE id = ? AND enabled = 1", (reason, now_iso, o.webhook_id),
                    )
                    if cur.rowcount:
                        done.disabled.append(o.webhook_id)
            if done.deleted:
                self._purge(tx, purge_before)

        self._store.write(_in_tx, Priority.HOUSEKEEPING)
        return done
