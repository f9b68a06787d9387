"""Serves Sanic blueprints on free loopback ports for channel tests (a real server, no mocks)."""

from __future__ import annotations

import socket
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable, List

import pytest_asyncio
from sanic import Blueprint, Sanic

Serve = Callable[[Blueprint, str], Awaitable[str]]


@pytest_asyncio.fixture
async def serve_blueprint() -> AsyncIterator[Serve]:
    """``await serve_blueprint(blueprint, "/webhooks/rest")`` → that prefix's base URL."""
    # Sanic 21.12 rewrites its HTTP methods in place on startup, so a second server
    # in one process breaks unless test mode keeps the originals (as sanic-testing does).
    Sanic.test_mode = True
    servers: List[Any] = []

    async def serve(blueprint: Blueprint, url_prefix: str) -> str:
        app = Sanic(f"channel_test_{uuid.uuid4().hex}", configure_logging=False)
        app.blueprint(blueprint, url_prefix=url_prefix)
        # A pre-bound socket: Sanic treats port=0 as "use the default port 8000".
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        assert server is not None
        await server.startup()
        await server.before_start()
        await server.after_start()
        servers.append(server)
        port = server.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}{url_prefix}"

    yield serve
    for server in servers:
        await server.before_stop()
        for connection in list(server.connections):
            connection.close_if_idle()
        server.close()
        await server.wait_closed()
        await server.after_stop()
