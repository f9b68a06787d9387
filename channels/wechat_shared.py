"""What the WeChat channel's replicas must agree on, kept in Redis under `make scale`.

WeChat retries a message it got no answer to within 5 s (same MsgId; nginx may send the retry
to another replica), expects one access token per account (fetching a new one invalidates the
old one after a few minutes), and reads 「回复 1」 against the options of the last reply, which
another replica may have sent. With ``REDIS_HOST`` set (the lock store's Redis: ``REDIS_PORT``,
``REDIS_PASSWORD``), every replica shares:

- **exchanges**: the first replica to see a message claims it and runs the turn once; the
  reply is published, so a retry on any replica answers with it; once some request was
  answered "success", the reply goes out once through the customer-service API instead;
- **the access token**: fetched by one replica under a short lock, read by the others;
- **the options offered** to each user, for numbered replies.

Without Redis, one process keeps all of it in memory (``LocalState``).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Protocol, Tuple

PREFIX = "jiebei:wechat:"
REMEMBERED_USERS = 10_000
OPTIONS_TTL_S = 24 * 3600.0
TOKEN_LOCK_S = 15
POLL_S = 0.05

Button = Dict[str, Any]


def redis_from_environment() -> Any:
    """An asyncio client of the lock store's Redis (REDIS_HOST, REDIS_PORT, REDIS_PASSWORD),
    or None when REDIS_HOST is unset (one process, no Redis)."""
    host = os.environ.get("REDIS_HOST")
    if not host:
        return None
    import redis.asyncio

    return redis.asyncio.Redis(
        host=host,
        port=int(os.environ.get("REDIS_PORT") or 6379),
        password=os.environ.get("REDIS_PASSWORD") or None,
        socket_timeout=2,
    )


class SharedState(Protocol):
    async def claim(self, key: str, ttl_s: float) -> bool:
        """True for the one caller (of all replicas) that runs this message's turn."""

    async def publish(self, key: str, reply: str, ttl_s: float) -> None:
        """The turn's reply, for retries that reach another replica."""

    async def published(self, key: str) -> Optional[str]: ...

    async def take_delivery(self, key: str, ttl_s: float) -> bool:
        """True for the one caller that may send this message's reply through the API."""

    async def mark_deferred(self, key: str, ttl_s: float) -> None:
        """Some request was answered "success": the reply must go through the API."""

    async def is_deferred(self, key: str) -> bool: ...

    async def save_options(self, openid: str, buttons: List[Button]) -> None: ...

    async def options(self, openid: str) -> Optional[List[Button]]: ...

    async def access_token(
        self, appid: str, fetch: Callable[[], Awaitable[Tuple[str, float]]], stale: Optional[str] = None
    ) -> str:
        """The account's token: the shared one unless it is `stale`, else `fetch()`ed
        (token, lifetime in seconds) by one caller and stored for the others."""


class _Expiring:
    """A bounded dict whose entries expire."""

    def __init__(self, max_size: int, clock: Callable[[], float]) -> None:
        self._items: "OrderedDict[str, Tuple[Any, float]]" = OrderedDict()
        self._max_size = max_size
        self._clock = clock

    def get(self, key: str) -> Any:
        found = self._items.get(key)
        if found is None or found[1] <= self._clock():
            self._items.pop(key, None)
            return None
        return found[0]

    def set(self, key: str, value: Any, ttl_s: float, only_new: bool = False) -> bool:
        if only_new and self.get(key) is not None:
            return False
        self._items[key] = (value, self._clock() + ttl_s)
        self._items.move_to_end(key)
        while len(self._items) > self._max_size:
            self._items.popitem(last=False)
        return True


class LocalState:
    """One process's state (no Redis): what `SharedState` promises, within the process."""

    def __init__(self, max_size: int = 20_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._values = _Expiring(max_size, clock)
        self._options = _Expiring(REMEMBERED_USERS, clock)
        self._token: Optional[Tuple[str, float]] = None
        # Created on first use so it binds to the event loop that is actually running.
        self._token_lock: Optional[asyncio.Lock] = None
        self._clock = clock

    async def claim(self, key: str, ttl_s: float) -> bool:
        return self._values.set("claim:" + key, True, ttl_s, only_new=True)

    async def publish(self, key: str, reply: str, ttl_s: float) -> None:
        self._values.set("reply:" + key, reply, ttl_s)

    async def published(self, key: str) -> Optional[str]:
        return self._values.get("reply:" + key)

    async def take_delivery(self, key: str, ttl_s: float) -> bool:
        return self._values.set("delivered:" + key, True, ttl_s, only_new=True)

    async def mark_deferred(self, key: str, ttl_s: float) -> None:
        self._values.set("deferred:" + key, True, ttl_s)

    async def is_deferred(self, key: str) -> bool:
        return bool(self._values.get("deferred:" + key))

    async def save_options(self, openid: str, buttons: List[Button]) -> None:
        self._options.set(openid, list(buttons), OPTIONS_TTL_S)

    async def options(self, openid: str) -> Optional[List[Button]]:
        return self._options.get(openid) or None

    async def access_token(
        self, appid: str, fetch: Callable[[], Awaitable[Tuple[str, float]]], stale: Optional[str] = None
    ) -> str:
        if self._token_lock is None:
            self._token_lock = asyncio.Lock()
        async with self._token_lock:
            if self._token and self._token[1] > self._clock() and self._token[0] != stale:
                return self._token[0]
            token, lifetime_s = await fetch()
            self._token = (token, self._clock() + lifetime_s)
            return token


class RedisState:
    """The same, shared by every replica through Redis (SET NX EX for each "only one")."""

    def __init__(self, client: Any) -> None:
        self._redis = client

    @classmethod
    def from_environment(cls) -> Optional["RedisState"]:
        client = redis_from_environment()
        return None if client is None else cls(client)

    async def _set(self, name: str, value: str, ttl_s: float, only_new: bool = False) -> bool:
        return bool(await self._redis.set(PREFIX + name, value, nx=only_new, ex=max(1, int(ttl_s))))

    async def _get(self, name: str) -> Optional[str]:
        value = await self._redis.get(PREFIX + name)
        return value.decode() if isinstance(value, bytes) else value

    async def claim(self, key: str, ttl_s: float) -> bool:
        return await self._set("claim:" + key, "1", ttl_s, only_new=True)

    async def publish(self, key: str, reply: str, ttl_s: float) -> None:
        await self._set("reply:" + key, reply, ttl_s)

    async def published(self, key: str) -> Optional[str]:
        return await self._get("reply:" + key)

    async def take_delivery(self, key: str, ttl_s: float) -> bool:
        return await self._set("delivered:" + key, "1", ttl_s, only_new=True)

    async def mark_deferred(self, key: str, ttl_s: float) -> None:
        await self._set("deferred:" + key, "1", ttl_s)

    async def is_deferred(self, key: str) -> bool:
        return await self._get("deferred:" + key) is not None

    async def save_options(self, openid: str, buttons: List[Button]) -> None:
        await self._set("options:" + openid, json.dumps(buttons, ensure_ascii=False), OPTIONS_TTL_S)

    async def options(self, openid: str) -> Optional[List[Button]]:
        value = await self._get("options:" + openid)
        return json.loads(value) if value else None

    async def access_token(
        self, appid: str, fetch: Callable[[], Awaitable[Tuple[str, float]]], stale: Optional[str] = None
    ) -> str:
        name = "token:" + appid
        deadline = time.monotonic() + TOKEN_LOCK_S
        while True:
            token = await self._get(name)
            if token and token != stale:
                return token
            if await self._set("token-lock:" + appid, "1", TOKEN_LOCK_S, only_new=True):
                try:
                    token = await self._get(name)  # another replica may just have stored one
                    if token and token != stale:
                        return token
                    token, lifetime_s = await fetch()
                    await self._set(name, token, lifetime_s)
                    return token
                finally:
                    await self._redis.delete(PREFIX + "token-lock:" + appid)
            if time.monotonic() > deadline:
                raise TimeoutError("another replica holds the WeChat token lock")
            await asyncio.sleep(POLL_S)  # another replica is fetching it


def shared_state_from_environment() -> SharedState:
    return RedisState.from_environment() or LocalState()


async def wait_for_published(state: SharedState, key: str, timeout_s: float) -> Optional[str]:
    """The reply another replica publishes for `key`, if it comes within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        reply = await state.published(key)
        if reply is not None or time.monotonic() >= deadline:
            return reply
        await asyncio.sleep(POLL_S)
