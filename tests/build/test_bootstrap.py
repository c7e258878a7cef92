"""scripts/bootstrap.sh decides which system packages are missing; these tests run its functions
in bash with a library list and a PATH of their own (nothing is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

BOOTSTRAP = REPO / "scripts" / "bootstrap.sh"


def bash_array(name: str) -> list[tuple[str, str]]:
    """The "lib:package" entries of one array in bootstrap.sh."""
    body = re.search(rf"^{name}=\((.*?)^\)", BOOTSTRAP.read_text(), re.S | re.M)
    assert body is not None, name
    return [tuple(e.split(":")) for e in re.findall(r'"([^"]+)"', body.group(1))]  # type: ignore[misc]


SYSTEM = bash_array("SYSTEM_LIBS")
X11 = bash_array("X11_LIBS")


def tools(tmp_path: Path, *present: str) -> Path:
    """A bin folder with grep, a Python that has venv, and fakes of the `present` tools."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for real in ("grep",):
        found = shutil.which(real)
        assert found is not None
        (bin_dir / real).symlink_to(found)
    for name in (*present, "python-with-venv"):
        fake = bin_dir / name
        fake.write_text("#!/bin/sh\nexit 0\n")
        fake.chmod(0o755)
    return bin_dir


def run_bash(tmp_path: Path, script: str, *, libs: list[str], bin_dir: Path, extras: str = "",
             display: str = "") -> subprocess.CompletedProcess[str]:
    cache = tmp_path / "ldconfig.txt"
    cache.write_text("".join(f"\t{lib} (libc6,x86-64) => /usr/lib/{lib}\n" for lib in libs))
    bash, cat = shutil.which("bash"), shutil.which("cat")
    assert bash and cat
    prelude = (f'source "{BOOTSTRAP}"\n'
               f'library_cache() {{ {cat} "{cache}"; }}\n'  # in place of `ldconfig -p`
               f'STATION_EXTRAS="{extras}"\n')
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "DISPLAY": display}
    return subprocess.run([bash, "-c", prelude + script], env=env, capture_output=True, text=True,
                          timeout=60)


def missing(tmp_path: Path, **kwargs: object) -> list[str]:
    result = run_bash(tmp_path, f'missing_packages "{tmp_path}/bin/python-with-venv"',
                      **kwargs)  # type: ignore[arg-type]
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_nothing_is_missing_on_a_machine_that_has_it_all(tmp_path: Path) -> None:
    bin_dir = tools(tmp_path, "objdump", "ip", "Xvfb", "xdotool", "setxkbmap")
    every_lib = [lib for lib, _ in SYSTEM + X11]
    assert missing(tmp_path, libs=every_lib, bin_dir=bin_dir) == []
    assert missing(tmp_path, libs=every_lib, bin_dir=bin_dir, extras="test") == []


def test_a_headless_machine_with_everything_it_needs_is_not_asked_for_x11(tmp_path: Path) -> None:
    bin_dir = tools(tmp_path)
    assert missing(tmp_path, libs=[lib for lib, _ in SYSTEM], bin_dir=bin_dir) == []


def test_x11_libraries_come_along_whenever_packages_are_installed(tmp_path: Path) -> None:
    """A headless machine that lacks libzbar gets Qt's X11 libraries in the same apt line, so
    `station gui` works once a display is added (it used to abort: xcb-cursor missing)."""
    bin_dir = tools(tmp_path)
    libs = [lib for lib, pkg in SYSTEM if pkg != "libzbar0"]
    assert missing(tmp_path, libs=libs, bin_dir=bin_dir) == ["libzbar0", *(pkg for _, pkg in X11)]


def test_a_display_needs_the_x11_libraries(tmp_path: Path) -> None:
    bin_dir = tools(tmp_path)
    libs = [lib for lib, _ in SYSTEM] + [lib for lib, pkg in X11 if pkg != "libxcb-cursor0"]
    assert missing(tmp_path, libs=libs, bin_dir=bin_dir, display=":0") == ["libxcb-cursor0"]


def test_the_test_suite_gets_xvfb_xdotool_setxkbmap_and_the_x11_libraries(tmp_path: Path) -> None:
    bin_dir = tools(tmp_path, "objdump", "ip")
    got = missing(tmp_path, libs=[lib for lib, _ in SYSTEM], bin_dir=bin_dir, extras="test")
    assert got == ["xvfb", "xdotool", "x11-xkb-utils", *(pkg for _, pkg in X11)]


@pytest.mark.skipif(not shutil.which("id"), reason="needs id(1)")
def test_without_root_the_exact_apt_line_is_printed(tmp_path: Path) -> None:
    bin_dir = tools(tmp_path)
    libs = [lib for lib, pkg in SYSTEM if pkg != "libzbar0"]
    # Not root, whoever runs the tests (a function wins over the id command).
    result = run_bash(tmp_path, f'id() {{ echo 1000; }}\ninstall_system_packages '
                                f'"{tmp_path}/bin/python-with-venv"',
                      libs=libs, bin_dir=bin_dir)
    assert result.returncode == 1
    packages = " ".join(["libzbar0", *(pkg for _, pkg in X11)])
    assert (f"sudo apt-get update && sudo apt-get install -y --no-install-recommends {packages}"
            in result.stderr)


def test_the_window_checks_the_same_x11_libraries_bootstrap_installs() -> None:
    from station.ui.platform_check import XCB_LIBRARIES

    assert list(XCB_LIBRARIES.items()) == X11
