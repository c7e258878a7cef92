"""A distinct sound per verdict, and a mute switch.

What plays where (PySide6-Essentials has no QtMultimedia, so QSoundEffect is not available):
- Windows: the WAV through the standard library's winsound, asynchronously, in-process.
- Linux / macOS: the WAV through the first player found (pw-play, paplay, aplay, afplay),
  started as a detached process off the GUI thread.
- Nothing found, or the player fails (no audio device): QApplication.beep(), and the failure is
  logged once. Nothing here raises into the window.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from station.ui.resources import resource
from station.ui.verdicts import Kind

log = logging.getLogger(__name__)

PLAYERS = ("pw-play", "paplay", "aplay", "afplay")
FILES = {Kind.ACCEPTED: "accepted.wav", Kind.REFUSED: "refused.wav", Kind.WARNING: "warning.wav",
         Kind.ERROR: "refused.wav", Kind.NOT_RECORDED: "refused.wav",
         Kind.ATTENTION: "attention.wav", Kind.AWAITING: "attention.wav"}


def find_player() -> list[str] | None:
    for name in PLAYERS:
        path = shutil.which(name)
        if path:
            return [path, "-q"] if name == "aplay" else [path]
    return None


class Sounds:
    def __init__(self, run_off_thread: Callable[[Callable[[], object]], object],
                 beep: Callable[[], None], muted: bool = False) -> None:
        self.muted = muted
        self._run = run_off_thread
        self._beep = beep
        self._player = None if sys.platform == "win32" else find_player()
        self._warned = False
        self.last_played: Kind | None = None  # for tests and the status bar

    @property
    def backend(self) -> str:
        if sys.platform == "win32":
            return "winsound"
        return Path(self._player[0]).name if self._player else "system beep"

    def play(self, kind: Kind) -> None:
        name = FILES.get(kind)
        if self.muted or name is None:
            return
        self.last_played = kind
        try:
            path = resource("sounds", name)
        except FileNotFoundError:
            self._beep()
            return
        if sys.platform == "win32":
            self._run(lambda: self._winsound(path))
        elif self._player:
            self._run(lambda: self._spawn(path))
        else:
            self._beep()

    @staticmethod
    def _winsound(path: Path) -> None:
        if sys.platform != "win32":  # only called there; says so to the type checker too
            return
        import winsound

        winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC)

    def _spawn(self, path: Path) -> None:
        assert self._player is not None
        try:
            # Detached and not waited for: a player that hangs on a dead device blocks nobody.
            subprocess.Popen([*self._player, str(path)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("Cannot play sounds with %s (%s); using the system beep.", self._player[0], exc)
            self._player = None
