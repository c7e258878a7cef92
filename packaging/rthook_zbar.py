"""PyInstaller runtime hook: make pyzbar find the libzbar bundled next to the program.

pyzbar looks the library up with ctypes.util.find_library('zbar'), which searches the system
(ldconfig, gcc) and never the bundle, so on a machine without libzbar0 it would fail. This runs
before the program's own imports and answers 'zbar' with the bundled file."""

import ctypes.util
import os
import sys

_system_find_library = ctypes.util.find_library
_BUNDLED_NAMES = ("libzbar.so.0", "libzbar.0.dylib", "libzbar-64.dll", "libzbar-32.dll")


def _find_library(name):
    if name == "zbar":
        base = getattr(sys, "_MEIPASS", os.path.dirname(sys.executable))
        for candidate in _BUNDLED_NAMES:
            path = os.path.join(base, candidate)
            if os.path.exists(path):
                return path
    return _system_find_library(name)


ctypes.util.find_library = _find_library
