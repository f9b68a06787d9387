"""Serves the web page (web/) on 127.0.0.1 with a Content-Security-Policy.

Only the page's own files are served: the top level of web/ and web/vendor/ (never
node_modules/ or package*.json). The policy allows scripts, styles, fonts and images from
this server only (plus data: images and fonts inlined in the widget's bundle), and network connections
to this server and the bot's origin (http(s)
and ws(s)), so nothing is fetched from a CDN or a font service.

Usage: python -m devtools.serve_web [--port 8000] [--bot-url http://localhost:5005]
(defaults from WEB_PORT and BOT_URL)
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

from runtime.paths import ROOT

WEB = ROOT / "web"
SERVED_DIRS = ("", "vendor")  # relative to web/
HIDDEN_FILES = frozenset({"package.json", "package-lock.json"})
SERVED_SUFFIXES = frozenset({".html", ".js", ".css", ".json", ".svg", ".png", ".ico", ".txt"})
DEFAULT_BOT_URL = "http://localhost:5005"


def bot_origins(bot_url: str) -> list[str]:
    """The bot's origin for fetch/XHR and for WebSocket (socket.io upgrades to ws)."""
    parts = urlsplit(bot_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"bot URL must be http(s)://host[:port], got {bot_url!r}")
    websocket = "wss" if parts.scheme == "https" else "ws"
    return [f"{parts.scheme}://{parts.netloc}", f"{websocket}://{parts.netloc}"]


def content_security_policy(bot_url: Optional[str]) -> str:
    """The page's policy; with no `bot_url` the bot is on the page's own origin (nginx, make scale)."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            # rasa-webchat injects its stylesheet as <style> elements at run time.
            "style-src 'self' 'unsafe-inline'",
            # data: only for the carousel icon font inlined in rasa-webchat's own bundle; no
            # remote font service (the bundle's Google-Fonts import is stripped, see build_web.py).
            "font-src 'self' data:",
            "img-src 'self' data:",
            " ".join(["connect-src 'self'", *(bot_origins(bot_url) if bot_url else [])]),
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


class WebHandler(SimpleHTTPRequestHandler):
    csp = ""
    quiet = False

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def send_head(self):  # type: ignore[override]
        if not self.is_served(self.path):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path: Any) -> None:
        """No directory is ever listed (index.html stands for /)."""
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

    @staticmethod
    def request_path(target: str) -> Optional[str]:
        """The decoded path of a request target exactly as SimpleHTTPRequestHandler.translate_path
        reads it (before ? and #, then unquoted); None for an odd target: not one absolute path
        ("//host", a control character, a backslash), where a URL parser and the file lookup
        could disagree (`GET \x01//..%2Fnode_modules/` read as the host "..%2Fnode_modules")."""
        if not target.startswith("/") or target.startswith("//"):
            return None
        if any(ord(char) < 0x21 or ord(char) == 0x7F or char == "\\" for char in target):
            return None
        path = unquote(target.split("?", 1)[0].split("#", 1)[0])
        if any(ord(char) < 0x20 or char == "\\" for char in path) or path.startswith("//"):
            return None
        return path

    @classmethod
    def is_served(cls, url_path: str) -> bool:
        path = cls.request_path(url_path)
        if path is None:
            return False
        if path == "/":
            return True  # index.html
        parts = [part for part in path.split("/") if part]
        if not parts or any(part.startswith(".") or part == ".." for part in parts):
            return False
        folder, name = "/".join(parts[:-1]), parts[-1]
        return folder in SERVED_DIRS and name not in HIDDEN_FILES and Path(name).suffix in SERVED_SUFFIXES

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        if not self.quiet:
            super().log_message(format, *args)


def make_server(port: int, bot_url: str, quiet: bool = False, directory: Path = WEB) -> ThreadingHTTPServer:
    handler = type("Handler", (WebHandler,), {"csp": content_security_policy(bot_url), "quiet": quiet})
    return ThreadingHTTPServer(("127.0.0.1", port), functools.partial(handler, directory=str(directory)))


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Serve web/ on 127.0.0.1 with a CSP.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8000")))
    parser.add_argument(
        "--bot-url",
        default=os.environ.get("BOT_URL", DEFAULT_BOT_URL),
        help="the bot's socket.io URL, allowed in connect-src",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log")
    args = parser.parse_args(argv)
    if not (WEB / "index.html").exists():
        raise SystemExit("web/index.html is missing")
    server = make_server(args.port, args.bot_url, args.quiet)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"借呗额度助手: http://localhost:{server.server_address[1]}/ (bot: {args.bot_url})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
