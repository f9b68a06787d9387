"""What every part of the cluster shares: its folder (pid files, logs, secrets) and the way a
process is started, signalled and recognised as ours there."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from devtools.processes import open_private
from runtime.paths import ROOT

from .processes import alive, cmdline, wait_gone


class Supervisor:
    """The processes started in `base`: NAME.pid holds the pid and a marker from its command
    line (a pid alone may have been reused by then), log/NAME.log its output."""

    base: Path
    log_dir: Path
    ports: Dict[str, int]

    def _secrets(self) -> Dict[str, str]:
        path = self.base / "secrets.json"
        values = json.loads(path.read_text()) if path.exists() else {}
        wanted = ("db_password", "redis_password", "action_secret")
        if all(key in values for key in wanted):
            return values
        values = {key: values.get(key) or secrets.token_urlsafe(18) for key in wanted}
        with open_private(path, "w") as handle:  # never readable by others, not even for a moment
            handle.write(json.dumps(values))
        return values

    def _ours(self, pidfile: Path) -> Optional[int]:
        """The pid NAME.pid names, if that process is alive and still the one started."""
        info = json.loads(pidfile.read_text())
        return info["pid"] if alive(info["pid"]) and info["marker"] in cmdline(info["pid"]) else None

    def running(self) -> Dict[str, int]:
        """Name → pid of the processes this cluster started that are still alive."""
        found = {pidfile.stem: self._ours(pidfile) for pidfile in sorted(self.base.glob("*.pid"))}
        return {name: pid for name, pid in found.items() if pid is not None}

    def _spawn(
        self,
        name: str,
        command: Sequence[str],
        env: Optional[Dict[str, str]] = None,
        marker: Optional[str] = None,
        umask: Optional[int] = None,
    ) -> subprocess.Popen:
        """Starts `command` in its own session (it outlives `make scale`), logs to log/NAME.log,
        records its pid in NAME.pid together with a marker from its command line."""
        log = open_private(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=env or dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # nginx opens its own logs (which quote request paths): owner-only.
            preexec_fn=None if umask is None else (lambda: os.umask(umask)),
        )
        log.close()
        marker = marker or str(command[-1])
        (self.base / f"{name}.pid").write_text(json.dumps({"pid": process.pid, "marker": marker}))
        return process

    def _signal(self, name: str, signum: int) -> None:
        """Signals the process group NAME.pid names, if it is still ours, and waits until it is gone."""
        pid = self._ours(self.base / f"{name}.pid")
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signum)
            wait_gone(pid)

    def _stop_all(self, order: Sequence[str]) -> List[str]:
        """SIGTERM to the processes named by pid files, by name prefix in `order` (each group
        awaited before the next), then the pid files are removed."""
        stopped = []
        pidfiles = sorted(self.base.glob("*.pid"))
        for prefix in order:
            group = [p for p in pidfiles if p.stem.startswith(prefix)]
            ours = {}
            for pidfile in group:
                pid = self._ours(pidfile)
                if pid is not None:
                    ours[pidfile.stem] = pid
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(pid, signal.SIGTERM)
            for name, pid in ours.items():
                wait_gone(pid)
                stopped.append(name)
            for pidfile in group:
                pidfile.unlink()
        return stopped
