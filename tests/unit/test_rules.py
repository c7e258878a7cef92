"""Verdict rules, table-driven."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from station.domain.models import Pass, PassStatus, PassType, Reason, Verdict
from station.domain.rules import decide

NOW = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


def make(**over: object) -> Pass:
    base: dict[str, object] = dict(
        id="pas_1", code="AbCd1234EfGh", name="Guest", type=PassType.SINGLE,
        status=PassStatus.ACTIVE, uses=0, public_url="", created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
    )
    base.update(over)
    return Pass(**base)  # type: ignore[arg-type]


CASES = [
    # (description, pass overrides, verdict, reason, new status, expire)
    ("fresh single", {}, Verdict.ACCEPTED, None, PassStatus.USED, False),
    ("used single", {"status": PassStatus.USED, "uses": 1}, Verdict.REJECTED, Reason.USED, None, False),
    ("revoked", {"status": PassStatus.REVOKED}, Verdict.REJECTED, Reason.REVOKED, None, False),
    ("expired status", {"status": PassStatus.EXPIRED}, Verdict.REJECTED, Reason.EXPIRED, None, False),
    ("past validUntil", {"valid_until": "2026-06-01T17:59:59.000Z"}, Verdict.REJECTED, Reason.EXPIRED,
     None, True),
    ("before validFrom", {"valid_from": "2026-06-01T18:00:01.000Z"}, Verdict.REJECTED,
     Reason.NOT_YET_VALID, None, False),
    ("inside window", {"valid_from": "2026-06-01T17:00:00.000Z", "valid_until": "2026-06-01T19:00:00.000Z"},
     Verdict.ACCEPTED, None, PassStatus.USED, False),
    ("multi unlimited", {"type": PassType.MULTI, "uses": 40}, Verdict.ACCEPTED, None, None, False),
    ("multi with uses left", {"type": PassType.MULTI, "max_uses": 3, "uses": 1}, Verdict.ACCEPTED, None,
     None, False),
    ("multi last use", {"type": PassType.MULTI, "max_uses": 3, "uses": 2}, Verdict.ACCEPTED, None,
     PassStatus.USED, False),
    ("multi used up", {"type": PassType.MULTI, "max_uses": 3, "uses": 3, "status": PassStatus.USED},
     Verdict.REJECTED, Reason.MAX_USES_REACHED, None, False),
    ("revoked beats validity", {"status": PassStatus.REVOKED, "valid_until": "2020-01-01T00:00:00.000Z"},
     Verdict.REJECTED, Reason.REVOKED, None, False),
]


@pytest.mark.parametrize(("overrides", "verdict", "reason", "new_status", "expire"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verdict_rules(overrides: dict[str, object], verdict: Verdict, reason: Reason | None,
                       new_status: PassStatus | None, expire: bool) -> None:
    decision = decide(make(**overrides), NOW)
    assert decision.verdict is verdict
    assert decision.reason == reason
    assert decision.new_status == new_status
    assert decision.expire is expire


def test_new_codes_have_no_look_alikes_and_spread_over_their_alphabet() -> None:
    from collections import Counter

    from station.domain.codes import CODE_ALPHABET, is_code, new_code, new_id

    assert len(CODE_ALPHABET) == 56 and not set("0Oo1Il") & set(CODE_ALPHABET)
    codes = [new_code() for _ in range(2000)]
    assert all(is_code(c) for c in codes) and len(set(codes)) == len(codes)
    counts = Counter("".join(codes))
    assert set(counts) == set(CODE_ALPHABET)  # no 0/O/o/1/I/l: typing one from paper is safe
    expected = 2000 * 12 / 56
    assert all(0.6 * expected < n < 1.4 * expected for n in counts.values())
    assert new_id("pas").startswith("pas_") and len(new_id("pas")) == 24
