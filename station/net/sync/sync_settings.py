"""The sync client's tunables, in one frozen value handed to each of its parts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SyncSettings:
    claim_timeout_s: float = 0.15
    publish_batch: int = 500
    fetch_batch: int = 500  # events per transaction once in sync
    # While downloading the history, what has already arrived is applied in one transaction of
    # up to this many events (fewer, larger transactions and worker round trips).
    catch_up_batch: int = 10000
    # (services/sync_apply.py writes it in small steps a door's scan can go between.)
    # A history batch at least this big is prepared in a worker process (prepare.py): below
    # it, starting the worker costs more than it saves.
    worker_min_batch: int = 1000
    # Messages delivered but not applied yet; beyond this the delivery waits (flow control).
    inbox_limit: int = 20000
    heartbeat_s: float = 5.0  # the ordered consumer's idle heartbeat (a silent hub is noticed)
    announce_interval_s: float = 2.0
    reconnect_wait_s: float = 1.0
    publish_timeout_s: float = 5.0
    # How often the publisher's progress is written to SQLite. Between two checkpoints it is
    # kept in memory only: a crash re-publishes at most this much, which is harmless (same
    # Nats-Msg-Id, and every consumer inserts-or-ignores by event id), while writing it after
    # every acknowledged batch cost the door one extra fsync'd transaction per scan.
    checkpoint_interval_s: float = 1.0
    publish_linger_s: float = 0.02
    # With nothing to send, the publisher reads the log again this often even without a
    # wake-up (a wake-up from a recording thread is what normally starts a round).
    publish_idle_s: float = 1.0
    # Nothing delivered for this long while connected: what the hub holds is here (caught up).
    quiet_caught_up_s: float = 1.0
    # How long events below a publish round's top wait for their signed top (round_tops.py)
    # before they are checked as they are (and refused, uncovered). Longer than the stream's
    # two-minute duplicate window: a door that stopped mid-round and starts again within it
    # publishes the round again (dropped as duplicates) with the top that covers them; one that
    # starts later has its copies stored again, and those are applied.
    round_top_wait_s: float = 300.0
