"""What the rungs of one ladder climb work out about the same picture, worked out once.

Several rungs start from the same analysis of the picture: the finder, unbend and regrid rungs
search it for finder patterns (16 ms median, 67 ms p95 a 720p frame on the slow machine), the
defocus and disc rungs estimate its blur (~10 ms). Within `one_climb()` (DecodeLadder.decode),
`once(fn, picture)` calls `fn` once a picture and hands every later caller the same answer; outside
it, every call computes. A picture is known by its identity and held while the climb lasts, so
its id is not reused for another; the pictures must not change within the climb.

A rung can also leave notes on a picture for a later rung of the same climb (`note`, `notes`): the
deconvolving rungs note the views the engine did not read, and the unsmeared rung reads them
through the grid (unsmeared_grid.py) without deconvolving again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar, cast

import numpy as np

T = TypeVar("T")

_answers: ContextVar[dict[tuple[int, int], tuple[object, np.ndarray, object]] | None] = ContextVar(
    "_answers", default=None)
_notes: ContextVar[dict[tuple[str, int], tuple[np.ndarray, list[object]]] | None] = ContextVar("_notes", default=None)


@contextmanager
def one_climb() -> Iterator[None]:
    """Within the block, `once` computes each function's answer for a picture once."""
    token, noted = _answers.set({}), _notes.set({})
    try:
        yield
    finally:
        _answers.reset(token)
        _notes.reset(noted)


def once(fn: Callable[[np.ndarray], T], picture: np.ndarray) -> T:
    """`fn(picture)`, computed once a picture within `one_climb()`. Callers must not change what
    it returns (copy a list before changing it)."""
    answers = _answers.get()
    if answers is None:
        return fn(picture)
    key = (id(fn), id(picture))
    held = answers.get(key)
    if held is not None and held[0] is fn and held[1] is picture:
        return cast(T, held[2])
    answer = fn(picture)
    answers[key] = (fn, picture, answer)  # fn and picture held: neither id is reused meanwhile
    return answer


def note(kind: str, picture: np.ndarray, item: object) -> None:
    """Leave `item` under `kind` on `picture` for a later rung of this climb (outside
    `one_climb()`, nothing is kept)."""
    notes = _notes.get()
    if notes is None:
        return
    key = (kind, id(picture))
    held = notes.get(key)
    if held is None or held[0] is not picture:
        notes[key] = held = (picture, [])  # the picture held: its id is not reused meanwhile
    held[1].append(item)


def notes(kind: str, picture: np.ndarray) -> list[object]:
    """What rungs of this climb noted under `kind` on `picture`, in order."""
    held = (_notes.get() or {}).get((kind, id(picture)))
    return list(held[1]) if held is not None and held[0] is picture else []
