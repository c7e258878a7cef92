"""What a scanned QR text means: a bare code, a pass URL, or a bare format-2 token.

Pass URLs: `<base>/p/<code>?token=<token>` (format 1) and `<base>/p/<digits>` (format 2: the code
is inside the token; printed in upper case so the QR can hold the prefix in alphanumeric mode).
Scheme, host and the format-2 path are read whatever their case: a phone or a keyboard-wedge
scanner may deliver either.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from station.domain import token_v2
from station.domain.codes import CODE_LENGTH, is_code
from station.domain.errors import InvalidInput

MAX_PAYLOAD_BYTES = 4096


@dataclass(frozen=True, slots=True)
class ParsedPayload:
    code: str | None  # None when the text names no code of ours
    token: str | None
    foreign: bool = False  # a URL on another host / path layout
    text: str = ""
    code_in_token: bool = False  # format 2: the code is only known once the token verifies


def clean(raw: str | bytes) -> str:
    """Reject what can never be a pass (empty, huge, binary, not UTF-8). Raises InvalidInput."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_PAYLOAD_BYTES:
            raise InvalidInput(f"The scanned text is {len(raw)} bytes; a pass is at most {MAX_PAYLOAD_BYTES}.")
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("The scanned data is not text (not UTF-8); it cannot be a pass.") from None
    text = raw.strip()
    if not text:
        raise InvalidInput("Nothing was scanned: the payload is empty.")
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidInput(f"The scanned text is {size} bytes; a pass is at most {MAX_PAYLOAD_BYTES}.")
    if any(ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise InvalidInput("The scanned text contains control or binary characters; it cannot be a pass.")
    return text


def parse(raw: str | bytes, base_url: str) -> ParsedPayload:
    text = clean(raw)
    if is_code(text):
        return ParsedPayload(code=text, token=None, text=text)
    if token_v2.looks_like(text):
        return ParsedPayload(code=None, token=text, text=text, code_in_token=True)
    if "://" not in text:
        return ParsedPayload(code=None, token=None, text=text)
    try:
        url = urlsplit(text)
        base = urlsplit(base_url)
    except ValueError:
        return ParsedPayload(code=None, token=None, foreign=True, text=text)
    if url.scheme.lower() not in ("http", "https") or url.netloc.lower() != base.netloc.lower():
        return ParsedPayload(code=None, token=None, foreign=True, text=text)
    prefix = base.path.rstrip("/") + "/p/"
    rest = url.path[len(prefix):]
    if url.path.lower().startswith(prefix.lower()) and not url.query and len(rest) > CODE_LENGTH \
            and rest[0].isdigit():
        # A format-2 link, or one altered on the way (the token then fails: bad_signature).
        return ParsedPayload(code=None, token=rest, text=text, code_in_token=True)
    if not url.path.startswith(prefix):
        return ParsedPayload(code=None, token=None, foreign=True, text=text)
    code = url.path[len(prefix):]
    tokens = parse_qs(url.query).get("token", [])
    token = tokens[0] if len(tokens) == 1 else None
    return ParsedPayload(code=code if is_code(code) else None, token=token, text=text)


def public_url(base_url: str, code: str, token: str) -> str:
    """The format-1 pass URL (passes printed before format 2)."""
    return f"{base_url.rstrip('/')}/p/{code}?token={token}"


# The characters a QR code holds in alphanumeric mode (5.5 bits each instead of 8).
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def compact_url(base_url: str, token: str) -> str:
    """The format-2 pass URL `<base>/p/<digits>`, as the API gives it (`publicUrl`). The QR
    holds it with the prefix in upper case (domain/qr_content.py): scheme and host are
    case-insensitive, and the station reads the path either way."""
    return f"{base_url.rstrip('/')}/p/{token}"
