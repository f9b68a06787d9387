"""Issue 15: nobody gets in where they don't belong. Each test attacks a running server on
loopback, the way someone on the network or with a leaked address would.
"""
from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from scripts.local_bot import BIN, LOCAL_ACTION_SECRET, ROOT, Bot, action_server, free_port

SECRET_HEADER = "X-Action-Secret"


def listening_addresses(port: int) -> set[str]:
    """The local addresses a socket LISTENs on for `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1, little-endian hex as /proc writes it


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def actions_url(tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    with action_server(tmp_path_factory.mktemp("actions"), port):
        yield f"http://127.0.0.1:{port}"


# --- listening addresses ---------------------------------------------------------------------

def test_the_action_server_listens_on_loopback_only(actions_url: str) -> None:
    assert listening_addresses(port_of(actions_url)) == {LOOPBACK_V4}


def test_rasa_listens_on_loopback_only(bot: Bot) -> None:
    assert listening_addresses(port_of(bot.url)) == {LOOPBACK_V4}


@pytest.mark.parametrize("target", ["chat", "run", "web"])
def test_make_starts_everything_on_loopback_unless_told_otherwise(target: str) -> None:
    plan = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--interface 127.0.0.1" in plan and "actions.server" in open(ROOT / "scripts/with_action_server.sh").read()
    exposed = subprocess.run(["make", "-n", target, "RASA_INTERFACE=0.0.0.0"], cwd=ROOT, capture_output=True,
                             text=True).stdout
    assert "--interface 0.0.0.0" in exposed


# --- who may call the action server ---------------------------------------------------------

ACTION_CALL = json.dumps({"next_action": "action_session_start", "sender_id": "attacker", "version": "3.6.2",
                          "tracker": {"sender_id": "attacker", "slots": {}, "events": [], "latest_message": {}},
                          "domain": {}}).encode()


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: LOCAL_ACTION_SECRET + "x"}])
def test_calls_without_the_secret_are_refused(actions_url: str, headers: Dict[str, str]) -> None:
    status, _ = post(f"{actions_url}/webhook", ACTION_CALL, headers)
    assert status == 401
    request = urllib.request.Request(f"{actions_url}/actions", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_the_health_probe_stays_open_and_rasa_s_calls_pass(actions_url: str) -> None:
    with urllib.request.urlopen(f"{actions_url}/health", timeout=10) as answer:
        assert answer.status == 200
    status, body = post(f"{actions_url}/webhook", ACTION_CALL, {SECRET_HEADER: LOCAL_ACTION_SECRET})
    assert status == 200, body


def test_a_deflate_bomb_is_refused_before_it_inflates(actions_url: str) -> None:
    bomb = zlib.compress(b"{" + b" " * (300 * 1024 * 1024) + b"}", 9)  # 300 MB of JSON in about 300 KB
    assert len(bomb) < 1024 * 1024
    status, body = post(f"{actions_url}/webhook", bomb, {SECRET_HEADER: LOCAL_ACTION_SECRET, "Content-Encoding": "deflate"})
    assert status == 413, body[:200]
    # The server is still there and still answers.
    assert post(f"{actions_url}/webhook", ACTION_CALL, {SECRET_HEADER: LOCAL_ACTION_SECRET})[0] == 200


def test_a_small_deflated_call_still_works(actions_url: str) -> None:
    status, body = post(f"{actions_url}/webhook", zlib.compress(ACTION_CALL),
                        {SECRET_HEADER: LOCAL_ACTION_SECRET, "Content-Encoding": "deflate"})
    assert status == 200, body


def test_an_oversized_body_is_refused(actions_url: str) -> None:
    status, _ = post(f"{actions_url}/webhook", b"{" + b" " * (3 * 1024 * 1024) + b"}", {SECRET_HEADER: LOCAL_ACTION_SECRET})
    assert status == 413


def test_an_error_never_echoes_the_conversation(actions_url: str) -> None:
    marker = "a-debt-fact-that-must-not-leak-7f3a"
    call = json.dumps({"next_action": "action_session_start", "sender_id": marker, "tracker": marker}).encode()
    status, body = post(f"{actions_url}/webhook", call, {SECRET_HEADER: LOCAL_ACTION_SECRET})
    assert status >= 400
    assert marker.encode() not in body


def test_the_action_server_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "ACTION_SERVER_SECRET": ""}
    result = subprocess.run([str(BIN / "python"), "-m", "actions.server", "--port", str(free_port())], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ACTION_SERVER_SECRET" in result.stderr + result.stdout
