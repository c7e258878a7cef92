"""Input types of the API whose rule the OpenAPI document states exactly as the server checks it.

Each pattern is written in the subset of regular expressions that reads the same in
JavaScript (the OpenAPI/JSON Schema dialect), Python and pydantic's Rust engine: explicit
character classes only, no \\s, \\d or look-arounds. pydantic enforces the pattern, so what the
document accepts the server accepts, and what it refuses the server refuses; the services
behind check again for the CLI and the window. `PATTERN_MESSAGES` gives each pattern the
sentence a caller sees when a value does not match.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from station.domain.errors import InvalidInput
from station.net.targets import MAX_URL_LENGTH, check_url_syntax
from station.services.validation import MAX_FIELD_KEY, MAX_FIELD_VALUE, MAX_FIELDS, MAX_USES_LIMIT

# C0 controls and DEL: the services refuse them in every text (validation.text).
_CONTROL = r"\x00-\x1f\x7f"
# What Python's str.strip() removes besides controls: a text of only these is blank.
_BLANK = r" \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

TEXT = rf"^[^{_CONTROL}]*$"
REQUIRED_TEXT = rf"^[^{_CONTROL}]*[^{_CONTROL}{_BLANK}][^{_CONTROL}]*$"
# validation.EMAIL_RE with \s spelled out (and no blanks around it); "" means none.
_EMAIL_CHAR = rf"[^@<>{_CONTROL}{_BLANK}]"
EMAIL = rf"^({_EMAIL_CHAR}{{1,64}}@{_EMAIL_CHAR}{{1,190}}\.[^@<>.{_CONTROL}{_BLANK}]{{1,63}})?$"
# validation.phone's characters, at least 3 of them once spaces around are stripped; "" means none.
PHONE = r"^( *[0-9+()./-][0-9+()./ -]+[0-9+()./-] *)?$"

_STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"  # times.to_iso
PAGE_CURSOR = rf"^{_STAMP}\|[0-9]{{1,18}}$"  # store: "<timestamp>|<rowid>"
TRIGGER_CURSOR = rf"^{_STAMP}\|[A-Za-z0-9_-]{{1,64}}$"  # "<timestamp>|<event id>"
# RFC 3339 (what JSON Schema's date-time means): the offset or Z is required. Years 1900 to
# 2999: a pass is valid in this era, and the service's UTC conversion never leaves it.
TIME = (r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
        r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")

_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = (rf"(({_H}:){{7}}{_H}|({_H}:){{1,7}}:|({_H}:){{1,6}}:{_H}|({_H}:){{1,5}}(:{_H}){{1,2}}"
         rf"|({_H}:){{1,4}}(:{_H}){{1,3}}|({_H}:){{1,3}}(:{_H}){{1,4}}|({_H}:){{1,2}}(:{_H}){{1,5}}"
         rf"|{_H}:(:{_H}){{1,6}}|:((:{_H}){{1,7}}|:)|::([Ff]{{4}}(:0{{1,4}})?:)?{_IPV4}"
         rf"|({_H}:){{1,4}}:{_IPV4})")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The last label starts with a letter (as top-level domains do), so a name is never read as
# a malformed IPv4 address.
_NAME = rf"({_LABEL}\.)*[A-Za-z]([A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
TARGET_URL = (rf"^[Hh][Tt][Tt][Pp][Ss]?://({_NAME}|{_IPV4}|\[{_IPV6}\])(:{_PORT})?"
              rf"([/?][^{_CONTROL} #\\]*)?$")

PATTERN_MESSAGES = {
    TEXT: "it contains control characters; remove them",
    REQUIRED_TEXT: "it is blank or contains control characters; give some text without them",
    EMAIL: "it is not an email address like name@example.com",
    PHONE: "it is not a phone number (at least 3 of: digits, spaces, + ( ) - . /)",
    PAGE_CURSOR: "that cursor is not one this station gave out; start from the first page",
    TRIGGER_CURSOR: "that cursor is not one this API gave out; start again without it",
    TIME: "give an ISO 8601 time with its time zone, like 2026-06-01T18:00:00Z or "
          "2026-06-01T20:00:00+02:00",
    TARGET_URL: "write it as https://host/path (a host name or IP address, an optional port, "
                "no user name, spaces or #fragment)",
}


def pattern_message(pattern: str) -> str | None:
    return PATTERN_MESSAGES.get(pattern)


def _real_time(value: str) -> str:
    """The pattern admits 2026-13-45T25:00:00Z; the calendar does not."""
    value = value.upper()  # 2026-06-01t18:00:00z is RFC 3339 too
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PydanticCustomError("time", "{value} is not a real date and time",
                                  {"value": repr(value[:40])}) from None
    return value


def _url_syntax(value: Any) -> Any:
    """Names the first thing wrong with a URL (scheme, user name, port…) before the pattern
    gives its general sentence."""
    if isinstance(value, str):
        try:
            check_url_syntax(value)
        except InvalidInput as exc:
            raise PydanticCustomError("url", str(exc).rstrip(".")) from None
    return value


Text = Annotated[str, Field(pattern=TEXT)]
RequiredText = Annotated[str, Field(pattern=REQUIRED_TEXT)]
Email = Annotated[str, Field(max_length=254, pattern=EMAIL)]
Phone = Annotated[str, Field(max_length=40, pattern=PHONE)]
Time = Annotated[str, Field(max_length=40, pattern=TIME, json_schema_extra={"format": "date-time"}),
                 AfterValidator(_real_time)]
TargetUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_LENGTH, pattern=TARGET_URL),
                      BeforeValidator(_url_syntax)]
def whole_number(value: Any) -> Any:
    """JSON numbers only: "3", true and Infinity are refused rather than read as 3, 1 and "inf".
    3.0 is the number 3 (JSON Schema's "integer" says so, and JavaScript writes 3 either way)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("whole_number", "it must be a whole number, written without quotes")
    return value


MaxUses = Annotated[int, Field(ge=1, le=MAX_USES_LIMIT), BeforeValidator(whole_number)]
_FIELD_VALUE_SCHEMA = {"anyOf": [
    {"type": "string", "maxLength": MAX_FIELD_VALUE, "pattern": TEXT},
    {"type": "integer", "minimum": -(10**15), "maximum": 10**15},
    {"type": "number", "minimum": -1e15, "maximum": 1e15}]}


def _field_value(value: Any) -> str | int | float:
    """One check, one sentence: exactly _FIELD_VALUE_SCHEMA."""
    if isinstance(value, str):
        if len(value) > MAX_FIELD_VALUE:
            raise PydanticCustomError("field_value", f"at most {MAX_FIELD_VALUE} characters are allowed")
        if not re.match(TEXT, value):
            raise PydanticCustomError("field_value", PATTERN_MESSAGES[TEXT])
        return value
    # true would be stored as "1" and 1e999 (Infinity) as "inf": neither is what was meant.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1e15 <= value <= 1e15:
        raise PydanticCustomError("field_value", "a custom field is text or a number between "
                                                 "-10^15 and 10^15")
    return value


FieldValue = Annotated[str | int | float, PlainValidator(_field_value),
                       WithJsonSchema(_FIELD_VALUE_SCHEMA)]
FieldName = Annotated[str, Field(min_length=1, max_length=MAX_FIELD_KEY, pattern=REQUIRED_TEXT)]
# Declared by hand: pydantic would describe the key rule as patternProperties, which lets other
# keys through in the document while the server refuses them.
Fields = Annotated[dict[FieldName, FieldValue], Field(max_length=MAX_FIELDS), WithJsonSchema({
    "type": "object", "maxProperties": MAX_FIELDS, "additionalProperties": _FIELD_VALUE_SCHEMA,
    "propertyNames": {"minLength": 1, "maxLength": MAX_FIELD_KEY, "pattern": REQUIRED_TEXT}})]
