"""A whole cluster for the scale tests: real PostgreSQL, Redis, two action servers, two Rasa
replicas and nginx (deploy/local_cluster/cluster.py), on free loopback ports in a folder of its own.

Debian's packages are installed here when missing (as `make scale` does); the tests are
skipped, with the reason, only when that is impossible (no apt-get, no root or sudo, or apt
fails), and never in CI (CI set, as .ci/run has it): there they fail instead. Logs are copied to
tests/output/scale/ (git-ignored) before the folder is removed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from deploy.local_cluster.cluster import Cluster, ServicesUnavailable, alive, install_packages, running_cluster
from devtools.local_bot import ROOT

LOGS = ROOT / "tests" / "output" / "scale"
SCALE_WECHAT_TOKEN = "scale-wechat-token"


class ArgvWatch(threading.Thread):
    """Reads every process's arguments (/proc/PID/cmdline, as any local user can) over and over
    from before the cluster starts, and notes any that holds one of its secrets (issue 32: the
    database password was in psql's argv)."""

    def __init__(self, secrets_file: Path) -> None:
        super().__init__(daemon=True)
        self.secrets_file = secrets_file
        self.secrets: Dict[str, str] = {}
        self.hits: List[str] = []
        self.scans = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            if not self.secrets and self.secrets_file.exists():
                try:
                    self.secrets = json.loads(self.secrets_file.read_text())
                except (OSError, ValueError):
                    pass  # being written: next round
            for path in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    args = path.read_bytes().decode("utf-8", "replace")
                except OSError:
                    continue
                for name, value in self.secrets.items():
                    if value and value in args:
                        shown = args.replace(value, "***").replace(chr(0), " ")[:160]  # never print it
                        self.hits.append(f"{name} in the arguments of {shown!r}")
            if self.secrets:
                self.scans += 1


@pytest.fixture(scope="session")
def argv_watch() -> Iterator[Dict[str, Optional[ArgvWatch]]]:
    holder: Dict[str, Optional[ArgvWatch]] = {"watch": None}
    yield holder
    if holder["watch"] is not None:
        holder["watch"].done.set()


@pytest.fixture(scope="session")
def cluster(trained_model: Path, argv_watch: Dict[str, Optional[ArgvWatch]]) -> Iterator[Cluster]:
    try:
        install_packages(quiet=True)
    except ServicesUnavailable as reason:
        message = f"PostgreSQL, Redis and nginx are needed and could not be installed: {reason}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)  # CI is root with apt: a skip there would hide a broken set-up
        pytest.skip(message)
    # Not pytest's tmp_path: that folder is private to root, and PostgreSQL and Redis run as
    # their own users, which must reach their folders.
    base = Path(tempfile.mkdtemp(prefix="jiebei-scale-"))
    # The replicas take their environment from this process: a WeChat token for the replay test.
    os.environ.setdefault("WECHAT_TOKEN", SCALE_WECHAT_TOKEN)
    base.chmod(0o755)
    watch = ArgvWatch(base / "secrets.json")
    argv_watch["watch"] = watch
    watch.start()
    try:
        with running_cluster(base, model=trained_model) as running:
            yield running
            started = running.running()
            assert {"postgres", "redis", "nginx"} <= set(started), started
        # What `make scale-down` promises: every process the cluster started is gone.
        left = {name: pid for name, pid in started.items() if alive(pid)}
        assert not left, f"still running after the cluster was stopped: {left}"
    finally:
        if LOGS.exists():
            shutil.rmtree(LOGS)
        LOGS.mkdir(parents=True)
        for log in [*base.glob("log/*.log"), *base.glob("nginx/*.log"), *base.glob("pg/*.log")]:
            shutil.copy(log, LOGS / f"{log.parent.name}-{log.name}")
        shutil.rmtree(base, ignore_errors=True)
