"""A refusal at the door: the reason code (the API's `reason`) and the sentence the door reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from station.domain.models import Reason


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: Reason
    message: str  # one sentence: what happened and what to do
    retry_at: datetime | None = None  # when the same pass would be let in, if known
    rule: int | None = None  # for Reason.ENTRY_RULE: the index of the refusing rule
