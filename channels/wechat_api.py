"""Async client for the WeChat Official Account customer-service message API."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable, Dict, Optional, Tuple

import aiohttp

from channels.wechat_shared import LocalState, SharedState

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
# Invalid / expired access token: another process may have refreshed it, or it timed out.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# Refresh before WeChat's stated expiry so a request never leaves with a dying token.
TOKEN_REFRESH_MARGIN_S = 300.0


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode={errcode} errmsg={errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class CustomerServiceClient:
    """Sends text messages to a user through ``/cgi-bin/message/custom/send``.

    The access token is cached (in ``tokens``: this process's, or the replicas' shared one)
    until shortly before it expires and refreshed when WeChat reports it invalid. Failures are logged
    (never the message content) and
    reported as ``False`` instead of raised.
    """

    def __init__(
        self,
        appid: str,
        appsecret: str,
        api_base: str = DEFAULT_API_BASE,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        tokens: Optional[SharedState] = None,
    ) -> None:
        self._appid = appid
        self._appsecret = appsecret
        self._api_base = api_base.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock
        self._session: Optional[aiohttp.ClientSession] = None
        # Shared by the replicas through Redis under make scale (channels/wechat_shared.py):
        # a token fetched by one replica would otherwise soon invalidate the others'.
        self._tokens: SharedState = tokens or LocalState(clock=clock)

    async def send_text(self, openid: str, content: str) -> bool:
        """Sends ``content`` to the user ``openid``; returns whether WeChat accepted it."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        try:
            token = await self._access_token()
            try:
                await self._post_message(token, payload)
            except WeChatAPIError as error:
                if error.errcode not in TOKEN_ERRCODES:
                    raise
                logger.info("WeChat rejected the access token (errcode %s); refreshing.", error.errcode)
                await self._post_message(await self._access_token(stale=token), payload)
            return True
        except WeChatAPIError as error:
            logger.warning(
                "WeChat customer-service message failed: errcode=%s errmsg=%s",
                error.errcode,
                error.errmsg,
            )
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, TypeError) as error:
            # Only the type: aiohttp errors quote the URL, which carries the secret or token.
            logger.warning("WeChat customer-service message failed: %s", type(error).__name__)
        return False

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _access_token(self, stale: Optional[str] = None) -> str:
        return await self._tokens.access_token(self._appid, self._fetch_token, stale)

    async def _fetch_token(self) -> Tuple[str, float]:
        """A new token and how long to use it (WeChat's lifetime less a margin)."""
        data = await self._request_json(
            "GET",
            "/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self._appid, "secret": self._appsecret},
        )
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatAPIError(-1, "no access_token in response")
        expires_in = float(data.get("expires_in") or 7200)
        return token, expires_in - min(TOKEN_REFRESH_MARGIN_S, expires_in / 2)

    async def _post_message(self, token: str, payload: Dict[str, Any]) -> None:
        # Raw UTF-8 rather than \uXXXX escapes, the way wechatpy's own client posts JSON.
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        await self._request_json(
            "POST",
            "/cgi-bin/message/custom/send",
            params={"access_token": token},
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    async def _request_json(self, method: str, path: str, **kwargs: Any) -> Dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with self._session.request(method, self._api_base + path, **kwargs) as resp:
            resp.raise_for_status()
            # WeChat often labels its JSON as text/plain.
            data = await resp.json(content_type=None)
        if not isinstance(data, dict):
            raise ValueError("WeChat API answered with something other than a JSON object")
        errcode = data.get("errcode") or 0
        if errcode:
            raise WeChatAPIError(int(errcode), str(data.get("errmsg", "")))
        return data
