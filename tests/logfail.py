"""A test fails when something logs a WARNING (or worse) it did not declare (after
qutebrowser's logfail): a warning in a test run is a defect found, or a case the test provokes
on purpose and then says so:

    @pytest.mark.allow_log("station.net.sender", "could not deliver")

(a logger and its children, and a part of the message; repeat the marker for more). A test that
takes `caplog` reads its own logs and is not checked. Qt's messages are checked by pytest-qt
(`qt_log_level_fail` in pyproject.toml).

Records are collected, never raised in `emit`: a background thread (webhook-io, the sync loop)
that logs must not die of it. They are judged after the test's fixtures are torn down, so a
warning logged while closing a station counts too (it is then reported as an error at teardown).
Loaded by tests/conftest.py; a plugin module of its own so tests/unit/test_logfail.py can run it
in a pytest of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

MARKER = "allow_log"


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(logger, substring): this test expects a WARNING or worse from "
                   "`logger` (or a child) whose message contains `substring`")


def _allowed(record: logging.LogRecord, allowances: list[tuple[str, str]]) -> bool:
    return any((record.name == logger or record.name.startswith(logger + "."))
               and part in record.getMessage() for logger, part in allowances)


@pytest.fixture(autouse=True)
def fail_on_unexpected_warnings(request: pytest.FixtureRequest) -> Iterator[None]:
    collector = _Collector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
    if "caplog" in request.fixturenames:
        return  # the test reads (and asserts on) its logs itself
    allowances = []
    for marker in request.node.iter_markers(MARKER):
        logger, part = marker.args
        allowances.append((str(logger), str(part)))
    unexpected = [r for r in collector.records if not _allowed(r, allowances)]
    if unexpected:
        lines = "\n".join(f"  {r.levelname} {r.name}: {r.getMessage()}" for r in unexpected)
        pytest.fail(f"{len(unexpected)} unexpected warning(s) logged; fix the cause, or declare "
                    f"it with @pytest.mark.{MARKER}(logger, substring):\n{lines}", pytrace=False)
