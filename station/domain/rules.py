"""Verdict rules: may this pass enter now? Pure function of the pass state and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from station.domain.models import Pass, PassStatus, PassType, Reason, Verdict
from station.domain.times import parse_iso


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: Reason | None
    # The status the pass moves to because of this scan (e.g. single -> used), if any.
    new_status: PassStatus | None = None
    # The status change the clock alone implies (validUntil passed), recorded even on refusal.
    expire: bool = False


def is_past_validity(p: Pass, now: datetime) -> bool:
    return p.valid_until is not None and now > parse_iso(p.valid_until)


def decide(p: Pass, now: datetime) -> Decision:
    if p.status is PassStatus.REVOKED:
        return Decision(Verdict.REJECTED, Reason.REVOKED)
    if p.status is PassStatus.USED:
        reason = Reason.USED if p.type is PassType.SINGLE else Reason.MAX_USES_REACHED
        return Decision(Verdict.REJECTED, reason)
    if p.status is PassStatus.EXPIRED:
        return Decision(Verdict.REJECTED, Reason.EXPIRED)
    if p.valid_from is not None and now < parse_iso(p.valid_from):
        return Decision(Verdict.REJECTED, Reason.NOT_YET_VALID)
    if is_past_validity(p, now):
        return Decision(Verdict.REJECTED, Reason.EXPIRED, expire=True)
    uses_after = p.uses + 1
    if p.type is PassType.SINGLE or (p.max_uses is not None and uses_after >= p.max_uses):
        return Decision(Verdict.ACCEPTED, None, new_status=PassStatus.USED)
    return Decision(Verdict.ACCEPTED, None)
