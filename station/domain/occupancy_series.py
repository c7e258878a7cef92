"""Inside now per list over the evening, for the Stats chart: a line per list, one point per
15-minute slot. Pure: the store brings each slot's net movement per list (accepted entries +1,
exits -1, undone scans left out), the check-outs in the window and the counts now.

Each line ends at the list's count now (exact) and is walked back slot by slot by the net
movement, down to the slot of the list's last check-out in the window; before that slot it is
walked forward from 0, each earlier check-out setting it to 0 again (slot by slot: a check-out
and the movements of its own slot are not ordered). Never below 0."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Move = tuple[str, str, int]  # slot start (ISO, UTC), list id ('' for no list), net movement


def slot_of(iso: str) -> str:
    """The 15-minute slot an ISO time (UTC, ...Z) falls in: '2026-06-01T18:15:00Z'."""
    minute = int(iso[14:16]) // 15 * 15
    return f"{iso[:14]}{minute:02d}:00Z"


def occupancy_series(now: Mapping[str, int], moves: Sequence[Move],
                     checkouts: Sequence[tuple[str, str | None]],
                     slots: Sequence[str]) -> dict[str, list[int]]:
    """`checkouts`: (at, list id or None for the venue); `slots`: the window, oldest first.
    Every list with a count now or a movement in the window gets a line."""
    net: dict[tuple[str, str], int] = {}
    for slot, list_id, delta in moves:
        net[(slot, list_id)] = net.get((slot, list_id), 0) + delta
    lists = sorted({*now, *(list_id for _, list_id, _ in moves)})
    reset: dict[str, set[str]] = {}
    for at, of_list in checkouts:
        reset.setdefault(slot_of(at), set()).add("*" if of_list is None else of_list)
    series: dict[str, list[int]] = {}
    for list_id in lists:
        hits = [i for i, slot in enumerate(slots)
                if list_id in reset.get(slot, ()) or "*" in reset.get(slot, ())]
        # From the last check-out on, back from the count now (exact at the end, whatever the
        # order of movements and the check-out inside its slot); before it, forward from 0.
        last = hits[-1] if hits else 0
        line = [0] * len(slots)
        value = 0
        for i in range(last):
            if i in hits:
                value = 0
            value = max(0, value + net.get((slots[i], list_id), 0))
            line[i] = value
        value = now.get(list_id, 0)
        for i in range(len(slots) - 1, last - 1, -1):
            line[i] = value
            value = max(0, value - net.get((slots[i], list_id), 0))
        series[list_id] = line
    return series
