"""The window's settings: declared once, typed, with defaults, kept in the station's store (so
they travel with the data directory). Geometry and the data directory live in QSettings, since
they belong to this computer's user rather than to the station's data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from station.domain.errors import InvalidInput

SETTING = "ui.settings"
RESOLUTIONS = ("640x480", "1280x720", "1920x1080")
DECODERS = ("zxing", "zbar")
DIRECTIONS = ("entry", "exit")


@dataclass(frozen=True, slots=True)
class UiSettings:
    camera: str = "0"  # an index or a device path; "none" for manual entry and HID only
    resolution: str = "1280x720"
    decoder: str = "zxing"
    camera_cooldown_s: float = 5.0
    hid_cooldown_s: float = 2.5
    muted: bool = False
    auto_lock_min: float = 2.0
    verdict_reset_s: float = 5.0  # the card goes back to READY after this; 0: never
    kiosk: bool = False  # open fullscreen on the Scan view; leaving it needs the manager PIN
    # This door: its check-in list's id ("" for none: today's behaviour) and direction.
    door_list: str = ""
    door_direction: str = "entry"

    @property
    def size(self) -> tuple[int, int]:
        w, _, h = self.resolution.partition("x")
        return int(w), int(h)

    def checked(self) -> UiSettings:
        if self.resolution not in RESOLUTIONS:
            raise InvalidInput(f"Resolution must be one of {', '.join(RESOLUTIONS)}.")
        if self.decoder not in DECODERS:
            raise InvalidInput(f"Decoder must be one of {', '.join(DECODERS)}.")
        if not 0 <= self.camera_cooldown_s <= 60 or not 0 <= self.hid_cooldown_s <= 60:
            raise InvalidInput("Cooldowns are between 0 and 60 seconds.")
        if not 0.1 <= self.auto_lock_min <= 240:
            raise InvalidInput("Auto-lock is between 0.1 and 240 minutes.")
        if not 0 <= self.verdict_reset_s <= 600:
            raise InvalidInput("Back to READY is between 0 (never) and 600 seconds.")
        if self.door_direction not in DIRECTIONS:
            raise InvalidInput("The door's direction is entry or exit.")
        if not self.camera.strip():
            raise InvalidInput("Choose a camera, or 'none' for manual entry and the handheld scanner only.")
        return self


def load(store: Any) -> UiSettings:
    raw = store.setting(SETTING) or {}
    known = {f.name for f in fields(UiSettings)}
    try:
        return replace(UiSettings(), **{k: v for k, v in raw.items() if k in known}).checked()
    except (InvalidInput, TypeError, ValueError, AttributeError):
        return UiSettings()  # a hand-edited or older value never stops the window from opening


def save(store: Any, settings: UiSettings) -> UiSettings:
    store.set_setting(SETTING, asdict(settings.checked()))
    return settings
