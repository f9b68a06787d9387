"""Starting, waiting for and stopping local server processes: the one supervisor used by the
Makefile's chat/run/web (devtools/with_servers.py), the test bots (devtools/local_bot.py) and
`make scale` (deploy/local_cluster/)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import IO, Any, Dict, Iterator, Optional, Sequence


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def open_private(path: Path, mode: str = "wb") -> IO[Any]:
    """A file only its owner can read (logs, secrets and review files quote users or hold
    keys), made so before the first byte; an older file loses its wider mode too.
    `mode`: "w" or "a", with "b" for bytes (else UTF-8 text)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    descriptor = os.open(path, flags, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, mode, **({} if "b" in mode else {"encoding": "utf-8"}))


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 180.0) -> None:
    """Polls `url` until it answers 200; fails early if the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited; log {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up within {timeout}s; log {log}")


def stop(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def serving(
    command: Sequence[str],
    log: Path,
    health_url: str,
    env: Optional[Dict[str, str]] = None,
    cwd: Optional[Path] = None,
    timeout: float = 180.0,
    own_session: bool = True,
) -> Iterator[subprocess.Popen]:
    """`command` running (output in the owner-only `log`) and answering `health_url`, until the
    block ends, then stopped. With `own_session` a Ctrl-C in the terminal reaches only the
    foreground program, and the server is stopped here, in order."""
    with open_private(log) as output:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=own_session
        )
    try:
        wait_until_up(health_url, process, log, timeout)
        yield process
    finally:
        stop(process)
