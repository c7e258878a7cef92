"""The webhook sender: reads the outbox, POSTs signed events, records every attempt.

Runs on the station's AsyncRuntime. It is woken by the bus after each commit and also polls
the outbox, so rows left by a crash (or written by another process, e.g. `station scan`) are
sent too. A delivery is at least once: it stays `pending` in the database until its result is
stored, so a kill at any moment means it is sent again after restart, with the same event id.

Isolation: each subscription has its own HTTP client (its own connection pool) and at most
`per_subscription` requests in flight, and the whole sender at most `max_in_flight`; so a dead
or hanging target holds a few slots and never the others'. Door transactions are never waited
on: the sender reads and writes the database on its own thread, and stores attempt results
in batches so its writes take the writer rarely and briefly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import logging
import random
import time
from collections import defaultdict
from functools import partial
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from station.domain.errors import StorageError
from station.domain.events import Event, VENDOR_EVENTS
from station.domain.times import to_iso
from station.net import signing
from station.net.runtime import AsyncRuntime
from station.net.targets import AddressPolicy, TargetRefused, guarded_transport
from station.net.webhook_secrets import WebhookSecrets
from station.services.bus import EventBus
from station.store.db import Store
from station.store.webhooks import KEEP_DELETED, DueDelivery, Outcome, Recorded, WebhookStore

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Vendor schedule: up to 3 retries after the first attempt, at 1 s, 30 s and 5 min."""

    schedule: tuple[float, ...] = (1.0, 30.0, 300.0)
    jitter: float = 0.1  # up to +10 %, so many failed deliveries do not retry in lockstep
    max_retry_after: float = 600.0  # a receiver's Retry-After is honoured up to this

    def delay(self, attempts_done: int, retry_after: float | None, rng: random.Random) -> float | None:
        """Seconds until the next attempt after `attempts_done` attempts, or None: give up."""
        if attempts_done > len(self.schedule):
            return None
        delay = self.schedule[attempts_done - 1] * (1 + rng.uniform(0, self.jitter))
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_retry_after))
        return delay


@dataclass(frozen=True)
class SenderConfig:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 30.0  # a 2xx must arrive within this (the whole exchange)
    max_in_flight: int = 8  # docs/measured-facts.md: one pool at 32 concurrent collapses, ≤ 8 holds
    per_subscription: int = 4
    poll_interval: float = 1.0
    disable_after: int = 5  # failed deliveries in a row
    excerpt_bytes: int = 512  # of each answer, kept in the attempt log
    # Results stored per transaction: bigger batches mean fewer fsyncs but hold the writer
    # lock (which the door's scans also need) longer.
    record_batch: int = 32


def parse_retry_after(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


def body_bytes(event: Event) -> bytes:
    return json.dumps(event.to_payload(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class WebhookSender:
    def __init__(self, store: Store, bus: EventBus, runtime: AsyncRuntime, secrets: WebhookSecrets,
                 policy: Callable[[], AddressPolicy], config: SenderConfig | None = None,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None) -> None:
        self._hooks = WebhookStore(store)
        self._station_id = store.station_id
        self._bus = bus
        self._runtime = runtime
        self._secrets = secrets
        self._policy = policy
        self.config = config or SenderConfig()
        self._clock = clock
        self._rng = rng or random.Random()
        self._io_pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="webhook-io")
        self._unsubscribe: Callable[[], None] | None = None
        self._main: concurrent.futures.Future[None] | None = None
        self._main_task: asyncio.Task[Any] | None = None  # _run, once it runs on the loop
        # loop-owned state (touched only on the runtime thread)
        self._wake: asyncio.Event | None = None
        self._slots: asyncio.Semaphore | None = None
        self._results: asyncio.Queue[Outcome] | None = None
        self._in_flight: dict[str, set[str]] = defaultdict(set)
        self._sending: dict[str, asyncio.Task[None]] = {}  # delivery id -> its task
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._storage_failed = False  # the outbox could not be written (disk full): said once

    # --- lifecycle (any thread) ------------------------------------------------------------
    def start(self) -> None:
        self._unsubscribe = self._bus.subscribe(self._on_event)
        self._main = self._runtime.submit(self._run())

    def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self._main is not None and not self._main.done():
            try:
                self._runtime.submit(self._shutdown()).result(10)
            except (concurrent.futures.TimeoutError, RuntimeError):
                log.warning("webhook sender did not stop within 10 s")
        self._io_pool.shutdown(wait=True)

    def _on_event(self, event: Event) -> None:
        # Outbox rows exist only for this station's own vendor events: events applied from
        # other stations (thousands a second during a sync catch-up) need no look.
        if event.origin == self._station_id and event.type in VENDOR_EVENTS:
            self.wake()

    def wake(self) -> None:
        """Look at the outbox now (called after commits, and by resend / re-enable)."""
        try:
            self._runtime.call_soon(self._set_wake)
        except RuntimeError:  # the loop is closed: the station is stopping
            pass

    def forget(self, webhook_id: str) -> None:
        """A subscription was deleted: stop its deliveries in flight (their rows are cancelled)."""
        try:
            self._runtime.call_soon(lambda: asyncio.ensure_future(self._stop_sending(webhook_id)))
        except RuntimeError:  # the loop is closed: the station is stopping
            pass

    def reset_clients(self) -> None:
        """Rebuild HTTP clients, e.g. after the allowed networks changed."""
        self._runtime.call_soon(lambda: asyncio.ensure_future(self._close_clients()))

    # --- loop side -------------------------------------------------------------------------
    def _set_wake(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _io(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(
            self._io_pool, lambda: func(*args, **kwargs)
        )

    def _now_iso(self) -> str:
        return to_iso(datetime.fromtimestamp(self._clock(), UTC))

    def _purge_before(self) -> str:
        return to_iso(datetime.fromtimestamp(self._clock(), UTC) - KEEP_DELETED)

    async def _run(self) -> None:
        self._main_task = asyncio.current_task()
        try:  # housekeeping: deleted subscriptions whose delivery log was kept long enough
            await self._io(self._hooks.purge_deleted, self._purge_before())
        except Exception:
            log.exception("purging deleted webhook subscriptions failed")
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(self.config.max_in_flight)
        self._results = asyncio.Queue()
        recorder = asyncio.create_task(self._record_loop())
        try:
            while True:
                self._wake.clear()
                try:
                    await self._dispatch()
                    self._storage_failed = False
                except asyncio.CancelledError:
                    raise
                except StorageError as exc:  # a full disk: said once, retried at every poll
                    if not self._storage_failed:
                        log.warning("Webhooks wait: %s", exc)
                    self._storage_failed = True
                except Exception:  # a locked or busy database now may be free at the next poll
                    log.exception("reading the webhook outbox failed")
                try:
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)
                except TimeoutError:
                    pass
        finally:
            recorder.cancel()

    async def _dispatch(self) -> None:
        for webhook_id in await self._io(self._hooks.enabled_ids):
            busy = self._in_flight[webhook_id]
            room = self.config.per_subscription - len(busy)
            if room <= 0:
                continue
            due = await self._io(self._hooks.due, webhook_id, self._clock(), room, tuple(busy))
            for delivery in due:
                busy.add(delivery.id)
                task = asyncio.create_task(self._deliver(delivery))
                self._tasks.add(task)
                self._sending[delivery.id] = task
                task.add_done_callback(self._tasks.discard)
                task.add_done_callback(partial(self._sent, delivery.id))

    def _sent(self, delivery_id: str, _task: asyncio.Task[None]) -> None:
        self._sending.pop(delivery_id, None)

    def _client(self, webhook_id: str) -> httpx.AsyncClient:
        client = self._clients.get(webhook_id)
        if client is None:
            transport = guarded_transport(self._policy(), self.config.per_subscription)
            client = httpx.AsyncClient(transport=transport, follow_redirects=False,
                                       timeout=httpx.Timeout(self.config.timeout), trust_env=False)
            self._clients[webhook_id] = client
        return client

    async def _close_clients(self, only: str | None = None) -> None:
        ids = [only] if only is not None else list(self._clients)
        for webhook_id in ids:
            client = self._clients.pop(webhook_id, None)
            if client is not None:
                await client.aclose()

    async def _deliver(self, delivery: DueDelivery) -> None:
        assert self._slots is not None and self._results is not None
        async with self._slots:
            outcome = await self._attempt(delivery)
        await self._results.put(outcome)

    async def _attempt(self, d: DueDelivery) -> Outcome:
        started_at = to_iso(datetime.fromtimestamp(self._clock(), UTC))
        status: int | None = None
        excerpt: str | None = None
        error: str | None = None
        retry_after: float | None = None
        began = time.perf_counter()
        try:
            secret = self._secrets.cached(d.webhook_id)
            if secret is None:
                secret = await self._io(self._secrets.get, d.webhook_id)
            if secret is None:
                raise LookupError("The subscription's signing secret is missing from the keyring; "
                                  "delete and re-create the subscription.")
            body = body_bytes(d.event)
            headers = signing.headers(secret, event_id=d.event.id, event_type=d.event.type, body=body,
                                      timestamp=int(self._clock()))
            async with asyncio.timeout(self.config.timeout):
                async with self._client(d.webhook_id).stream("POST", d.target_url, content=body,
                                                             headers=headers) as response:
                    status = response.status_code
                    excerpt = await self._excerpt(response)
                    retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
        except TimeoutError:
            error = f"No answer within {self.config.timeout:g} s."
        except TargetRefused as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"No answer within {self.config.timeout:g} s."
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except LookupError as exc:
            error = str(exc)
        duration_ms = (time.perf_counter() - began) * 1000
        succeeded = status is not None and 200 <= status < 300
        if status is not None and not succeeded and error is None:
            error = f"The target answered {status}" + (
                " (redirects are not followed; use the final address)." if 300 <= status < 400 else ".")
        disable_reason = None
        next_at: float | None = None
        if status == 410:  # Zapier's REST-hook rule: the receiver unsubscribed
            disable_reason = "The target answered 410 Gone, so the subscription was deleted."
        elif not succeeded:
            delay = self.config.retry.delay(d.attempts + 1, retry_after, self._rng)
            next_at = None if delay is None else self._clock() + delay
        return Outcome(delivery_id=d.id, webhook_id=d.webhook_id, attempted_at=started_at,
                       status=status, duration_ms=duration_ms, response=excerpt, error=error,
                       succeeded=succeeded, next_attempt_at=next_at, disable_reason=disable_reason,
                       gone=status == 410)

    async def _excerpt(self, response: httpx.Response) -> str:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size >= self.config.excerpt_bytes:
                break  # the rest is not read; the connection is closed rather than reused
        return b"".join(chunks)[: self.config.excerpt_bytes].decode("utf-8", "replace")

    async def _record_loop(self) -> None:
        assert self._results is not None
        while True:
            batch = [await self._results.get()]
            while not self._results.empty() and len(batch) < self.config.record_batch:
                batch.append(self._results.get_nowait())
            await self._record(batch)

    async def _record(self, batch: list[Outcome]) -> None:
        try:
            done = await self._io(self._hooks.record, batch,
                                  disable_after=self.config.disable_after,
                                  now_iso=self._now_iso(), purge_before=self._purge_before())
        except StorageError as exc:  # not stored: the deliveries stay pending, sent again later
            log.warning("Webhook results not stored: %s", exc)
            done = Recorded()
        except Exception:  # not stored: the deliveries stay pending and are sent again later
            log.exception("storing %d webhook results failed", len(batch))
            done = Recorded()
        for outcome in batch:
            if outcome.webhook_id in self._in_flight:
                self._in_flight[outcome.webhook_id].discard(outcome.delivery_id)
        for webhook_id in done.disabled:
            log.warning("webhook subscription %s was disabled", webhook_id)
            await self._close_clients(webhook_id)
        for webhook_id in done.deleted:
            log.warning("webhook subscription %s was deleted: its target answered 410 Gone",
                        webhook_id)
            await self._io(self._secrets.delete, webhook_id)
            await self._stop_sending(webhook_id)
        self._set_wake()

    async def _stop_sending(self, webhook_id: str) -> None:
        """Cancel a deleted subscription's deliveries in flight and close its connections. A
        result already in hand is still stored (logged against its cancelled delivery)."""
        for delivery_id in self._in_flight.pop(webhook_id, set()):
            task = self._sending.pop(delivery_id, None)
            if task is not None:
                task.cancel()
        await self._close_clients(webhook_id)

    async def _shutdown(self) -> None:
        # The main loop first, and awaited: once this returns it may not dispatch again (the io
        # pool it reads the outbox through is shut down next: a poll after that failed).
        main = self._main_task
        for _ in range(50):  # cancelled again until it ends: Python 3.11's wait_for can swallow
            if main is None or main.done():  # a cancel that arrives as its wait completes
                break
            main.cancel()
            await asyncio.wait({main}, timeout=0.1)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Results already in hand are stored; cancelled ones stay pending and go out next start.
        if self._results is not None and not self._results.empty():
            batch: list[Outcome] = []
            while not self._results.empty():
                batch.append(self._results.get_nowait())
            await self._record(batch)
        if self._main is not None:
            self._main.cancel()
        await self._close_clients()
