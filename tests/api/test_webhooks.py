"""The webhook sender against a real local receiver, inside a running station."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
from datetime import datetime

import pytest
import standardwebhooks

from station.net.sender import RetryPolicy, SenderConfig
from station.store.webhooks import WebhookStore
from tests.api.conftest import FAST, StationFactory, wait_until
from tests.api.receiver import Receiver


def deliveries(station, webhook_id: str):
    return station.integrations.deliveries(webhook_id)


def test_a_delivery_is_signed_both_ways(make_station: StationFactory, receiver: Receiver) -> None:
    station = make_station()
    created = station.integrations.subscribe("pass.created", receiver.url("/ok"))
    p = station.core.passes.create(station.core.passes.validate("VIP Guest"))
    [got] = receiver.wait_for("/ok", 1)
    payload = got.json()
    assert set(payload) == {"id", "event", "timestamp", "data"}
    assert payload["event"] == "pass.created" and payload["data"]["code"] == p.code
    [event] = [e for e in station.core.store.events_for_pass(p.id) if e.type == "pass.created"]
    assert payload == event.to_payload()  # the event's own id, timestamp and data
    assert got.headers["x-2pass-event"] == "pass.created"
    expected = hmac.new(created.secret.encode(), got.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(got.headers["x-passengine-signature"], expected)
    # Standard Webhooks: verified by the reference implementation
    verified = standardwebhooks.Webhook(created.secret).verify(got.body, got.headers)
    assert verified["id"] == payload["id"] == got.headers["webhook-id"]
    state = wait_until(lambda: [d for d in deliveries(station, created.webhook.id) if d.state == "succeeded"])
    [log] = station.integrations.attempts(state[0].id)
    assert log.status == 200 and log.duration_ms > 0 and log.response.startswith('{"received":true}')
    assert len(log.response) <= 512


def test_retries_then_success_and_every_attempt_is_logged(make_station: StationFactory,
                                                          receiver: Receiver) -> None:
    station = make_station()
    hook = station.integrations.subscribe("client.created", receiver.url("/flaky", "500", "reset", "200")).webhook
    station.core.clients.create("Ada")
    got = receiver.wait_for("/flaky", 3)
    assert len({r.json()["id"] for r in got}) == 1  # the same event id every time
    [d] = wait_until(lambda: [d for d in deliveries(station, hook.id) if d.state == "succeeded"])
    log = station.integrations.attempts(d.id)
    assert [a.status for a in log] == [500, None, 200]
    assert "500" in (log[0].error or "") and log[1].error
    assert station.integrations.webhook(hook.id).consecutive_failures == 0


@pytest.mark.allow_log("station.net.sender", "answered 410 Gone")
def test_410_deletes_the_subscription_at_once(make_station: StationFactory, receiver: Receiver) -> None:
    station = make_station()
    hook = station.integrations.subscribe("client.created", receiver.url("/gone", "410")).webhook
    station.core.clients.create("Ada")
    wait_until(lambda: not station.integrations.list_webhooks(), timeout=60, what="deleted")
    assert len(receiver.at("/gone")) == 1  # no retries after 410
    [d] = deliveries(station, hook.id)  # its log stays readable for a while
    assert d.state == "failed" and d.attempts == 1 and "410" in (d.last_error or "")


@pytest.mark.allow_log("station.net.sender", "was disabled")
def test_five_failed_deliveries_disable_and_a_success_resets(make_station: StationFactory,
                                                             receiver: Receiver) -> None:
    station = make_station()
    hook = station.integrations.subscribe("client.created", receiver.url("/down", "500")).webhook
    # Four deliveries fail (each after 1 + 3 retries), then one succeeds: the count resets.
    for i in range(4):
        station.core.clients.create(f"A{i}")
    wait_until(lambda: station.integrations.webhook(hook.id).consecutive_failures == 4, what="4 failures")
    assert len(receiver.at("/down")) == 16  # 4 deliveries × 4 attempts
    receiver.scripts["/down"] = ["200"]
    station.core.clients.create("B")
    wait_until(lambda: station.integrations.counts(hook.id)["succeeded"] == 1, what="success")
    assert station.integrations.webhook(hook.id).consecutive_failures == 0
    receiver.scripts["/down"] = ["500"]
    for i in range(5):
        station.core.clients.create(f"C{i}")
    wait_until(lambda: not station.integrations.webhook(hook.id).enabled, what="auto-disable")
    state = station.integrations.webhook(hook.id)
    assert state.consecutive_failures == 5 and "5 failed deliveries" in (state.disabled_reason or "")
    # Re-enabled, it sends again; a resent failed delivery succeeds and resets the count.
    receiver.scripts["/down"] = ["200"]
    failed = [d for d in deliveries(station, hook.id) if d.state == "failed"][0]
    station.integrations.enable_webhook(hook.id)
    station.integrations.resend(failed.id)
    wait_until(lambda: station.integrations.delivery(failed.id).state == "succeeded", what="resend")
    assert station.integrations.webhook(hook.id).enabled


def test_retry_after_is_honoured_within_bounds(make_station: StationFactory, receiver: Receiver) -> None:
    station = make_station()
    hook = station.integrations.subscribe("client.created", receiver.url("/busy", "429:7", "200")).webhook
    station.core.clients.create("Ada")
    receiver.wait_for("/busy", 1)
    [d] = wait_until(lambda: [d for d in deliveries(station, hook.id) if d.attempts == 1])
    attempted = datetime.fromisoformat(station.integrations.attempts(d.id)[0].attempted_at.replace("Z", "+00:00"))
    # The schedule says 0.05 s here; the receiver asked for 7 s, which is within bounds.
    assert d.state == "pending" and d.next_attempt_at - attempted.timestamp() >= 6.9
    policy = RetryPolicy()
    assert policy.delay(1, 10_000, random.Random(1)) == policy.max_retry_after


def test_hang_past_the_timeout_and_redirects(make_station: StationFactory, receiver: Receiver) -> None:
    station = make_station()
    hang = station.integrations.subscribe("client.created", receiver.url("/hang", "hang")).webhook
    moved = station.integrations.subscribe("client.created", receiver.url("/moved", "redirect")).webhook
    station.core.clients.create("Ada")
    wait_until(lambda: all(station.integrations.counts(h.id)["failed"] == 1 for h in (hang, moved)),
               what="both deliveries to fail")
    [d] = deliveries(station, hang.id)
    assert all("No answer within" in (a.error or "") for a in station.integrations.attempts(d.id))
    [d] = deliveries(station, moved.id)
    assert all(a.status == 302 and "redirects are not followed" in (a.error or "")
               for a in station.integrations.attempts(d.id))
    assert receiver.at("/ok") == []  # the redirect was never followed


# The receiver stops before the station at teardown: the hung requests then fail, the fast retry
# schedule runs out against a closed port, and the dead subscription is disabled, as it should be.
# Whether that lands before the station stops is a race (CI once logged it at teardown).
@pytest.mark.allow_log("station.net.sender", "was disabled")
def test_a_dead_subscription_does_not_hold_up_the_others(make_station: StationFactory,
                                                         receiver: Receiver) -> None:
    config = SenderConfig(retry=FAST.retry, timeout=30.0, poll_interval=0.05)
    station = make_station(sender=config)
    station.integrations.subscribe("client.created", receiver.url("/hang", "hang"))
    live = [station.integrations.subscribe("client.created", receiver.url(f"/live{i}", "200")).webhook
            for i in range(8)]
    for i in range(20):
        station.core.clients.create(f"Guest {i}")
    # Every live subscription gets all 20 while the dead one still hangs on its first requests.
    for i in range(8):
        assert len(receiver.wait_for(f"/live{i}", 20)) == 20
    assert len(receiver.at("/hang")) <= config.per_subscription
    wait_until(lambda: all(station.integrations.counts(h.id)["succeeded"] == 20 for h in live),
               what="20 successes per live subscription")


def test_the_address_is_checked_again_at_send_time(make_station: StationFactory,
                                                   receiver: Receiver) -> None:
    station = make_station()
    hook = station.integrations.subscribe("client.created", receiver.url("/ok")).webhook
    # The allowance is withdrawn after subscribing (the CLI flag gone, the setting cleared).
    station.integrations._cli_networks = ()
    station.integrations.set_saved_networks([])
    station.core.clients.create("Ada")
    [d] = wait_until(lambda: [d for d in deliveries(station, hook.id) if d.state == "failed"], what="refusal")
    assert all("private, loopback" in (a.error or "") for a in station.integrations.attempts(d.id))
    assert receiver.at("/ok") == []


@pytest.mark.parametrize("host", ["[::127.0.0.1]", "[64:ff9b::7f00:1]", "[2002:7f00:1::]",
                                  "[::ffff:127.0.0.1]"])
def test_ipv6_forms_of_a_refused_ipv4_address_are_refused_at_send_time(
        make_station: StationFactory, receiver: Receiver, host: str) -> None:
    station = make_station()  # 127.0.0.0/8 allowed: the subscription is accepted
    port = receiver.url("/ok").rsplit(":", 1)[1].split("/")[0]
    hook = station.integrations.subscribe("client.created", f"http://{host}:{port}/ok").webhook
    station.integrations._cli_networks = ()
    station.integrations.set_saved_networks([])
    station.core.clients.create("Ada")
    [d] = wait_until(lambda: [d for d in deliveries(station, hook.id) if d.state == "failed"],
                     timeout=60, what="refusal")
    errors = [a.error or "" for a in station.integrations.attempts(d.id)]
    assert errors and all("carries the IPv4 address 127.0.0.1" in e for e in errors), errors
    assert receiver.at("/ok") == []


def test_the_vendor_retry_schedule_with_a_fake_clock(make_station: StationFactory,
                                                     receiver: Receiver) -> None:
    now = [1_800_000_000.0]
    lock = threading.Lock()

    def clock() -> float:
        with lock:
            return now[0]

    def advance(seconds: float) -> None:
        with lock:
            now[0] += seconds

    config = SenderConfig(poll_interval=0.02, timeout=1.0)  # the real 1 s / 30 s / 5 min schedule
    station = make_station(sender=config)
    station.sender._clock = clock  # the sender's time source, injected
    hook = station.integrations.subscribe("client.created", receiver.url("/down", "500")).webhook
    station.core.clients.create("Ada")
    store = WebhookStore(station.core.store)
    gaps = []
    for attempt, expected in enumerate((1.0, 30.0, 300.0), start=1):
        [d] = wait_until(lambda: [d for d in store.deliveries(hook.id) if d.attempts == attempt])
        gap = d.next_attempt_at - clock()
        gaps.append(gap)
        assert expected <= gap <= expected * 1.1 + 0.001  # + at most 10 % jitter
        assert len(receiver.at("/down")) == attempt  # not sent again before its time
        advance(gap)
    [d] = wait_until(lambda: [d for d in store.deliveries(hook.id) if d.attempts == 4])
    assert d.state == "failed" and len(receiver.at("/down")) == 4
    advance(3600)
    assert len(receiver.at("/down")) == 4


def test_events_recorded_by_another_process_are_sent(make_station: StationFactory, receiver: Receiver,
                                                     cli) -> None:
    station = make_station()
    station.integrations.subscribe("client.created", receiver.url("/ok"))
    out = json.loads(cli("clients", "create", "--name", "From the CLI", "--json").stdout)
    [got] = receiver.wait_for("/ok", 1)
    assert got.json()["data"]["id"] == out["id"]
