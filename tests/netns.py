"""Tests marked `multicast` (mDNS on loopback) run in a network namespace of their own.

Whether multicast works on the machine's own loopback depends on the machine (a fresh Debian
root's `lo` has no MULTICAST flag), and other test runs on the same machine announce hubs there
too. So each such test is run by a pytest of its own inside a new network namespace, made with
`unshare --net` (as root, or as a user with `--map-root-user`), in which `lo` is up with
multicast on and a multicast route: the same everywhere, seen by nobody else, and gone with the
process. The test is skipped, saying why, only where no namespace can be made.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

MARK = "multicast"
INSIDE = "STATION_TEST_NETNS"  # set in the namespace: the test runs there as written
SETUP = ("{ip} link set lo up && {ip} link set lo multicast on "
         "&& {ip} route add 224.0.0.0/4 dev lo")
RUN_S = 600  # the inner pytest's own per-test timeout (the ini's) is well inside this


def inside() -> bool:
    return os.environ.get(INSIDE) == "1"


@functools.cache
def namespace_command() -> list[str] | str:
    """The command prefix that runs a program in a new network namespace set up for mDNS, or
    (a str) why no namespace can be made here."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux's"
    # Debian keeps `ip` in /usr/sbin on some releases, off an ordinary user's PATH.
    ip = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
    if shutil.which("unshare") is None or ip is None:
        return ("no unshare or ip here to make a network namespace with "
                "(Debian: apt-get install util-linux iproute2)")
    setup = SETUP.format(ip=shlex.quote(ip))
    attempts = ([["unshare", "--net"]] if os.geteuid() == 0 else []) + [
        ["unshare", "--net", "--map-root-user"]]
    why = ""
    for prefix in attempts:
        probe = subprocess.run([*prefix, "sh", "-c", setup], capture_output=True, text=True,
                               timeout=60)
        if probe.returncode == 0:
            return [*prefix, "sh", "-c", f'{setup} && exec "$@"', "netns"]
        why = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "no reason given"
    return f"cannot make a network namespace here ({why})"


class InnerFailure(Exception):
    """The test failed in its namespace; the inner pytest's report says how."""


class InNamespace(pytest.Item):
    """Stands in for a `multicast` test: runs it in a pytest inside a new namespace."""

    def runtest(self) -> None:
        command = namespace_command()
        if isinstance(command, str):
            pytest.skip(f"mDNS test needs a network namespace: {command}")
        with tempfile.TemporaryDirectory(prefix="station-netns-") as tmp:
            report = Path(tmp) / "report.xml"
            result = subprocess.run(
                [*command, sys.executable, "-m", "pytest", self.nodeid, "-p", "no:cacheprovider",
                 "-q", f"--basetemp={Path(tmp) / 'basetemp'}", f"--junitxml={report}"],
                cwd=self.config.rootpath, env={**os.environ, INSIDE: "1"},
                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=RUN_S)
            case = (ET.parse(report).getroot().find(".//testcase")
                    if report.exists() else None)
        if case is None:
            raise InnerFailure(f"the test did not run in its namespace (pytest exited "
                               f"{result.returncode}):\n{result.stdout}\n{result.stderr}")
        skipped = case.find("skipped")
        if skipped is not None:
            pytest.skip(skipped.get("message", "skipped in the namespace"))
        if result.returncode != 0 or case.find("failure") is not None \
                or case.find("error") is not None:
            raise InnerFailure(f"{result.stdout}\n{result.stderr}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: str | None = None) -> str:
        if isinstance(excinfo.value, InnerFailure):
            return f"in a network namespace of its own:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.name} (in a network namespace)"


def in_namespaces(items: list[pytest.Item]) -> None:
    """Replaces each selected `multicast` test by its InNamespace stand-in (same node id, same
    marks), unless this pytest already runs in the namespace."""
    if inside():
        return
    for index, item in enumerate(items):
        if item.get_closest_marker(MARK) is None or item.parent is None:
            continue
        stand_in = InNamespace.from_parent(item.parent, name=item.name)
        stand_in.own_markers.extend(item.own_markers)
        stand_in.add_marker(pytest.mark.timeout(RUN_S + 60))
        items[index] = stand_in
