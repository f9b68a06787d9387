"""The static server of the web page (devtools/serve_web.py): what it serves, and its CSP."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from typing import Iterator

import pytest

from devtools.local_bot import free_port
from devtools.serve_web import content_security_policy, make_server

BOT = "http://localhost:5005"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = make_server(free_port(), BOT, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_serves_the_page_with_its_policy(base_url: str) -> None:
    with urllib.request.urlopen(f"{base_url}/?socketUrl={BOT}", timeout=5) as response:
        body = response.read().decode("utf-8")
        policy = response.headers["Content-Security-Policy"]
    assert "<title>借呗额度助手</title>" in body
    assert policy == content_security_policy(BOT)
    assert "script-src 'self';" in policy
    assert "connect-src 'self' http://localhost:5005 ws://localhost:5005;" in policy
    assert "googleapis" not in policy and "*" not in policy


@pytest.mark.parametrize(
    "path",
    [
        "/node_modules/rasa-webchat/package.json",
        "/package.json",
        "/package-lock.json",
        "/vendor/",
        "/node_modules/",
        "/%2e%2e/Makefile",
        "/.gitignore",
        "/../credentials.yml",
    ],
)
def test_serves_nothing_but_the_page(base_url: str, path: str) -> None:
    assert status(base_url + path) == 404


def test_https_bot_gets_wss() -> None:
    assert "connect-src 'self' https://bot.example wss://bot.example;" in content_security_policy("https://bot.example")
    with pytest.raises(ValueError):
        content_security_policy("javascript:alert(1)")
