"""Request and response shapes of check-in lists and occupancy (docs/checkin-lists.md).

The document states each list key as the domain checks it (domain/checkin_list.py,
domain/entry_rules.py), so that what it calls valid the server accepts. Two rules join two
fields and JSON Schema cannot state them; their descriptions say so: validFrom before
validUntil, and a window's `until` differing from its `from`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal


from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      WithJsonSchema, model_validator)
from pydantic_core import PydanticCustomError

from station.domain.checkin_list import MAX_CAPACITY, MAX_LIST_FIELDS
from station.domain.entry_rules import (DAY_NAMES, MAX_ENTRIES_PER_DAY, MAX_MINUTES_BETWEEN,
                                        MAX_RULES, parse_rule)
from station.domain.errors import InvalidInput
from station.net.api import inputs as i
from station.net.api.schemas import PassTypeName, Strict
from station.services.venue import zone_names

_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_CLOCK_OR_24 = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
# A date (its whole day) or a local time without an offset (the venue's), as entry_rules
# reads `at`; a time with its zone is i.Time.
_DATE = r"(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_LOCAL = rf"^{_DATE}(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$"


def _real_local(value: str) -> str:
    """The pattern admits 2026-13-45; the calendar (and the rule's own check) does not."""
    try:
        parse_rule({"rule": "notBefore", "at": value}, "at")
    except InvalidInput:
        raise PydanticCustomError("time", "{value} is not a real date or time",
                                  {"value": repr(value[:40])}) from None
    return value


Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
assert Day.__args__ == DAY_NAMES  # type: ignore[attr-defined]
LocalDate = Annotated[str, Field(pattern=rf"^{_DATE}$"), AfterValidator(_real_local)]
LocalTime = Annotated[str, Field(max_length=19, pattern=_LOCAL), AfterValidator(_real_local)]
ListText = Annotated[str, Field(min_length=1, max_length=200, pattern=i.REQUIRED_TEXT)]
ListId = Annotated[str, Field(min_length=1, max_length=64, pattern=i.REQUIRED_TEXT)]
ListRef = Annotated[str, Field(min_length=1, max_length=100, pattern=i.REQUIRED_TEXT)]
FieldKey = Annotated[str, Field(min_length=1, max_length=64, pattern=i.REQUIRED_TEXT)]
# Declared by hand, as inputs.Fields is: pydantic would state the key rule as patternProperties,
# which lets other keys through in the document while the server refuses them.
ListFields = Annotated[dict[FieldKey, ListText], Field(max_length=MAX_LIST_FIELDS), WithJsonSchema({
    "type": "object", "maxProperties": MAX_LIST_FIELDS,
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200,
                             "pattern": i.REQUIRED_TEXT},
    "propertyNames": {"minLength": 1, "maxLength": 64, "pattern": i.REQUIRED_TEXT}})]
Capacity = Annotated[int, Field(ge=1, le=MAX_CAPACITY), BeforeValidator(i.whole_number)]
PerDay = Annotated[int, Field(ge=1, le=MAX_ENTRIES_PER_DAY), BeforeValidator(i.whole_number)]
Minutes = Annotated[int, Field(ge=1, le=MAX_MINUTES_BETWEEN), BeforeValidator(i.whole_number)]


def _never_null(*keys: str, extra: dict[str, Any] | None = None
                ) -> Callable[[dict[str, Any]], None]:
    """json_schema_extra: `keys` may be left out but are never null (their Python type is
    optional only to say "absent"); _NeverNull refuses a null the same way."""
    def edit(schema: dict[str, Any]) -> None:
        for key in keys:
            prop = schema["properties"][key]
            branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
            if branches:
                prop.update(branches[0])
            prop.pop("default", None)
        schema.update(extra or {})
    return edit


class _NeverNull(Strict):
    NEVER_NULL: ClassVar[tuple[str, ...]] = ()  # the keys _never_null names in the document

    @model_validator(mode="before")
    @classmethod
    def _refuse_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in cls.NEVER_NULL:
                if key in data and data[key] is None:
                    raise PydanticCustomError("null", f"{key} cannot be null; leave it out instead")
        return data


class WindowRule(_NeverNull):
    # Absent rather than null: the document cannot say "not both" of two nullable keys.
    NEVER_NULL: ClassVar[tuple[str, ...]] = ("days", "date")
    model_config = ConfigDict(json_schema_extra=_never_null(
        "days", "date", extra={"not": {"required": ["days", "date"]}}))

    rule: Literal["window"]
    days: list[Day] | None = Field(None, min_length=1, max_length=7,
                                   description="Days of the week; not with `date`.")
    date: LocalDate | None = Field(None, description="One date instead of days of the week.")
    from_: str = Field(alias="from", pattern=_CLOCK, examples=["18:00"],
                       description="Local time of day the window opens.")
    until: str = Field(pattern=_CLOCK_OR_24, examples=["02:00"],
                       description="Local time it closes, not equal to `from`; at or before "
                                   "`from` crosses midnight; 24:00 is the end of the day.")


class EntriesPerDayRule(Strict):
    rule: Literal["entriesPerDay"]
    max: PerDay


class MinutesBetweenRule(Strict):
    rule: Literal["minutesBetween"]
    min: Minutes


class BoundRule(Strict):
    rule: Literal["notBefore", "notAfter"]
    at: LocalTime | i.Time = Field(
        description="A date (its whole day), a local time like 2026-12-24T18:00, or a time "
                    "with its zone.")


Rule = Annotated[WindowRule | EntriesPerDayRule | MinutesBetweenRule | BoundRule,
                 Field(discriminator="rule")]


class ListChange(_NeverNull):
    """PATCH: only the keys sent change; null clears an optional one."""

    NEVER_NULL: ClassVar[tuple[str, ...]] = ("name",)
    model_config = ConfigDict(json_schema_extra=_never_null("name"))

    name: ListText | None = Field(None, examples=["VIP"])  # absent keeps it
    types: list[PassTypeName] | None = Field(None, max_length=2,
                                             description="Pass types admitted; none: any.")
    fields: ListFields | None = Field(
        None, examples=[{"tier": "vip"}],
        description="Custom field values a pass must have (ignoring case).")
    clientId: ListId | None = None
    validFrom: i.Time | None = Field(None, description="Earlier than validUntil.")
    validUntil: i.Time | None = Field(None, description="Later than validFrom.")
    reentry: bool | None = Field(None, description="A pass that went out may come back in.")
    capacity: Capacity | None = None
    rules: list[Rule] | None = Field(None, max_length=MAX_RULES,
                                     description="Entry rules (windows are alternatives).")
    confirmAttention: bool | None = None
    checkoutAt: str | None = Field(
        None, pattern=_CLOCK, examples=["04:00"],
        description="Everyone on the list is checked out every day at this time of day, in "
                    "the venue's time zone; null: never.")

    def changes(self) -> dict[str, Any]:
        """The keys sent, as the domain reads them (a null flag or list means its default)."""
        sent = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        for key, empty in (("reentry", False), ("confirmAttention", False), ("types", []),
                           ("fields", {}), ("rules", [])):
            if key in sent and sent[key] is None:
                sent[key] = empty
        return sent


class ListCreate(ListChange):
    NEVER_NULL: ClassVar[tuple[str, ...]] = ("name", "id")
    model_config = ConfigDict(json_schema_extra=_never_null("name", "id"))

    name: ListText = Field(examples=["VIP"])  # required here
    id: ListId | None = Field(None, description="Chosen by the station when left out.")


class ListOut(BaseModel):
    id: str
    name: str
    types: list[PassTypeName]
    fields: dict[str, str]
    clientId: str | None
    validFrom: str | None
    validUntil: str | None
    reentry: bool
    capacity: int | None
    rules: list[dict[str, Any]]
    confirmAttention: bool
    checkoutAt: str | None


class ListPage(BaseModel):
    items: list[ListOut]


class ListInside(BaseModel):
    id: str
    name: str
    inside: int
    capacity: int | None


class OccupancyOut(BaseModel):
    inside: int = Field(description="Everyone inside the venue: every list and doors with none.")
    lists: list[ListInside]


class CheckoutBody(Strict):
    list: ListRef | None = Field(None,
                                description="One list's id or name; left out: the whole venue.")


# The zones this machine's time zone database holds: what the service accepts (services/venue.py).
_ZONES = sorted(zone_names())
ZoneName = Annotated[str, WithJsonSchema({"type": "string", "enum": _ZONES})]


class VenueChange(Strict):
    """PATCH: only the keys sent change; null clears one."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    timezone: ZoneName | None = Field(
        None, examples=["Europe/Berlin"],
        description="The IANA zone the lists' rules and check-outs are read in; null: this "
                    "machine's. Every door of the venue must be set alike.")
    checkoutAt: str | None = Field(
        None, pattern=_CLOCK, examples=["04:00"],
        description="Everyone in the venue is checked out every day at this time; null: never.")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class VenueOut(BaseModel):
    timezone: str | None = Field(description="IANA zone name; null: the station machine's zone.")
    checkoutAt: str | None = Field(description="Daily check-out of everyone (HH:MM); null: none.")
