"""The one writer (store/writer.py) over a real SQLite file: the order it runs jobs in, what a
failing job leaves, nesting, cancellation from asyncio, closing, and the inline mode.

Order is proven with jobs gated on threading.Events, never with timing: a gated job holds the
writer while the test queues others, then the gate opens and the order they ran in is read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station.store.db import Priority, Store, Tx
from station.store.writer import NestedWrite, WriterClosed
from station.store import writer

WAIT_S = 60.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    built = Store(tmp_path / "data")
    yield built
    built.close()


class Gate:
    """A job that holds the writer until the test opens the gate."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.open = threading.Event()

    def __call__(self, tx: Tx) -> str:
        self.running.set()
        assert self.open.wait(WAIT_S)
        return "gate"

    def hold(self, store: Store, priority: Priority = Priority.USER) -> None:
        store.submit(self, priority)
        assert self.running.wait(WAIT_S)


def recorder(ran: list[str], name: str) -> Callable[[Tx], str]:
    def job(tx: Tx) -> str:
        ran.append(name)
        tx.set_setting(f"job:{name}", True)
        return name
    return job


def test_a_door_job_runs_before_the_next_step_of_a_long_sync_job(store: Store) -> None:
    ran: list[str] = []
    gate = Gate()

    def first_step(tx: Tx) -> str:
        ran.append("step 1")
        return gate(tx)

    steps = store.submit_steps([first_step, recorder(ran, "step 2"), recorder(ran, "step 3")],
                               Priority.SYNC)
    assert gate.running.wait(WAIT_S)
    door = store.submit(recorder(ran, "door"), Priority.DOOR)
    later_sync = store.submit(recorder(ran, "later sync"), Priority.SYNC)
    gate.open.set()
    assert steps.result(WAIT_S) == ["gate", "step 2", "step 3"]
    assert door.result(WAIT_S) == "door" and later_sync.result(WAIT_S) == "later sync"
    # The door went first; the long job kept its place ahead of a SYNC job queued after it.
    assert ran == ["step 1", "door", "step 2", "step 3", "later sync"]


def test_jobs_of_one_priority_run_in_the_order_they_came(store: Store) -> None:
    ran: list[str] = []
    gate = Gate()
    gate.hold(store)
    futures = [store.submit(recorder(ran, "chores"), Priority.HOUSEKEEPING)]
    futures += [store.submit(recorder(ran, name), Priority.USER) for name in "abcde"]
    futures.append(store.submit(recorder(ran, "scan"), Priority.DOOR))
    gate.open.set()
    for future in futures:
        future.result(WAIT_S)
    assert ran == ["scan", "a", "b", "c", "d", "e", "chores"]


def test_a_failing_job_leaves_nothing_and_the_writer_serves_the_next(store: Store) -> None:
    def fails(tx: Tx) -> None:
        tx.set_setting("half", "written")
        raise ValueError("a bug in the job")

    with pytest.raises(ValueError, match="a bug in the job"):
        store.write(fails)
    assert store.setting("half") is None
    assert store.write(recorder([], "next")) == "next"
    assert store.setting("job:next") is True


def test_a_failing_step_rolls_back_its_transaction_and_runs_no_step_after(store: Store) -> None:
    ran: list[str] = []

    def fails(tx: Tx) -> None:
        tx.set_setting("half", "written")
        raise ValueError("step 2 failed")

    future = store.submit_steps([recorder(ran, "one"), fails, recorder(ran, "three")],
                                Priority.SYNC)
    with pytest.raises(ValueError, match="step 2 failed"):
        future.result(WAIT_S)
    # Nothing more urgent came: steps one and two shared a transaction, rolled back together.
    assert ran == ["one"] and store.setting("job:one") is None and store.setting("half") is None


def test_steps_committed_before_a_more_urgent_job_stay_when_a_later_step_fails(
        store: Store) -> None:
    ran: list[str] = []
    gate = Gate()

    def first_step(tx: Tx) -> str:
        ran.append("one")
        tx.set_setting("job:one", True)
        return gate(tx)

    def fails(tx: Tx) -> None:
        raise ValueError("step 2 failed")

    future = store.submit_steps([first_step, fails], Priority.SYNC)
    assert gate.running.wait(WAIT_S)
    door = store.submit(recorder(ran, "door"), Priority.DOOR)
    gate.open.set()
    assert door.result(WAIT_S) == "door"
    with pytest.raises(ValueError, match="step 2 failed"):
        future.result(WAIT_S)
    # The door's arrival made step one commit before the door ran: it stays.
    assert ran == ["one", "door"] and store.setting("job:one") is True


def test_steps_share_one_transaction_while_nothing_more_urgent_waits(store: Store) -> None:
    """A quiet station writes a history batch in one transaction (a commit per small step made
    a download three times slower): every step sees the same transaction, none committed."""
    seen: list[bool] = []

    def step(tx: Tx) -> int:
        # What another connection sees: nothing of this job until its single commit.
        seen.append(store.setting("job:step") is None)
        tx.set_setting("job:step", True)
        return len(seen)

    assert store.submit_steps([step] * 4, Priority.SYNC).result(WAIT_S) == [1, 2, 3, 4]
    assert seen == [True] * 4 and store.setting("job:step") is True


def _committed_before_each_step(store: Store, name: str) -> list[bool]:
    """Runs a 4-step SYNC job; for each step, whether another connection saw every earlier
    step's write already (it was committed) when the step began."""
    seen: list[bool] = []

    def step(tx: Tx) -> int:
        before = store.setting(f"job:{name}", 0)
        seen.append(before == len(seen))
        tx.set_setting(f"job:{name}", len(seen))
        return len(seen)

    assert store.submit_steps([step] * 4, Priority.SYNC).result(WAIT_S) == [1, 2, 3, 4]
    return seen


def test_while_the_door_is_busy_a_background_job_commits_after_every_step(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit a scan waits for then holds one step's pages, not every page written since
    the previous scan."""
    monkeypatch.setattr(writer, "DOOR_BUSY_S", 3600.0)  # busy for the whole test, however slow
    store.write(recorder([], "door"), Priority.DOOR)
    assert _committed_before_each_step(store, "busy") == [True] * 4


def test_once_the_door_is_quiet_steps_share_one_transaction_again(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "DOOR_BUSY_S", 0.0)  # quiet as soon as its job ended
    store.write(recorder([], "door"), Priority.DOOR)
    assert _committed_before_each_step(store, "quiet") == [True, False, False, False]


@pytest.mark.parametrize("inline", [False, True])
def test_a_write_from_inside_a_job_is_refused_not_a_deadlock(tmp_path: Path, inline: bool) -> None:
    store = Store(tmp_path / "data", inline_writes=inline)
    try:
        def nested(tx: Tx) -> None:
            tx.set_setting("outer", True)
            store.write(lambda inner: inner.set_setting("inner", True))

        with pytest.raises(NestedWrite, match="cannot submit another write"):
            store.write(nested)
        assert store.setting("outer") is None and store.setting("inner") is None
        store.set_setting("after", 1)  # the writer is still serving
        assert store.setting("after") == 1
    finally:
        store.close()


def test_a_cancelled_awrite_drops_a_job_not_started(store: Store) -> None:
    ran: list[str] = []
    gate = Gate()
    gate.hold(store)

    async def scenario() -> None:
        task = asyncio.ensure_future(store.awrite(recorder(ran, "dropped"), Priority.SYNC))
        await asyncio.sleep(0)  # the job is queued behind the gate
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    gate.open.set()
    assert store.write(recorder(ran, "after")) == "after"  # runs after anything queued before
    assert ran == ["after"] and store.setting("job:dropped") is None


def test_a_cancelled_awrite_waits_for_a_started_job_to_commit(store: Store) -> None:
    gate = Gate()
    finished: list[bool] = []

    def job(tx: Tx) -> None:
        gate(tx)
        tx.set_setting("started", "and committed")

    async def scenario() -> None:
        task = asyncio.ensure_future(store.awrite(job, Priority.SYNC))
        assert await asyncio.to_thread(gate.running.wait, WAIT_S)
        task.cancel()
        await asyncio.sleep(0)
        assert not task.done()  # still waiting for the job under way
        threading.Timer(0.05, gate.open.set).start()
        with pytest.raises(asyncio.CancelledError):
            await task
        finished.append(True)

    asyncio.run(scenario())
    assert finished and store.setting("started") == "and committed"


def test_close_runs_the_jobs_already_queued_then_refuses_new_ones(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    ran: list[str] = []
    gate = Gate()
    gate.hold(store)
    queued = [store.submit(recorder(ran, name), Priority.SYNC) for name in ("x", "y")]
    steps = store.submit_steps([recorder(ran, "s1"), recorder(ran, "s2")], Priority.HOUSEKEEPING)
    closing = threading.Thread(target=store.close)
    closing.start()
    gate.open.set()
    closing.join(WAIT_S)
    assert not closing.is_alive()
    assert [f.result(0) for f in queued] == ["x", "y"] and steps.result(0) == ["s1", "s2"]
    with pytest.raises(WriterClosed, match="closed"):
        store.submit(recorder(ran, "late"))
    reopened = Store(tmp_path / "data")
    try:
        assert all(reopened.setting(f"job:{n}") for n in ("x", "y", "s1", "s2"))
    finally:
        reopened.close()


def test_inline_writes_run_on_the_callers_thread_with_the_same_transactions(tmp_path: Path) -> None:
    store = Store(tmp_path / "data", inline_writes=True)
    try:
        threads: list[threading.Thread] = []

        def job(tx: Tx) -> int:
            threads.append(threading.current_thread())
            tx.set_setting("inline", True)
            return 7

        assert store.write(job, Priority.DOOR) == 7 and threads == [threading.current_thread()]
        with pytest.raises(ZeroDivisionError):
            store.write(lambda tx: (tx.set_setting("lost", True), 1 / 0))
        assert store.setting("inline") is True and store.setting("lost") is None
        assert store.submit_steps([job, job], Priority.SYNC).result(0) == [7, 7]
    finally:
        store.close()


def test_a_commit_without_fsync_puts_the_connection_back_to_full(store: Store) -> None:
    store.write(lambda tx: tx.set_setting("quick", 1), Priority.SYNC, fsync=False)
    assert store.write(lambda tx: tx.execute("PRAGMA synchronous").fetchone()[0]) == 2  # FULL
    store.checkpoint_soon()


def test_while_a_download_writes_no_commit_copies_the_wal_itself(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's automatic WAL copy is off from a commit without fsync (a download) until
    DEFER_CHECKPOINTS_S after the last one, so a door's commit never runs it; then it is on."""
    def autocheckpoint(tx: Tx) -> int:
        return int(tx.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    assert store.write(autocheckpoint, Priority.DOOR) == writer.WAL_AUTOCHECKPOINT
    store.write(lambda tx: tx.set_setting("batch", 1), Priority.SYNC, fsync=False)
    assert store.write(autocheckpoint, Priority.DOOR) == 0
    monkeypatch.setattr(writer, "DEFER_CHECKPOINTS_S", 0.0)  # the download is long over
    assert store.write(autocheckpoint, Priority.DOOR) == writer.WAL_AUTOCHECKPOINT
