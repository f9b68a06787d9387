"""Server-wide request limits, set from a channel's blueprint."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Sanic

# Sanic's default is 100 MB. Channel routes cap their own bodies lower (64 KB); this
# global cap refuses larger bodies (413) before they are read, on every route.
MAX_REQUEST_BYTES = 1024 * 1024


def cap_request_size(blueprint: Blueprint, max_bytes: int = MAX_REQUEST_BYTES) -> None:
    """Lowers the app's REQUEST_MAX_SIZE to ``max_bytes`` when the server starts."""

    @blueprint.listener("before_server_start")
    async def _cap_request_size(app: Sanic, _loop: Any) -> None:
        # Connections read the limit when they open, i.e. after this listener ran.
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, max_bytes)
