"""Integrations: API keys, webhook subscriptions, their delivery logs, and polling.

One object for everything an integration surface needs (the HTTP API, the CLI, and the GUI's
Integrations page), so each of them checks input and states errors the same way. Methods are
blocking (they read and write SQLite, the keyring may be slow): call them from a worker thread,
never from the GUI thread or the event loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from station.domain import apikeys
from station.domain.codes import new_id
from station.domain.errors import Conflict, InvalidInput, NotFound
from station.domain.events import VENDOR_EVENTS
from station.domain.times import normalize_iso, to_iso
from station.net import signing
from station.net.targets import AddressPolicy, check_target_url, parse_networks
from station.net.webhook_secrets import WebhookSecrets
from station.services import validation
from station.store.apikeys import ApiKey, ApiKeyStore
from station.store.db import Page, Store
from station.store.triggers import recent_events
from station.store.webhooks import (
    KEEP_DELETED, MAX_SUBSCRIPTIONS, Attempt, Delivery, Webhook, WebhookStore,
)

DEFAULT_RATE_LIMIT = 30  # requests per minute per key (vendor docs)
MAX_RATE_LIMIT = 1_000_000
NETWORKS_SETTING = "webhook_allowed_networks"
MAX_TRIGGERS = 100
DEFAULT_TRIGGERS = 50


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    secret: str  # the full `2pk_…` key: shown once, never stored


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    webhook: Webhook
    secret: str  # the signing secret: shown once (kept in the keyring for the sender)

    def to_api(self) -> dict[str, Any]:
        return {**self.webhook.to_api(), "secret": self.secret}


@dataclass(frozen=True, slots=True)
class WebhookState:
    """A subscription as the Integrations page shows it."""

    webhook: Webhook
    pending: int
    succeeded: int
    failed: int

    @property
    def status_text(self) -> str:
        if not self.webhook.enabled:
            return f"Disabled: {self.webhook.disabled_reason or 'by a person'}"
        if self.webhook.consecutive_failures:
            return f"Failing ({self.webhook.consecutive_failures} failed deliveries in a row)"
        return "Active"


class ApiKeys:
    """Create, list, revoke and check API keys. Only hashes are stored."""

    # A revoked key stops working within this many seconds even when revoked by another
    # process (`station keys revoke` beside a running station); at once when revoked here.
    CACHE_SECONDS = 2.0

    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self._keys = ApiKeyStore(store)
        self._now = now
        self._cache: dict[str, tuple[float, ApiKey]] = {}
        self._lock = threading.Lock()

    def create(self, name: Any, rate_limit: Any = DEFAULT_RATE_LIMIT) -> CreatedKey:
        clean = validation.text(name, "Key name", max_len=100)
        assert clean is not None
        if isinstance(rate_limit, bool) or not isinstance(rate_limit, int) \
                or not 1 <= rate_limit <= MAX_RATE_LIMIT:
            raise InvalidInput(f"The rate limit must be a whole number of requests per minute "
                               f"between 1 and {MAX_RATE_LIMIT}.")
        secret = apikeys.new_key()
        key = ApiKey(id=new_id("key"), name=clean, prefix=apikeys.display_prefix(secret),
                     rate_limit=rate_limit, created_at=to_iso(self._now()))
        self._keys.insert(key, apikeys.key_hash(secret))
        return CreatedKey(key, secret)

    def list(self) -> list[ApiKey]:
        return self._keys.list()

    def revoke(self, key_id: Any) -> ApiKey:
        if not isinstance(key_id, str) or not key_id.strip():
            raise InvalidInput("Give the id of the key to revoke (see `station keys list`).")
        found = self._keys.by_id(key_id.strip())
        if found is None:
            raise NotFound(f"No API key has id {key_id.strip()[:64]!r}; see `station keys list`.")
        self._keys.revoke(found.id, to_iso(self._now()))
        with self._lock:
            self._cache.clear()
        revoked = self._keys.by_id(found.id)
        assert revoked is not None
        return revoked

    def authenticate(self, token: str) -> ApiKey | None:
        """The active key for a presented token, or None (malformed, unknown or revoked)."""
        if not apikeys.well_formed(token):
            return None
        digest = apikeys.key_hash(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and now - hit[0] < self.CACHE_SECONDS:
            return hit[1]
        key = self._keys.by_hash(digest)
        if key is None or not key.active:
            with self._lock:
                self._cache.pop(digest, None)
            return None
        with self._lock:
            self._cache[digest] = (now, key)
        return key


class Integrations:
    def __init__(self, store: Store, secrets: WebhookSecrets, now: Callable[[], datetime], *,
                 cli_networks: Sequence[str] = (), clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._hooks = WebhookStore(store)
        self._secrets = secrets
        self._now = now
        self._clock = clock
        self._cli_networks = tuple(str(n) for n in cli_networks)
        parse_networks(self._cli_networks)  # refuse a bad --allow-webhook-network at start
        self.keys = ApiKeys(store, now)
        self.api_address: str | None = None  # e.g. http://127.0.0.1:8765, set by the API server
        self.api_error: str | None = None  # why the API is not running, for the status bar
        self._on_change: list[Callable[[], None]] = []
        self._on_networks: list[Callable[[], None]] = []
        self._on_delete: list[Callable[[str], None]] = []

    def on_delete(self, callback: Callable[[str], None]) -> None:
        """Called with a subscription's id after it was deleted (the sender stops its deliveries)."""
        self._on_delete.append(callback)

    def on_change(self, callback: Callable[[], None]) -> None:
        """Called after resend / re-enable / network changes (the sender looks again)."""
        self._on_change.append(callback)

    def on_change_networks(self, callback: Callable[[], None]) -> None:
        """Called after the allowed networks changed (the sender rebuilds its clients)."""
        self._on_networks.append(callback)

    def _changed(self) -> None:
        for callback in self._on_change:
            callback()

    # --- target networks -------------------------------------------------------------------
    def allowed_networks(self) -> list[str]:
        """Networks allowed as webhook targets: the command line's and the saved setting's."""
        saved = [str(n) for n in (self._store.setting(NETWORKS_SETTING, []) or [])]
        return list(dict.fromkeys([*self._cli_networks, *saved]))

    def saved_networks(self) -> list[str]:
        return [str(n) for n in (self._store.setting(NETWORKS_SETTING, []) or [])]

    def set_saved_networks(self, cidrs: Sequence[str]) -> list[str]:
        """The GUI setting. Raises InvalidInput naming the first bad entry."""
        clean = [str(net) for net in parse_networks(c for c in cidrs if str(c).strip())]
        self._store.set_setting(NETWORKS_SETTING, clean)
        for callback in self._on_networks:
            callback()
        return clean

    def policy(self) -> AddressPolicy:
        return AddressPolicy.of(self.allowed_networks())

    # --- subscriptions ---------------------------------------------------------------------
    def subscribe(self, event: Any, target_url: Any) -> CreatedWebhook:
        if not isinstance(event, str) or event not in VENDOR_EVENTS:
            raise InvalidInput(f"Unknown event {str(event)[:40]!r}; subscribe to one of "
                               f"{', '.join(VENDOR_EVENTS)}.")
        url = check_target_url(target_url, self.policy())
        hook = Webhook(id=new_id("whk"), event=event, target_url=url, created_at=to_iso(self._now()))
        secret = signing.new_secret()
        # The secret is stored first: a subscription never exists without its secret.
        self._secrets.set(hook.id, secret)
        if not self._hooks.insert(hook, MAX_SUBSCRIPTIONS):
            self._secrets.delete(hook.id)
            raise SubscriptionLimit(f"This organisation already has {MAX_SUBSCRIPTIONS} webhook "
                                    f"subscriptions, the most allowed; delete one first.")
        return CreatedWebhook(hook, secret)

    def webhook(self, webhook_id: Any) -> Webhook:
        found = self._hooks.get(webhook_id) if isinstance(webhook_id, str) else None
        if found is None:
            raise NotFound(f"No webhook subscription has id {str(webhook_id)[:64]!r}.")
        return found

    def list_webhooks(self) -> list[Webhook]:
        return self._hooks.list()

    def counts(self, webhook_id: str) -> dict[str, int]:
        """Deliveries of a subscription by state: pending, succeeded, failed."""
        return self._hooks.counts(webhook_id)

    def webhook_states(self) -> list[WebhookState]:
        states = []
        for hook in self._hooks.list():
            counts = self._hooks.counts(hook.id)
            states.append(WebhookState(hook, counts["pending"], counts["succeeded"], counts["failed"]))
        return states

    def delete_webhook(self, webhook_id: Any) -> bool:
        """Unsubscribe; True when a live subscription was deleted now. Deleting one that is
        already gone (or never was) succeeds too: Zapier replays unsubscribes, and "gone" is
        the state asked for. Its queued and in-flight deliveries are stopped; its delivery log
        stays readable for KEEP_DELETED."""
        if not isinstance(webhook_id, str) or not webhook_id.strip() or len(webhook_id) > 64:
            raise InvalidInput("Give the id of the webhook subscription to delete (whk_…).")
        now = self._now()
        deleted = self._hooks.delete(webhook_id, reason="Deleted (unsubscribed).",
                                     now_iso=to_iso(now), purge_before=to_iso(now - KEEP_DELETED))
        if deleted:
            self._secrets.delete(webhook_id)
            for callback in self._on_delete:
                callback(webhook_id)
        return deleted

    def enable_webhook(self, webhook_id: Any) -> Webhook:
        """Re-enable a disabled subscription; its failure count starts again at zero."""
        hook = self.webhook(webhook_id)
        self._hooks.enable(hook.id)
        self._changed()
        return self.webhook(hook.id)

    def deliveries(self, webhook_id: Any, limit: int = 50) -> list[Delivery]:
        """A subscription's recent deliveries; a deleted one's too, while its log is kept."""
        found = self._hooks.get(webhook_id, deleted=True) if isinstance(webhook_id, str) else None
        if found is None:
            raise NotFound(f"No webhook subscription has id {str(webhook_id)[:64]!r} (a deleted "
                           f"one's delivery log is kept for {KEEP_DELETED.days} days).")
        return self._hooks.deliveries(found.id, max(1, min(int(limit), 500)))

    def delivery(self, delivery_id: Any) -> Delivery:
        found = self._hooks.delivery(delivery_id) if isinstance(delivery_id, str) else None
        if found is None:
            raise NotFound(f"No webhook delivery has id {str(delivery_id)[:64]!r}.")
        return found

    def attempts(self, delivery_id: Any) -> list[Attempt]:
        return self._hooks.attempts(self.delivery(delivery_id).id)

    def resend(self, delivery_id: Any) -> Delivery:
        """Send a delivery again now (whatever its state), with fresh automatic retries.
        A delivery of a disabled subscription waits until the subscription is re-enabled."""
        found = self.delivery(delivery_id)
        if not self._hooks.resend(found.id, self._clock()):
            raise Conflict("That delivery's subscription was deleted, so it cannot be sent again; "
                           "subscribe again to receive new events.")
        self._changed()
        return self.delivery(found.id)

    # --- polling ---------------------------------------------------------------------------
    def triggers(self, *, event: str | None = None, since: str | None = None,
                 limit: int = DEFAULT_TRIGGERS, cursor: str | None = None) -> Page:
        """Vendor events newest first (see store.triggers.recent_events for the order)."""
        if event is not None and event not in VENDOR_EVENTS:
            raise InvalidInput(f"Unknown event {event[:40]!r}; use one of {', '.join(VENDOR_EVENTS)}.")
        if not 1 <= limit <= MAX_TRIGGERS:
            raise InvalidInput(f"limit must be between 1 and {MAX_TRIGGERS}.")
        since_iso = normalize_iso(since) if since else None
        position: tuple[str, str] | None = None
        if cursor:
            stamp, sep, event_id = cursor.partition("|")
            if not sep or not event_id or len(cursor) > 200:
                raise InvalidInput("That cursor is not one this API gave out; start again without it.")
            position = (stamp, event_id)
        return recent_events(self._store, event=event, since=since_iso, limit=limit, cursor=position)


class SubscriptionLimit(Conflict):
    """The organisation has the most subscriptions allowed."""
