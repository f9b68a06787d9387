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


def raw_status(base_url: str, target: bytes) -> int:
    """The status of a request line written by hand (urllib would clean the target up)."""
    import socket

    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = sock.recv(200).decode("latin-1")
    return int(head.split()[1]) if head.startswith("HTTP/") else 400


@pytest.mark.parametrize(
    "target",
    [
        b"\x01//..%2Fnode_modules/",  # issue 32: read as host "..%2Fnode_modules" by urlsplit
        b"//..%2Fnode_modules/",
        b"//node_modules/rasa-webchat/package.json",
        b"/vendor/..%2F..%2Fnode_modules/",
        b"/%5c..%5cnode_modules/",
        b"/node_modules%2Frasa-webchat%2Fpackage.json",
        b"http://x/node_modules/",
    ],
)
def test_odd_request_lines_are_refused_not_listed(web_with_packages: str, target: bytes) -> None:
    assert raw_status(web_with_packages, target) in (400, 404)


@pytest.fixture(scope="module")
def web_with_packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page server over a web/ that has its node_modules/, as after `make web-deps`."""
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<title>借呗额度助手</title>", encoding="utf-8")
    (web / "node_modules" / "rasa-webchat").mkdir(parents=True)
    (web / "node_modules" / "rasa-webchat" / "package.json").write_text("{}", encoding="utf-8")
    server = make_server(free_port(), BOT, quiet=True, directory=web)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_page_is_still_served_over_that_web_folder(web_with_packages: str) -> None:
    assert raw_status(web_with_packages, b"/") == 200
