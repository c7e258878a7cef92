"""A made-up pass for the domain's unit tests of check-in lists and door decisions."""

from __future__ import annotations

from typing import Any

from station.domain.models import Pass, PassStatus, PassType


def guest(**over: Any) -> Pass:
    base: dict[str, Any] = dict(id="pas_1", code="AbCd1234EfGh", name="Ada", type=PassType.SINGLE,
                                status=PassStatus.ACTIVE, uses=0, public_url="",
                                created_at="2026-01-01T00:00:00.000Z",
                                updated_at="2026-01-01T00:00:00.000Z")
    base.update(over)
    return Pass(**base)
