"""Events below a publish round's signed top wait for it (docs/sync-trust.md, "Rounds").

A publisher signs only the last event of each round it publishes (and the last of each chain
segment); the events below carry their link only (`prev`), which that signature covers. So a
receiver checks such an event only together with its top: the follower holds back, from each
publishing station's subject, the link-only messages after its last top in what has arrived,
until the top arrives (the publisher sends it right behind them). The stored stream position
stays before the first message held back, so a restart delivers them again (applying again is
idempotent by event id). Held back for longer than `SyncSettings.round_top_wait_s`, they are
checked as they are: an event no verified signature covers is refused, never applied on trust.

The worker that prepares a download checks its parts of a batch apart, so a part also ends only
where no station's round is open (`clean_parts`).
"""

from __future__ import annotations

from collections.abc import Sequence

from nats.aio.msg import Msg

from station.net.sync.wire import carries_link_only


def open_rounds(subjects: Sequence[str], data: Sequence[bytes], own_subject: str = ""
                ) -> dict[str, int]:
    """For each subject whose last message is link-only: the index of its first link-only
    message after its last top (this station's own subject left out: echoes are skipped)."""
    open_at: dict[str, int] = {}
    for i, (subject, raw) in enumerate(zip(subjects, data, strict=True)):
        if subject == own_subject:
            continue
        if carries_link_only(raw):
            open_at.setdefault(subject, i)
        else:
            open_at.pop(subject, None)
    return open_at


def clean_parts(data: Sequence[bytes], senders: Sequence[str] | None, size: int
                ) -> list[tuple[int, int]]:
    """(start, end) of parts of at least `size` messages (but the last), each ending where no
    sender's round is open, so each round is checked with its top."""
    if not senders:
        return [(i, min(i + size, len(data))) for i in range(0, max(len(data), 1), size)]
    parts: list[tuple[int, int]] = []
    start = 0
    open_: set[str] = set()
    for i, raw in enumerate(data):
        if carries_link_only(raw):
            open_.add(senders[i])
        else:
            open_.discard(senders[i])
        if i + 1 - start >= size and not open_:
            parts.append((start, i + 1))
            start = i + 1
    if start < len(data) or not parts:
        parts.append((start, len(data)))
    return parts


class HeldBack:
    """The follower's messages waiting for their round's top, for one subscription."""

    def __init__(self, wait_s: float, own_subject: str) -> None:
        self.msgs: list[Msg] = []
        self.last_seen = 0  # stream sequence of the last message taken
        self._wait_s = wait_s
        self._own_subject = own_subject
        # subject -> (the first message of its open round, when it was held back first). Each
        # subject waits on its own: one that never sends a top (a forger's) lets go of its own
        # messages only, not of another station's round whose top is on its way.
        self._since: dict[str, tuple[Msg, float]] = {}

    def expired(self, now: float) -> bool:
        return any(now - at >= self._wait_s for _, at in self._since.values())

    def take(self, msgs: list[Msg], now: float) -> list[Msg]:
        """What to decode now, of the messages held back and `msgs` (which follow them); the
        rest stays held back, each subject's for at most the wait."""
        if msgs:
            self.last_seen = msgs[-1].metadata.sequence.stream
        whole = self.msgs + msgs if self.msgs else msgs
        open_at = open_rounds([m.subject for m in whole], [m.data for m in whole],
                              self._own_subject)
        since: dict[str, tuple[Msg, float]] = {}
        for subject, i in open_at.items():
            before = self._since.get(subject)
            at = before[1] if before is not None and before[0] is whole[i] else now
            if now - at < self._wait_s:  # else checked as it is now (and refused)
                since[subject] = (whole[i], at)
        self._since = since
        if not since:
            self.msgs = []
            return whole
        keep: list[Msg] = []
        back: list[Msg] = []
        for i, msg in enumerate(whole):
            held = msg.subject in since and i >= open_at[msg.subject]
            (back if held else keep).append(msg)
        self.msgs = back
        return keep

    def first_held(self) -> int | None:
        """The stream sequence of the first message held back (None: none is)."""
        return self.msgs[0].metadata.sequence.stream if self.msgs else None
