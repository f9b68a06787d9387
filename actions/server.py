"""The action server: rasa-sdk's app, listening on loopback, answering only Rasa.

    python -m actions.server --port 5055

What `rasa run actions` does not do, and this does:
- listens on 127.0.0.1 unless ACTION_SERVER_HOST says otherwise (rasa-sdk binds 0.0.0.0);
- answers /webhook and /actions only with the shared secret in the X-Action-Secret header
  (ACTION_SERVER_SECRET, which endpoints.yml makes Rasa send); /health stays open for probes;
- caps request bodies at MAX_BODY_BYTES as sent and at MAX_INFLATED_BYTES after a
  `Content-Encoding: deflate` (rasa-sdk inflates without a limit: a few hundred KB can become
  hundreds of MB);
- answers an unexpected error with a bare 500 (rasa-sdk's echoes the whole request: the
  conversation's tracker).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import zlib
from typing import Optional

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

SECRET_HEADER = "X-Action-Secret"
SECRET_ENV = "ACTION_SERVER_SECRET"
HOST_ENV = "ACTION_SERVER_HOST"
DEFAULT_HOST = "127.0.0.1"
# A tracker of a long conversation is a few hundred KB; far more is not Rasa talking.
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_INFLATED_BYTES = 8 * 1024 * 1024
OPEN_PATHS = frozenset({"/health"})

logger = logging.getLogger(__name__)


class InflateError(ValueError):
    """A deflate body that is corrupt or inflates beyond the cap."""


def inflate(body: bytes, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """The inflated body, refusing to produce more than `limit` bytes."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise InflateError(f"not deflate data: {error}") from error
    if len(data) > limit or inflater.unconsumed_tail:
        raise InflateError(f"inflates beyond {limit} bytes")
    return data


def secret_matches(request: Request, secret: str) -> bool:
    sent = request.headers.get(SECRET_HEADER, "")
    return hmac.compare_digest(sent.encode(), secret.encode())


def create_app(secret: str) -> Sanic:
    """rasa-sdk's app for the `actions` package, behind the checks above."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    if not secret:
        raise SystemExit(f"{SECRET_ENV} is required: the action server answers only whoever knows it")
    app = create_sdk_app("actions", cors_origins=None)
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES

    @app.on_request
    async def guard(request: Request) -> Optional[response.HTTPResponse]:
        if request.path in OPEN_PATHS:
            return None
        if not secret_matches(request, secret):
            return response.json({"error": "unauthorized"}, status=401)
        if (request.headers.get("Content-Encoding") or "").lower() == "deflate":
            try:
                request.body = inflate(request.body)
            except InflateError as error:
                logger.warning("Refused an action call: %s", error)
                return response.json({"error": "request body refused"}, status=413)
            del request.headers["Content-Encoding"]
        return None

    # Registered after rasa-sdk's own handler, so this one answers. HTTP errors (413, 404 …)
    # keep their status; nothing of the request is ever sent back.
    @app.exception(Exception)
    async def bare_error(request: Request, exception: Exception) -> response.HTTPResponse:
        status = getattr(exception, "status_code", 500) if isinstance(exception, SanicException) else 500
        if status >= 500:
            logger.error("Action server error on %s", request.path, exc_info=exception)
        return response.json({"error": "request refused" if status < 500 else "internal error"}, status=status)

    return app


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    host = os.environ.get(HOST_ENV, DEFAULT_HOST)
    app = create_app(os.environ.get(SECRET_ENV, ""))
    logger.info("Action server on http://%s:%s", host, args.port)
    app.run(host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
