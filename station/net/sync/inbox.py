"""What the push subscription has delivered and the follower has not taken yet."""

from __future__ import annotations

import asyncio
from typing import Any

from nats.aio.msg import Msg


class Inbox:
    """Everything here runs on the loop thread. The callback only appends (the per-message
    Python cost is what bounds a catch-up); when `limit` messages wait, it waits for room, which
    holds back nats-py's delivery task and so the server's flow control: memory stays bounded."""

    def __init__(self, limit: int) -> None:
        self.msgs: list[Msg] = []
        self.limit = limit
        self.arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.subscription: Any = None  # to tell our slow-consumer errors from others'
        # Why this subscription must be made again from the stored position (None: it need not).
        self.refollow: str | None = None

    async def on_msg(self, msg: Msg) -> None:
        self.msgs.append(msg)
        self.arrived.set()
        if len(self.msgs) >= self.limit:
            self._room.clear()
            await self._room.wait()

    def take(self, n: int) -> list[Msg]:
        taken = self.msgs[:n]
        del self.msgs[:n]
        if len(self.msgs) < self.limit:
            self._room.set()
        return taken

    def follow_again(self, why: str) -> None:
        """Drop what is buffered and start again from the stored position (a delivery may have
        been lost: nothing after it may be applied)."""
        self.refollow = why
        self.msgs.clear()
        self.arrived.set()
        self._room.set()

    def close(self) -> None:
        self.refollow = self.refollow or "closed"
        self.msgs.clear()
        self._room.set()
