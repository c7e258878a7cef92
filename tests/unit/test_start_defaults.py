"""scripts/start keeps the demo as its default unless the user named data or another command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from station.cli.start_defaults import extra_arguments
from tests.conftest import REPO


@pytest.mark.parametrize(("words", "extra"), [
    ([], ["--demo"]),
    (["--port", "8081"], ["--demo"]),  # was: the window on the user's own data, silently
    (["gui", "--port", "8081", "--host-hub"], ["--demo"]),
    (["-v", "--no-api"], ["--demo"]),
    (["--demo", "--port", "8081"], []),
    (["--data-dir", "/srv/gala"], []),
    (["--port", "8081", "--data-dir=/srv/gala"], []),
    (["serve", "--port", "8081"], []),
    (["passes", "list"], []),
    (["scan", "AbCd2345EfGh"], []),
    (["--help"], []),
])
def test_start_adds_the_demo_only_to_the_window_on_unnamed_data(words: list[str], extra: list[str]) -> None:
    assert extra_arguments(words, {}) == extra


def test_a_data_dir_from_the_environment_is_named_data() -> None:
    assert extra_arguments(["--port", "8081"], {"STATION_DATA_DIR": "/srv/gala"}) == []


def test_the_command_scripts_start_runs_prints_the_extra_argument() -> None:
    def run(*words: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "STATION_DATA_DIR"}
        env["PYTHONPATH"] = str(REPO)
        return subprocess.run([sys.executable, "-m", "station.cli.start_defaults", *words], env=env,
                              cwd=REPO, capture_output=True, text=True, check=True, timeout=120).stdout

    assert run("--port", "8081").strip() == "--demo"
    assert run("serve", "--port", "8081").strip() == ""
    assert "station.cli.start_defaults" in (REPO / "scripts" / "start").read_text()
