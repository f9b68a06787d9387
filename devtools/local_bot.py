"""Starts a real bot on free local ports (action server + `rasa run` with the HTTP API) and
talks to it over REST. Used by the end-to-end tests and the benchmark."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from devtools.processes import free_port, serving
from runtime.paths import ROOT
from runtime.rasa_run import api_server_command

MODEL = ROOT / "models" / "jiebei.tar.gz"
BIN = Path(sys.executable).parent


def conversation_key(sender: str) -> str:
    """Where the REST channel stores `sender`'s conversation (its own key space, with a
    pseudonym for an id that carries PII)."""
    from channels.guard import rest_conversation_key

    return rest_conversation_key(sender)


class _BoundHTTPHandler(urllib.request.HTTPHandler):
    """Plain HTTP from a chosen local address."""

    def __init__(self, source_address: str) -> None:
        super().__init__()
        self.source_address = source_address

    def http_open(self, request: urllib.request.Request) -> Any:
        def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
            return http.client.HTTPConnection(host, source_address=(self.source_address, 0), **kwargs)

        return self.do_open(connection, request)


class Bot:
    """A REST client for one running bot."""

    def __init__(
        self,
        url: str,
        token: str,
        workdir: Optional[Path] = None,
        token_header: bool = False,
        client_address: Optional[str] = None,
    ) -> None:
        self.url = url
        # A loopback address of its own (127.0.0.N) for REST messages: nginx tells clients apart
        # by address (make scale's per-client limit), as it would real users.
        self.client_address = client_address
        self._opener = urllib.request.build_opener(_BoundHTTPHandler(client_address)) if client_address else None
        self.token = token
        # Process ids when this process started the servers (the benchmark reads their CPU and memory).
        self.pid: Optional[int] = None
        self.action_pid: Optional[int] = None
        # Behind nginx (make scale) the API token goes in X-Rasa-Token, never in the URL.
        self.token_header = token_header
        self.workdir = workdir  # logs (*.log) and the SQLite tracker store (tracker.db)

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        return self.post("/webhooks/rest/webhook", {"sender": sender, "message": message})

    def tracker(self, sender: str, rest: bool = True) -> Dict[str, Any]:
        """The conversation of a REST `sender` (stored under channels.guard.rest_conversation_key:
        the REST key space, a random id with a phone-shaped run of digits pseudonymised), or, with
        ``rest=False``, of a sender id the channel keeps as it is (a WeChat openid)."""
        return self.get(f"/conversations/{conversation_key(sender) if rest else sender}/tracker")

    def post(self, path: str, body: Dict[str, Any]) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with (self._opener.open if self._opener else urllib.request.urlopen)(request, timeout=30) as response:
            return json.loads(response.read())

    def get(self, path: str) -> Any:
        if self.token_header:
            request = urllib.request.Request(f"{self.url}{path}", headers={"X-Rasa-Token": self.token})
        else:
            separator = "&" if "?" in path else "?"
            request = urllib.request.Request(f"{self.url}{path}{separator}token={self.token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


def endpoints_for(action_port: int, tracker_db: Path, root: Path = ROOT) -> str:
    """The project's endpoints.yml with the action server on `action_port` and its own SQLite file.

    Edited as text, so that ${ACTION_SERVER_SECRET} stays for Rasa to expand."""
    text = (root / "endpoints.yml").read_text(encoding="utf-8")
    text = text.replace("http://localhost:5055/webhook", f"http://127.0.0.1:{action_port}/webhook")
    return text.replace('db: "var/tracker.db"', f"db: {json.dumps(str(tracker_db))}")


# The action servers and Rasa this process starts share this secret (actions/server.py): the
# one the Makefile exports, or one of their own.
LOCAL_ACTION_SECRET = os.environ.get("ACTION_SERVER_SECRET") or secrets.token_hex(16)


def _env(extra_env: Optional[Dict[str, str]], root: Path = ROOT) -> Dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(root),
        "RASA_TELEMETRY_ENABLED": "false",
        "ACTION_SERVER_SECRET": LOCAL_ACTION_SECRET,
        **(extra_env or {}),
    }


@contextlib.contextmanager
def action_server(
    workdir: Path, port: int, extra_env: Optional[Dict[str, str]] = None, root: Path = ROOT
) -> Iterator[subprocess.Popen]:
    """The action server on `port` until the block ends. `root`: the checkout it runs from
    (another commit's worktree, for the benchmark's before/after)."""
    workdir.mkdir(parents=True, exist_ok=True)
    with serving(
        [str(BIN / "python"), "-m", "actions.server", "--port", str(port)],
        workdir / f"actions-{port}.log",
        f"http://127.0.0.1:{port}/health",
        env=_env(extra_env, root),
        cwd=root,
        own_session=False,
    ) as process:
        yield process


@contextlib.contextmanager
def rasa_server(
    workdir: Path,
    action_port: int,
    model: Path = MODEL,
    extra_env: Optional[Dict[str, str]] = None,
    extra_args: Optional[Sequence[str]] = None,
    root: Path = ROOT,
    endpoints_extra: str = "",
) -> Iterator[Bot]:
    """`rasa run` with the REST channel and the token-protected API, conversations in
    `workdir`/tracker.db, custom actions expected on `action_port`; `endpoints_extra` is
    appended to its endpoints.yml (e.g. a lock store)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port, token = (
        free_port(),
        secrets.token_hex(16),
    )  # a urlsafe token may start with "-", which the CLI takes for an option
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(endpoints_for(action_port, workdir / "tracker.db", root) + endpoints_extra, encoding="utf-8")
    with serving(
        api_server_command(
            str(BIN / "python"), str(model), port, str(endpoints), str(root / "credentials.yml"), *(extra_args or [])
        ),
        workdir / f"rasa-{port}.log",
        f"http://127.0.0.1:{port}/status?token={token}",
        env={**_env(extra_env, root), "RASA_TOKEN": token},
        cwd=root,
        own_session=False,
    ) as process:
        bot = Bot(f"http://127.0.0.1:{port}", token, workdir)
        bot.pid = process.pid
        yield bot


@contextlib.contextmanager
def running_bot(
    workdir: Path,
    model: Path = MODEL,
    extra_env: Optional[Dict[str, str]] = None,
    extra_args: Optional[Sequence[str]] = None,
    root: Path = ROOT,
    endpoints_extra: str = "",
) -> Iterator[Bot]:
    """Action server and Rasa on free ports, logs in `workdir`; both stopped on exit.
    `extra_args` go to `rasa run` (e.g. ["--cors", "http://localhost:8000"] for the web page)."""
    action_port = free_port()
    with (
        action_server(workdir, action_port, extra_env, root) as actions,
        rasa_server(workdir, action_port, model, extra_env, extra_args, root, endpoints_extra) as bot,
    ):
        bot.action_pid = actions.pid
        yield bot
