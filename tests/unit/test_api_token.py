"""runtime/api_token.py without a server: the header authorises exactly as the token does."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

from runtime.api_token import TOKEN_HEADER, header_token_matches, with_token_header


class Request:
    def __init__(self, headers: Dict[str, str]) -> None:
        self.headers = headers


def fake_rasa_requires_auth(app: Any, token: Any = None) -> Any:
    """Stands for Rasa's check: refuses (the header path must not depend on it)."""

    def decorator(handler: Any) -> Any:
        async def refused(request: Any, *args: Any, **kwargs: Any) -> str:
            return "refused by rasa"

        return refused

    return decorator


def call(headers: Dict[str, str], token: Any = "secret-token") -> str:
    requires_auth = with_token_header(fake_rasa_requires_auth)

    @requires_auth(None, token)
    async def handler(request: Any) -> str:
        return "served"

    return asyncio.run(handler(Request(headers)))


def test_the_right_header_is_served() -> None:
    assert call({TOKEN_HEADER: "secret-token"}) == "served"


def test_anything_else_goes_to_rasa_s_own_check() -> None:
    assert call({}) == "refused by rasa"
    assert call({TOKEN_HEADER: "secret-tokeN"}) == "refused by rasa"
    assert call({TOKEN_HEADER: ""}) == "refused by rasa"
    assert call({TOKEN_HEADER: "secret-token"}, token=None) == "refused by rasa"  # no token: never open


def test_comparison_needs_both() -> None:
    assert not header_token_matches(None, "t") and not header_token_matches("t", None)
