"""Ending tasks for sure (station/net/sync/cancelling.py): a cancellation lost by
`asyncio.wait_for` on Python 3.11 is asked again, and a wait for a write to finish is not cut
short by a cancellation asked again."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest

from station.net.sync.cancelling import cancel_and_wait, wait_out


async def _idle_part(woken: asyncio.Event, rounds: list[int]) -> None:
    """Loops as the publisher does: waits for a wake-up with a timeout, then goes round again."""
    while True:
        try:
            await asyncio.wait_for(woken.wait(), 3600)
        except asyncio.TimeoutError:
            pass
        woken.clear()
        rounds.append(1)


async def _idle_part_cancelled_as_it_wakes() -> tuple[asyncio.Task[None], list[int]]:
    """The race: an idle part's wake-up and its cancellation reach the loop in the same turn.
    Returns the part (0.2 s later) and its rounds: one more if the cancellation was lost."""
    woken, rounds = asyncio.Event(), list[int]()
    part = asyncio.create_task(_idle_part(woken, rounds))
    await asyncio.sleep(0)
    woken.set()
    await asyncio.sleep(0)  # the inner wait finishes...
    part.cancel()  # ...and the cancellation comes before wait_for has seen it
    await asyncio.wait({part}, timeout=0.2)
    return part, rounds


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="wait_for keeps cancellations from 3.12")
def test_on_this_python_wait_for_loses_a_cancellation_that_comes_as_its_wait_ends() -> None:
    async def main() -> None:
        part, rounds = await _idle_part_cancelled_as_it_wakes()
        assert not part.done() and rounds  # cancelled once, it went round again
        part.cancel()
        await asyncio.wait({part})
    asyncio.run(main())


def test_cancel_and_wait_ends_a_task_that_lost_its_cancellation() -> None:
    async def main() -> None:
        part, rounds = await _idle_part_cancelled_as_it_wakes()
        assert part.done() or rounds  # lost (on 3.11), as in the test above
        await asyncio.wait_for(cancel_and_wait({part}, every_s=0.01), 60)
        assert part.cancelled()
    asyncio.run(main())


def test_cancel_and_wait_is_not_cut_short_by_cancelling_its_caller() -> None:
    async def main() -> None:
        gate = threading.Event()
        slow = asyncio.ensure_future(asyncio.to_thread(gate.wait, 60))

        async def part() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                await wait_out(slow)  # a write under way finishes first

        task = asyncio.create_task(part())
        await asyncio.sleep(0)
        ender = asyncio.create_task(cancel_and_wait({task}, every_s=0.01))
        await asyncio.sleep(0.05)
        ender.cancel()  # cancelled again and again while the part waits for its write
        await asyncio.sleep(0.05)
        ender.cancel()
        await asyncio.sleep(0.05)
        assert not ender.done() and not task.done()
        gate.set()
        await asyncio.wait({ender})
        assert task.cancelled() and slow.done()
        assert ender.cancelled()  # its own cancellation was put off, not lost
    asyncio.run(main())


def test_wait_out_waits_through_cancellations_and_raises_one_after() -> None:
    async def main() -> None:
        gate = threading.Event()
        write = asyncio.ensure_future(asyncio.to_thread(gate.wait, 60))
        waiting = asyncio.create_task(wait_out(write))
        for _ in range(3):
            await asyncio.sleep(0.02)
            waiting.cancel()
        await asyncio.sleep(0.02)
        assert not waiting.done()
        gate.set()
        await asyncio.wait({waiting})
        assert waiting.cancelled() and write.done()
    asyncio.run(main())
