"""`station serve` on a pseudo-terminal, as at a door: codes typed (or sent by a keyboard-wedge
scanner) on its stdin, its printed lines read back one by one."""

from __future__ import annotations

import os
import pty
import queue
import subprocess
import sys
import termios
import threading
import time

from tests.conftest import REPO, StationCLI


class Door:
    def __init__(self, cli: StationCLI, *args: str) -> None:
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO  # the typed codes are not echoed back into the pty
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self._master = master
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "station", "serve", *args], env=cli.env, cwd=REPO,
            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        os.close(slave)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))

    def wait_for(self, start: str | tuple[str, ...], timeout: float = 90.0) -> str:
        """The next printed line starting with `start` (earlier lines are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and self.lines.empty():
                raise AssertionError(f"no line starting {start!r}; exit {self.proc.poll()}, "
                                     f"stderr: {self.stderr[-20:]}")
            try:
                line = self.lines.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            if line.startswith(start):
                return line

    def scan(self, code: str) -> str:
        """Type a code and Enter; the line the door printed for it."""
        os.write(self._master, f"{code}\n".encode())
        return self.wait_for(("ACCEPTED", "REFUSED", "error:"))

    def hang_up(self) -> None:
        """The terminal goes away (its window closed): the door's reads fail with EIO."""
        os.close(self._master)
        self._master = -1

    def stop(self) -> None:
        """Ctrl-D (end of input) ends the door's loop and the station stops."""
        if self.proc.poll() is None and self._master >= 0:
            os.write(self._master, b"\x04")
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(60)
        if self._master >= 0:
            os.close(self._master)
