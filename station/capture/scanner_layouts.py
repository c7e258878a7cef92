"""What a keyboard-wedge scanner meant to type, whatever keyboard layout the desktop uses.

A scanner set to emulate a US keyboard sends US *physical* keys. On a German (QWERTZ) desktop
its "y" arrives as "z" and ":" as "Ö"; on a French (AZERTY) one its digits arrive as "&é\\"'(…".
Two ways back:

1. The physical key. Qt reports it as the native scan code: on X11 and Wayland the XKB keycode
   (evdev code + 8), on Windows the set-1 scan code (equal to the evdev code for the keys a
   payload uses). Mapping key + Shift through the US layout gives the intended character on any
   desktop layout, dead keys included.
2. No scan code (macOS, the offscreen platform): the text is re-mapped as if typed on a DE or FR
   desktop, and the guess is used only when it is unambiguous.

Both ways face the same question: was the scanner set to US, or to the desktop's own layout (then
the text as typed is right)? The payload alphabet answers most of the time — a pass code is
`[0-9A-Za-z]{12}`, a pass link `http(s)://host/…/p/<code>?token=<t>`, a signed token
base64url "." base64url — so a candidate that is well-formed beats one that is not. When both
are well-formed and differ (a bare code with y/z on QWERTZ, a/q/w/z on AZERTY), this module
refuses to guess: `recover` returns the text as typed and lists the other reading in
`alternatives`, so the caller may ask the pass store which one names a pass.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from station.domain import token_v2
from station.domain.codes import is_code


class ScanCodes(enum.Enum):
    """How the platform numbers physical keys."""

    XKB = "xkb"  # X11 and Wayland: evdev code + 8
    SET1 = "set1"  # Windows: PC scan code set 1
    NONE = "none"  # the platform does not report physical keys usefully


# The US layout, one row per physical key: evdev code, unshifted, shifted (tests emulate
# a US-set scanner from it).
US_KEYS: tuple[tuple[int, str, str], ...] = (
    *((2 + i, d, s) for i, (d, s) in enumerate(zip("1234567890", "!@#$%^&*()", strict=True))),
    (12, "-", "_"), (13, "=", "+"),
    *((16 + i, c, c.upper()) for i, c in enumerate("qwertyuiop")),
    (26, "[", "{"), (27, "]", "}"),
    *((30 + i, c, c.upper()) for i, c in enumerate("asdfghjkl")),
    (39, ";", ":"), (40, "'", '"'), (41, "`", "~"), (43, "\\", "|"),
    *((44 + i, c, c.upper()) for i, c in enumerate("zxcvbnm")),
    (51, ",", "<"), (52, ".", ">"), (53, "/", "?"), (57, " ", " "),
)
_US_BY_EVDEV: dict[tuple[int, bool], str] = {
    (code, shift): ch for code, plain, shifted in US_KEYS for shift, ch in ((False, plain), (True, shifted))
}
_OFFSET = {ScanCodes.XKB: 8, ScanCodes.SET1: 0}


def us_char(scan_code: int, shift: bool, codes: ScanCodes) -> str | None:
    """The character a US keyboard gives for this physical key, or None when unknown."""
    if codes is ScanCodes.NONE or scan_code <= 0:
        return None
    return _US_BY_EVDEV.get((scan_code - _OFFSET[codes], shift))


# Desktop layouts a US-set scanner is commonly plugged into: what each types on the US physical
# keys (digit row, punctuation keys by their US pair, letters a-z). "" marks a dead key (it types
# nothing by itself). Checked against recorded X11 key events in tests/unit.
def _layout(digits: str, digits_shift: str, rest: dict[str, tuple[str, str]], letters: str,
            shifted_letters: dict[str, str] | None = None) -> dict[str, str]:
    """Map: character the desktop types -> character the US-set scanner meant."""
    typed_to_us: dict[str, str] = {}
    for us, typed in zip("1234567890", digits, strict=True):
        typed_to_us[typed] = us
    for us, typed in zip("!@#$%^&*()", digits_shift, strict=True):
        typed_to_us[typed] = us
    for us_key, (plain, shifted) in rest.items():
        us_plain, us_shift = us_key[0], us_key[1]
        typed_to_us[plain] = us_plain
        typed_to_us[shifted] = us_shift
    for us, typed in zip("abcdefghijklmnopqrstuvwxyz", letters, strict=True):
        typed_to_us[typed] = us
        if typed.isalpha():
            typed_to_us[typed.upper()] = us.upper()
    typed_to_us.update(shifted_letters or {})  # Shift on a letter key that types no letter
    typed_to_us.pop("", None)
    return typed_to_us


GUESSED_LAYOUTS: dict[str, dict[str, str]] = {
    # German QWERTZ: y/z swapped; ß ´ ü + ö ä # on the punctuation keys; - on US "/".
    "de": _layout("1234567890", '!"§$%&/()=', {
        "-_": ("ß", "?"), "=+": ("", ""), "[{": ("ü", "Ü"), "]}": ("+", "*"),
        ";:": ("ö", "Ö"), "'\"": ("ä", "Ä"), "\\|": ("#", "'"), ",<": (",", ";"),
        ".>": (".", ":"), "/?": ("-", "_"), "`~": ("", "°"),
    }, "abcdefghijklmnopqrstuvwxzy"),
    # French AZERTY: digits need Shift; a/q and z/w swapped; m on US ";", "," on US "m".
    "fr": _layout("&é\"'(-è_çà", "1234567890", {
        "-_": (")", "°"), "=+": ("=", "+"), "[{": ("", ""), "]}": ("$", "£"),
        ";:": ("m", "M"), "'\"": ("ù", "%"), "\\|": ("*", "µ"), ",<": (";", "."),
        ".>": (":", "/"), "/?": ("!", "§"), "`~": ("²", ""),
    }, "qbcdefghijkl,noparstuvzxyw", {"?": "M"}),
}


_B64URL = r"[A-Za-z0-9_\-]"
_TOKEN_RE = re.compile(rf"^{_B64URL}{{8,}}\.{_B64URL}{{8,}}$")
_URL_RE = re.compile(rf"^https?://[A-Za-z0-9.\-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~\-]+)*"
                     rf"/p/([0-9A-Za-z]+)\?token=({_B64URL}+\.{_B64URL}+)$")


# Format 2: `<BASE>/P/<digits>`, printed in upper case; a scanner may type it in either case.
_COMPACT_URL_RE = re.compile(r"^https?://[a-z0-9.\-]+(?::[0-9]+)?(?:/[a-z0-9._~\-]+)*/p/([0-9]+)$",
                             re.IGNORECASE)


def well_formed(text: str) -> bool:
    """A pass code, a pass link or a signed token: text the station itself produces."""
    if is_code(text) or _TOKEN_RE.match(text) or token_v2.looks_like(text):
        return True
    compact = _COMPACT_URL_RE.match(text)
    if compact:
        return token_v2.looks_like(compact.group(1))
    url = _URL_RE.match(text)
    return bool(url and is_code(url.group(1)))


@dataclass(frozen=True, slots=True)
class Stroke:
    text: str  # what the desktop layout typed ("" for a dead key)
    scan_code: int = 0
    shift: bool = False


@dataclass(frozen=True, slots=True)
class Recovered:
    text: str  # the reading to submit
    alternatives: tuple[str, ...] = ()  # other well-formed readings when it was ambiguous
    how: str = "as typed"  # "as typed" | "US scanner keys" | "guessed <layout> desktop"


def as_typed(strokes: Iterable[Stroke]) -> str:
    return "".join(s.text for s in strokes)


def us_reading(strokes: Sequence[Stroke], codes: ScanCodes) -> str | None:
    """The text a US-set scanner sent, from the physical keys; None if any key is unknown."""
    chars = [us_char(s.scan_code, s.shift, codes) for s in strokes]
    return None if any(c is None for c in chars) else "".join(c for c in chars if c is not None)


def guessed_readings(typed: str) -> dict[str, str]:
    """Per desktop layout, the text a US-set scanner meant; layouts that cannot explain every
    character are left out."""
    out: dict[str, str] = {}
    for name, table in GUESSED_LAYOUTS.items():
        if all(ch in table for ch in typed):
            out[name] = "".join(table[ch] for ch in typed)
    return out


def recover(strokes: Sequence[Stroke], codes: ScanCodes) -> Recovered:
    typed = as_typed(strokes).strip()
    if codes is not ScanCodes.NONE:
        us = us_reading(strokes, codes)
        if us is not None:
            return _choose(typed, {"US scanner keys": us.strip()})
    if well_formed(typed):
        return Recovered(typed)  # a guess never overrides a well-formed reading without key codes
    guesses = {f"guessed {name} desktop": text for name, text in guessed_readings(typed).items()}
    return _choose(typed, guesses)


def _choose(typed: str, others: dict[str, str]) -> Recovered:
    """Prefer the one well-formed reading; with several, keep the text as typed and say so."""
    readings = {"as typed": typed, **{how: text for how, text in others.items() if text != typed}}
    good = {how: text for how, text in readings.items() if well_formed(text)}
    distinct = set(good.values())
    if len(distinct) == 1:
        how, text = next(iter(good.items()))
        return Recovered(text, how=how)
    if len(distinct) > 1:
        chosen = typed if "as typed" in good else next(iter(good.values()))
        return Recovered(chosen, tuple(sorted(distinct - {chosen})),
                         "as typed" if chosen == typed else next(h for h, t in good.items() if t == chosen))
    return Recovered(typed)  # nothing well-formed (a foreign barcode): as the desktop typed it
