"""The HTTP API token in an ``X-Rasa-Token`` header, so that nobody has to put it in a URL.

Rasa 3.6 reads the API token only from the query string (``?token=``, rasa/server.py
``requires_auth``). Behind nginx (`make scale`) a token in the upstream URL ends up in nginx's
error log whenever a replica is down (``upstream: "http://…/conversations/…?token=…"``) and,
unlike a WeChat signature, it never expires. With this wrapper a request whose
``X-Rasa-Token`` header equals the server's token is authorised as ``?token=`` would be; every
other request goes through Rasa's own check unchanged (query token, JWT, or refusal).
Installed by runtime/rasa_patches.py.
"""

from __future__ import annotations

import hmac
from functools import wraps
from inspect import isawaitable
from typing import Any, Callable, Optional

TOKEN_HEADER = "X-Rasa-Token"

RequiresAuth = Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]


def header_token_matches(provided: Optional[str], token: Optional[str]) -> bool:
    """A constant-time comparison of the header with the server's token (never without one)."""
    if not token or not provided:
        return False
    return hmac.compare_digest(provided.encode("utf-8"), token.encode("utf-8"))


def with_token_header(original: RequiresAuth) -> RequiresAuth:
    """Rasa's ``requires_auth(app, token)``, also accepting the token in TOKEN_HEADER."""

    def requires_auth(app: Any, token: Optional[str] = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        rasa_check = original(app, token)

        def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
            checked = rasa_check(handler)

            @wraps(handler)
            async def decorated(request: Any, *args: Any, **kwargs: Any) -> Any:
                if header_token_matches(request.headers.get(TOKEN_HEADER), token):
                    result = handler(request, *args, **kwargs)
                    return await result if isawaitable(result) else result
                return await checked(request, *args, **kwargs)

            return decorated

        return decorator

    return requires_auth
