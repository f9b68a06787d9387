"""The operating-system side of the cluster's processes: running as a service user, whether a
pid (and its process group) is still alive, and turning SIGTERM/SIGHUP into an exception so
that a stopped `make scale` or test run still stops what it started."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import signal
import time
from pathlib import Path
from typing import Iterator, List, Optional


def as_user(user: Optional[str]) -> List[str]:
    """A command prefix that runs as `user` (when root; PostgreSQL refuses to run as root)."""
    if user is None or os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def service_user(name: str) -> Optional[str]:
    """The system user Debian's package created (postgres, redis), when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
        return name
    except KeyError:
        return None


def chown_tree(path: Path, user: Optional[str]) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                os.chown(name, entry.pw_uid, entry.pw_gid)


def stat_fields(path: str) -> List[str]:
    """The fields of a /proc/.../stat file after the command name: state, ppid, pgrp, ..."""
    return Path(path).read_text().rsplit(")", 1)[1].split()


def alive(pid: int) -> bool:
    """Whether any thread of process `pid` still runs. A zombie is not alive, but the main
    thread alone turns zombie while another thread of the same process is still exiting and
    holding its open files: a SIGKILLed replica's listening socket kept accepting connections
    for up to 0.7 s after its main thread was a zombie (nginx sent a POST there, which was reset).
    The files are closed only once the last thread has exited."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        with contextlib.suppress(OSError, IndexError):
            if stat_fields(f"/proc/{pid}/task/{task}/stat")[0] not in ("Z", "X"):
                return True
    return False


def group_alive(pgid: int) -> bool:
    """Whether any process of process group `pgid` (a started process and its children) is alive."""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat_fields(stat)[2]) == pgid and alive(int(Path(stat).parent.name)):
                return True
    return False


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def children(pid: int) -> List[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def wait_gone(pid: int, timeout: float = 20) -> None:
    """Waits until `pid` (checked to be ours before it was signalled) and every process of its
    group have exited with their sockets closed: only their state is watched, since a dying
    process loses its command line before it closes its files, and its listening socket
    still accepts in between."""
    deadline = time.monotonic() + timeout
    while alive(pid) or group_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5
        time.sleep(0.1)
    with contextlib.suppress(ChildProcessError):  # reap it if it is our own child
        os.waitpid(pid, os.WNOHANG)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a cluster was running."""


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Turns SIGTERM and SIGHUP into an exception, so that `finally` blocks run (Python's
    default is to die on the spot); only in the main thread, where handlers can be set."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        for other in previous:  # a second signal must not interrupt the clean-up
            signal.signal(other, signal.SIG_IGN)
        raise Terminated(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
