"""What `station serve` reads codes from, and what its banner promises for each."""

from __future__ import annotations

import io
import os
import pty
from pathlib import Path

from station.cli.run import BANNER_INPUT, InputKind, input_kind


def test_a_terminal_a_pipe_a_file_and_nothing_are_told_apart(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    read_end, write_end = os.pipe()
    codes = tmp_path / "codes.txt"
    codes.write_text("AbCd2345EfGh\n")
    try:
        with open(slave, closefd=False) as tty, open(read_end, closefd=False) as pipe, \
                codes.open() as file, open(os.devnull) as null:
            assert input_kind(tty) is InputKind.TERMINAL
            assert input_kind(pipe) is InputKind.PIPE
            assert input_kind(file) is InputKind.PIPE
            assert input_kind(null) is InputKind.NONE  # as under systemd
        assert input_kind(None) is InputKind.NONE
        assert input_kind(io.StringIO()) is InputKind.NONE  # no descriptor
    finally:
        for fd in (master, slave, read_end, write_end):
            os.close(fd)


def test_only_a_terminal_or_a_pipe_is_promised_typed_codes() -> None:
    assert "type a code" in BANNER_INPUT[InputKind.TERMINAL]
    assert "each line of standard input" in BANNER_INPUT[InputKind.PIPE]
    assert "type a code" not in BANNER_INPUT[InputKind.NONE]
    assert all("Ctrl-C stops" in line for line in BANNER_INPUT.values())
