"""Running a blocking store call from the sync loop without leaving it half done."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def finish_in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run a store write in a thread; on cancellation let it finish (it commits or rolls back)
    before giving up, so stopping never leaves a thread calling into a closed loop."""
    future = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        raise
