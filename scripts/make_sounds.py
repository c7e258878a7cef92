"""Regenerate resources/sounds/*.wav: one short, distinct cue per verdict (run once; the WAVs
are committed). Accepted is a rising two-note chime, refused a low double buzz, warning a
single mid tone twice, attention (a pass with a note for the door) three bright rising notes
twice, so they can be told apart without looking."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "resources" / "sounds"


def tone(freq: float, seconds: float, volume: float = 0.5, square: bool = False) -> list[float]:
    n = int(RATE * seconds)
    fade = max(1, int(RATE * 0.01))  # 10 ms ramps: no clicks
    out = []
    for i in range(n):
        s = math.sin(2 * math.pi * freq * i / RATE)
        if square:
            s = 0.6 * (1.0 if s >= 0 else -1.0) + 0.4 * s
        env = min(1.0, i / fade, (n - i) / fade)
        out.append(volume * env * s)
    return out


def silence(seconds: float) -> list[float]:
    return [0.0] * int(RATE * seconds)


def write(name: str, samples: list[float]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT / name), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))


def main() -> None:
    write("accepted.wav", tone(880, 0.12) + tone(1320, 0.18))
    write("refused.wav", tone(220, 0.18, square=True) + silence(0.06) + tone(196, 0.25, square=True))
    write("warning.wav", tone(660, 0.12) + silence(0.08) + tone(660, 0.12))
    arpeggio = tone(1047, 0.08) + tone(1319, 0.08) + tone(1568, 0.12)
    write("attention.wav", arpeggio + silence(0.1) + arpeggio)


if __name__ == "__main__":
    main()
