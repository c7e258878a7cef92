"""Removing a subscription: a 410 Gone from the target deletes it (Zapier's REST-hook rule), and
deleting one while its deliveries are in flight is a normal path (Zapier unsubscribes whenever a
Zap is turned off): no error, nothing of the other subscriptions sent twice."""

from __future__ import annotations

import logging
from collections import Counter

import httpx
import pytest

from station.net.sender import SenderConfig
from station.store.webhooks import Outcome, WebhookStore
from tests.api.conftest import FAST, StationFactory, wait_until
from tests.api.receiver import Receiver


@pytest.mark.allow_log("station.net.sender", "answered 410 Gone")
def test_410_deletes_the_subscription_and_keeps_its_log(make_station: StationFactory,
                                                        receiver: Receiver) -> None:
    station = make_station()
    integrations = station.integrations
    assert integrations is not None and integrations.api_address
    gone = integrations.subscribe("client.created", receiver.url("/gone", "410")).webhook
    live = [integrations.subscribe("client.created", receiver.url(f"/live{i}")).webhook
            for i in range(9)]
    for i in range(6):
        station.core.clients.create(f"Guest {i}")
    wait_until(lambda: integrations.list_webhooks() and gone.id not in
               {h.id for h in integrations.list_webhooks()}, timeout=60, what="the 410 deletion")
    for i in range(9):
        receiver.wait_for(f"/live{i}", 6, timeout=60)
    # Deleted, so the tenth place is free again (1 gone + 9 live used to refuse the next Zap).
    key = integrations.keys.create("zap", rate_limit=100_000).secret
    with httpx.Client(base_url=integrations.api_address,
                      headers={"authorization": f"Bearer {key}"}) as api:
        assert gone.id not in [h["id"] for h in api.get("/api/v1/webhooks").json()["items"]]
        assert api.get(f"/api/v1/webhooks/{gone.id}").status_code == 404
        tenth = api.post("/api/v1/webhooks", json={"event": "pass.created",
                                                   "targetUrl": receiver.url("/tenth")})
        assert tenth.status_code == 201, tenth.text
        # Its delivery log stays readable: the 410 attempt, the rest cancelled, never sent.
        log = api.get(f"/api/v1/webhooks/{gone.id}/deliveries").json()["items"]
    assert len(log) == 6
    sent = len(receiver.at("/gone"))
    assert 1 <= sent <= station.sender.config.per_subscription  # at most those already in flight
    assert any(a["status"] == 410 for d in log for a in d["log"])
    assert {d["state"] for d in log} <= {"failed", "cancelled"}
    assert sum(d["state"] == "cancelled" for d in log) >= 6 - sent
    # Nothing more goes out for it, also after new events.
    station.core.clients.create("Later")
    receiver.wait_for("/live0", 7, timeout=60)
    assert len(receiver.at("/gone")) == sent
    assert all(integrations.counts(h.id)["succeeded"] >= 6 for h in live)


def test_deleting_while_deliveries_are_in_flight(make_station: StationFactory, receiver: Receiver,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    # A slow receiver holds every request until released; 30 s timeout so none times out.
    station = make_station(sender=SenderConfig(retry=FAST.retry, timeout=30.0, poll_interval=0.05))
    integrations = station.integrations
    assert integrations is not None and integrations.api_address
    doomed = integrations.subscribe("client.created", receiver.url("/doomed", "hold")).webhook
    others = [integrations.subscribe("client.created", receiver.url(f"/slow{i}", "hold")).webhook
              for i in range(3)]
    for i in range(10):  # 40 deliveries across 4 subscriptions
        station.core.clients.create(f"Guest {i}")
    receiver.wait_for("/doomed", 1, timeout=60)  # its first requests are in flight
    key = integrations.keys.create("zap", rate_limit=100_000).secret
    with caplog.at_level(logging.WARNING, logger="station"):
        with httpx.Client(base_url=integrations.api_address,
                          headers={"authorization": f"Bearer {key}"}) as api:
            assert api.delete(f"/api/v1/webhooks/{doomed.id}").status_code == 204
        receiver.release.set()
        for hook in others:
            wait_until(lambda h=hook: integrations.counts(h.id)["succeeded"] == 10, timeout=60,
                       what=f"10 deliveries to {hook.target_url}")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "IntegrityError" not in caplog.text
    for i, hook in enumerate(others):
        ids = Counter(r.json()["id"] for r in receiver.at(f"/slow{i}"))
        assert len(ids) == 10 and set(ids.values()) == {1}, ids  # each event exactly once
        assert integrations.counts(hook.id) == {"pending": 0, "succeeded": 10, "failed": 0}
    assert len(receiver.at("/doomed")) <= station.sender.config.per_subscription


def test_a_result_for_a_deleted_subscription_does_not_undo_the_batch(make_station: StationFactory,
                                                                      receiver: Receiver) -> None:
    station = make_station(sender=SenderConfig(poll_interval=3600))  # nothing sent by itself
    integrations = station.integrations
    assert integrations is not None
    a = integrations.subscribe("client.created", receiver.url("/a")).webhook
    b = integrations.subscribe("client.created", receiver.url("/b")).webhook
    station.sender.stop()
    station.core.clients.create("Ada")
    store = WebhookStore(station.core.store)
    [da] = store.deliveries(a.id)
    [db] = store.deliveries(b.id)
    integrations.delete_webhook(a.id)
    store.purge_deleted("9999")  # even with the tombstone and its deliveries gone

    def ok(d_id: str, hook_id: str) -> Outcome:
        return Outcome(delivery_id=d_id, webhook_id=hook_id, attempted_at="2026-06-01T18:00:00.000Z",
                       status=200, duration_ms=1.0, response="ok", error=None, succeeded=True,
                       next_attempt_at=None)

    store.record([ok(da.id, a.id), ok(db.id, b.id)], disable_after=5,
                 now_iso="2026-06-01T18:00:00.000Z", purge_before="2026-05-25T18:00:00.000Z")
    assert integrations.counts(b.id)["succeeded"] == 1
    assert len(integrations.attempts(db.id)) == 1
