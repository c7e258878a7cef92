"""Finding resources/ (icons, sounds, the stylesheet) from a checkout and from a PyInstaller
bundle, where everything is unpacked under sys._MEIPASS."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    # station/ui/resources.py -> the repository (or install prefix) root holds resources/
    return Path(__file__).resolve().parent.parent.parent / "resources"


def resource(*parts: str) -> Path:
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"Resource {'/'.join(parts)} is missing from {resources_dir()}.")
    return path


def stylesheet() -> str:
    try:
        return resource("style.qss").read_text(encoding="utf-8")
    except OSError:  # a broken install still runs, just plainer
        return ""
