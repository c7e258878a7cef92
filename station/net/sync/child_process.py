"""Starting a child process that dies with this one.

A hub's nats-server that outlived its station (kill -9, a crash) would keep serving the venue:
the doors would not see the hub go, and the restarted hub would find a stranger on its port.
On Linux the kernel sends the child SIGKILL when its parent goes (PR_SET_PDEATHSIG); on Windows
the child is put in a job object that is closed, killing it, when this process ends. Elsewhere
(macOS) nothing ties them: HubServer stops a leftover server at its next start.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with_parent() -> Callable[[], None]:
    """A preexec_fn (it runs in the child between fork and exec) that asks for SIGKILL when the
    parent dies. Only async-signal-safe calls there: libc is looked up before the fork."""
    parent = os.getpid()
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The parent may have died between fork and prctl: then no signal would ever come.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


# PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process. So
# children are forked by one thread that lives as long as any child it forked, whichever thread
# asks; with none left it ends (no idle thread outlives the hub it served).
_Start = Callable[[], subprocess.Popen[bytes]]
_requests: queue.SimpleQueue[tuple[_Start, concurrent.futures.Future[subprocess.Popen[bytes]]]] = (
    queue.SimpleQueue())
_forker: threading.Thread | None = None
_forker_lock = threading.Lock()
_IDLE_CHECK_S = 0.5


def _fork_requests() -> None:
    global _forker
    children: list[subprocess.Popen[bytes]] = []
    while True:
        try:
            start, result = _requests.get(timeout=_IDLE_CHECK_S)
        except queue.Empty:
            children = [child for child in children if child.poll() is None]
            with _forker_lock:
                if not children and _requests.empty():
                    _forker = None  # the next request starts a new forker
                    return
            continue
        try:
            child = start()
        except BaseException as exc:  # handed to the caller, who raises it
            result.set_exception(exc)
        else:
            children.append(child)
            result.set_result(child)


def _in_forker(start: _Start) -> subprocess.Popen[bytes]:
    global _forker
    result: concurrent.futures.Future[subprocess.Popen[bytes]] = concurrent.futures.Future()
    with _forker_lock:  # queued under the lock: an idle forker cannot end with it unseen
        _requests.put((start, result))
        if _forker is None:
            _forker = threading.Thread(target=_fork_requests, name="child-forker", daemon=True)
            _forker.start()
    return result.result()


def start_child(args: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """subprocess.Popen(args, **popen), tied to this process's life where the system allows."""
    if sys.platform.startswith("linux"):
        preexec = _die_with_parent()
        return _in_forker(lambda: subprocess.Popen(args, preexec_fn=preexec, **popen))
    proc: subprocess.Popen[bytes] = subprocess.Popen(args, **popen)
    if sys.platform == "win32":
        _kill_on_close_job(proc)
    return proc


_job: int | None = None  # the Windows job handle, kept open (never closed) while we run


def _kill_on_close_job(proc: subprocess.Popen[bytes]) -> None:
    """Windows: add `proc` to a job whose processes are killed when its last handle closes,
    which Windows does when this process ends however it ends. (Not testable on the Linux build
    machine. The child runs for a moment before it is added; a station killed in that moment
    leaves it, and the next hub start stops it.)"""
    global _job
    if sys.platform != "win32":
        return
    from ctypes import wintypes

    class BasicLimits(ctypes.Structure):
        _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64),
                    ("PerJobUserTimeLimit", ctypes.c_int64),
                    ("LimitFlags", wintypes.DWORD),
                    ("MinimumWorkingSetSize", ctypes.c_size_t),
                    ("MaximumWorkingSetSize", ctypes.c_size_t),
                    ("ActiveProcessLimit", wintypes.DWORD),
                    ("Affinity", ctypes.c_size_t),
                    ("PriorityClass", wintypes.DWORD),
                    ("SchedulingClass", wintypes.DWORD)]

    class IoCounters(ctypes.Structure):
        _fields_ = [(name, ctypes.c_uint64) for name in (
            "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
            "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [("BasicLimitInformation", BasicLimits),
                    ("IoInfo", IoCounters),
                    ("ProcessMemoryLimit", ctypes.c_size_t),
                    ("JobMemoryLimit", ctypes.c_size_t),
                    ("PeakProcessMemoryUsed", ctypes.c_size_t),
                    ("PeakJobMemoryUsed", ctypes.c_size_t)]

    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
    JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.SetInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p,
                                                 wintypes.DWORD]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    with _forker_lock:
        if _job is None:
            job = kernel32.CreateJobObjectW(None, None)
            limits = ExtendedLimits()
            limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
            if not job or not kernel32.SetInformationJobObject(
                    job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(limits),
                    ctypes.sizeof(limits)):
                log.warning("could not make a job object for the hub (error %d): it may outlive "
                            "a crash of this station", ctypes.get_last_error())
                return
            _job = job
        handle = int(proc._handle)  # type: ignore[attr-defined,unused-ignore]  # Popen's, Windows only
        if not kernel32.AssignProcessToJobObject(_job, handle):
            log.warning("could not tie the hub to this station (error %d): it may outlive a "
                        "crash of this station", ctypes.get_last_error())
