"""tests/logfail.py, run in a pytest of its own on a small test file: an undeclared warning
fails its test, a declared one (the marker, or caplog) and an INFO line do not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SAMPLE = '''
import logging
import threading

import pytest

log = logging.getLogger("station.sample")


def test_undeclared_warning():
    log.warning("the disk is full")


def test_undeclared_warning_from_a_thread():
    worker = threading.Thread(target=lambda: logging.getLogger("qt").error("a Qt complaint"))
    worker.start()
    worker.join()


@pytest.mark.allow_log("station", "disk is")
def test_declared_warning():
    log.warning("the disk is full")


@pytest.mark.allow_log("station", "disk is")
def test_declared_for_another_message():
    log.warning("the hub refused the password")


def test_read_with_caplog(caplog):
    log.warning("the disk is full")
    assert "disk is full" in caplog.text


def test_info_is_fine():
    log.info("all good")
'''


def test_a_warning_the_test_did_not_declare_fails_it(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.logfail", "-p", "no:cacheprovider",
         "-p", "no:pytestqt", "-rA", "test_sample.py"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=120)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    outcomes = {line.split()[1].split("::")[-1]: line.split()[0]
                for line in out.splitlines() if "test_sample.py::" in line
                and line.split()[0] in ("PASSED", "ERROR", "FAILED")}
    assert outcomes == {
        "test_undeclared_warning": "ERROR",
        "test_undeclared_warning_from_a_thread": "ERROR",
        "test_declared_warning": "PASSED",
        "test_declared_for_another_message": "ERROR",
        "test_read_with_caplog": "PASSED",
        "test_info_is_fine": "PASSED",
    }, out
    assert "WARNING station.sample: the disk is full" in out
    assert "ERROR qt: a Qt complaint" in out
    assert "@pytest.mark.allow_log(logger, substring)" in out
