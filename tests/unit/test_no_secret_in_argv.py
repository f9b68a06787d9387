"""No secret in any process's arguments (issue 32, point 3): every local user can read
/proc/PID/cmdline. The cluster's psql gets its SQL, the database password in it, on stdin."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, List

import pytest

from deploy.local_cluster import postgres


class Recorder:
    def __init__(self) -> None:
        self.calls: List[dict] = []

    def __call__(self, argv: List[str], **kwargs: Any) -> subprocess.CompletedProcess:
        self.calls.append({"argv": list(argv), **kwargs})
        return subprocess.CompletedProcess(argv, 0, stdout="", stderr="")


def test_psql_reads_its_sql_from_stdin_never_from_argv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    recorder = Recorder()
    monkeypatch.setattr(postgres.subprocess, "run", recorder)
    monkeypatch.setattr(postgres, "pg_bindir", lambda: Path("/usr/lib/postgresql/15/bin"))
    service = postgres.PostgresService.__new__(postgres.PostgresService)
    service.pg_dir, service.pg_user, service.ports = tmp_path, None, {"postgres": 5432}
    secret = "s3cret-password-value"
    service.psql(f"ALTER ROLE jiebei WITH LOGIN PASSWORD '{secret}';")
    (call,) = recorder.calls
    assert not any(secret in arg for arg in call["argv"]), call["argv"]
    assert secret in call["input"]
