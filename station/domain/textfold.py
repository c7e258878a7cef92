"""Text folded for search: case- and accent-insensitive, the same on every station.

"Chloé Müller", "CHLOE MULLER" and "chloe muller" fold alike; so do "Ørsted" and "orsted".
Unicode case folding (ß → ss), then compatibility decomposition (NFKD: é → e + ◌́, ﬁ → fi)
without the combining marks. A few Latin letters are not composed of a base and a mark and
survive the decomposition (ø, ł, đ, æ, œ…): a small table spells them the way people type them
on a keyboard without them.
"""

from __future__ import annotations

import unicodedata

# Letters NFKD leaves alone, after casefold (so lower case only).
_LETTERS = str.maketrans({
    "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ħ": "h",
    "ı": "i", "ŀ": "l", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ʉ": "u",
})


def fold(text: str) -> str:
    """`text` lower-cased without accents, runs of white space made one space."""
    if text.isascii():  # most names and every e-mail: no decomposition to do
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.translate(_LETTERS).split())
