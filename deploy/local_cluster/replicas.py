"""The cluster's action servers and Rasa replicas: each replica talks to PostgreSQL, Redis and one
action server (round robin), and runs the one model snapshot the cluster took."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Dict, Tuple

from devtools.processes import wait_until_up
from runtime.paths import BIN, ROOT
from runtime.rasa_run import api_server_command

from .postgres import PostgresService
from .settings import ENDPOINTS, LOCK_LIFETIME


class RasaReplicas(PostgresService):
    """Each replica is given the tracker store's settings (PostgresService), Redis's, and an action server."""

    model: Path
    token: str
    action_servers: int

    def _env(self) -> Dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "ACTION_SERVER_HOST": "127.0.0.1",
            "ACTION_SERVER_SECRET": self._secrets()["action_secret"],
        }

    def _start_action_server(self, index: int) -> None:
        port = self.ports[f"actions-{index}"]
        process = self._spawn(
            f"actions-{index}",
            [str(BIN / "python"), "-m", "actions.server", "--port", str(port)],
            self._env(),
            marker=f"--port {port}",
        )
        wait_until_up(f"http://127.0.0.1:{port}/health", process, self.log_dir / f"actions-{index}.log")

    def replica_env(self, index: int) -> Dict[str, str]:
        action_port = self.ports[f"actions-{index % self.action_servers}"]
        return {
            **self._env(),
            **self.postgres_env(),
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.ports["redis"]),
            "REDIS_PASSWORD": self._secrets()["redis_password"],
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
            "TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME),
            # nginx (on loopback) sets X-Real-IP; only its word counts (channels/webchat.py).
            "WEBCHAT_TRUSTED_PROXIES": "127.0.0.1",
        }

    def _spawn_replica(self, index: int) -> Tuple[str, subprocess.Popen, Path]:
        port = self.ports[f"rasa-{index}"]
        name = f"rasa-{index}"
        # The token in the environment, not the arguments (runtime/rasa_run.py).
        command = api_server_command(
            str(BIN / "python"), str(self.model), port, str(ENDPOINTS), str(ROOT / "credentials.yml")
        )
        process = self._spawn(
            name, command, {**self.replica_env(index), "RASA_TOKEN": self.token}, marker=f"--port {port}"
        )
        return f"http://127.0.0.1:{port}/status?token={self.token}", process, self.log_dir / f"{name}.log"

    def start_replica(self, index: int) -> None:
        wait_until_up(*self._spawn_replica(index), timeout=300)

    def kill_replica(self, index: int) -> None:
        """SIGKILL, as a crash or an OOM kill would: no shutdown handlers run."""
        self._signal(f"rasa-{index}", signal.SIGKILL)
