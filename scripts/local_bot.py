"""Starts a real bot on free local ports (action server + `rasa run` with the HTTP API) and
talks to it over REST. Used by the end-to-end tests and the benchmark."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "jiebei.tar.gz"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


class Bot:
    """A REST client for one running bot."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        return self.post("/webhooks/rest/webhook", {"sender": sender, "message": message})

    def tracker(self, sender: str) -> Dict[str, Any]:
        return self.get(f"/conversations/{sender}/tracker")

    def post(self, path: str, body: Dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def get(self, path: str) -> Any:
        separator = "&" if "?" in path else "?"
        with urllib.request.urlopen(f"{self.url}{path}{separator}token={self.token}", timeout=30) as response:
            return json.loads(response.read())


@contextlib.contextmanager
def running_bot(
    workdir: Path,
    model: Path = MODEL,
    extra_env: Optional[Dict[str, str]] = None,
    extra_args: Optional[Sequence[str]] = None,
) -> Iterator[Bot]:
    """Action server and Rasa on free ports, logs in `workdir`; both stopped on exit.
    `extra_args` go to `rasa run` (e.g. ["--cors", "http://localhost:8000"] for the web page)."""
    workdir.mkdir(parents=True, exist_ok=True)
    action_port, rasa_port = free_port(), free_port()
    token = secrets.token_urlsafe(16)
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", **(extra_env or {})}
    processes: List[subprocess.Popen] = []
    try:
        actions_log = workdir / "actions.log"
        processes.append(subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
            cwd=ROOT, env=env, stdout=actions_log.open("w"), stderr=subprocess.STDOUT,
        ))
        wait_until_up(f"http://127.0.0.1:{action_port}/health", processes[-1], actions_log)
        rasa_log = workdir / "rasa.log"
        processes.append(subprocess.Popen(
            [str(BIN / "rasa"), "run", "--model", str(model), "--port", str(rasa_port),
             "--enable-api", "--auth-token", token, "--endpoints", str(endpoints),
             "--credentials", str(ROOT / "credentials.yml"), *(extra_args or [])],
            cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT,
        ))
        wait_until_up(f"http://127.0.0.1:{rasa_port}/status?token={token}", processes[-1], rasa_log)
        yield Bot(f"http://127.0.0.1:{rasa_port}", token)
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
