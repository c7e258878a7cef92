"""The search fold: case and accents ignored, the same for the query and the stored text."""

from __future__ import annotations

import pytest

from station.domain.textfold import fold


@pytest.mark.parametrize(("text", "folded"), [
    ("Chloé Müller", "chloe muller"),
    ("CHLOÉ MÜLLER", "chloe muller"),
    ("chloe muller", "chloe muller"),
    ("Straße", "strasse"),          # casefold, not lower: ß is ss
    ("STRASSE", "strasse"),
    ("Ørsted", "orsted"),           # letters NFKD does not decompose
    ("Łukasz Đoković", "lukasz dokovic"),
    ("Æsir Œuvre", "aesir oeuvre"),
    ("ﬁnn", "finn"),                # a compatibility ligature
    ("Zoë\u00a0 Ana", "zoe ana"),   # no-break and repeated spaces are one space
    ("Chloe\u0301", "chloe"),       # already decomposed
    ("Ada.Lovelace@Example.COM", "ada.lovelace@example.com"),
    ("", ""),
])
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_is_idempotent() -> None:
    for text in ("Chloé Müller", "Ørsted", "Straße", "Œuvre"):
        assert fold(fold(text)) == fold(text)
