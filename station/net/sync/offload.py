"""Running a blocking store call from the sync loop without leaving it half done."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from station.net.sync.cancelling import wait_out


async def finish_in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run a store write in a thread; on cancellation let it finish (it commits or rolls back)
    before giving up, so stopping never leaves a thread calling into a closed loop. A
    cancellation asked again meanwhile (cancelling.py) does not cut that wait short."""
    future = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await wait_out(future)
        raise
