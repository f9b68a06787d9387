"""Replay protection for the WeChat webhook.

WeChat signs only token, timestamp and nonce (plaintext mode) or those and the encrypted body
(safe mode), so one leaked signed URL could be posted again forever, with any body. A request
is accepted only when its timestamp is within ``window_s`` of this server's clock, and each
(timestamp, nonce) pair is remembered for that window together with a digest of its body:

- ``new``: first time seen, process it;
- ``repeat``: seen before with the same body (WeChat's own retry, or a replay of it):
  answer it only from the pending exchange, never run the turn again;
- ``forged``: seen before with another body, or timestamp not a number: refuse;
- ``stale``: timestamp outside the window: refuse.

One process remembers nonces in memory; replicas share them through Redis (the lock
store's: ``REDIS_HOST``, ``REDIS_PORT``, ``REDIS_PASSWORD``), so a replay sent to another
replica is recognised too.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any, Callable, Literal, Optional, Protocol, Tuple

from channels.wechat_shared import redis_from_environment

Verdict = Literal["new", "repeat", "forged", "stale"]

WINDOW_S = 300.0
MAX_REMEMBERED = 200_000
KEY_PREFIX = "jiebei:wechat-nonce:"


class NonceMemory(Protocol):
    async def remember(self, key: str, digest: str, ttl_s: float) -> Optional[str]:
        """Stores ``digest`` under ``key`` unless the key is known; returns the digest that was
        already stored, or None if this call stored it."""


class InMemoryNonces:
    """Nonces of one process, each forgotten after its ttl (and the oldest beyond a bound)."""

    def __init__(self, max_size: int = MAX_REMEMBERED, clock: Callable[[], float] = time.monotonic) -> None:
        self._max_size = max_size
        self._clock = clock
        self._items: "OrderedDict[str, Tuple[str, float]]" = OrderedDict()

    async def remember(self, key: str, digest: str, ttl_s: float) -> Optional[str]:
        now = self._clock()
        while self._items:
            oldest_key, (_, expires_at) = next(iter(self._items.items()))
            if expires_at > now and len(self._items) < self._max_size:
                break
            del self._items[oldest_key]
        known = self._items.get(key)
        if known is not None:
            return known[0]
        self._items[key] = (digest, now + ttl_s)
        return None

    def __len__(self) -> int:
        return len(self._items)


class RedisNonces:
    """Nonces shared by every replica: ``SET key digest NX EX ttl``."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def from_environment(cls) -> Optional["RedisNonces"]:
        client = redis_from_environment()
        return None if client is None else cls(client)

    async def remember(self, key: str, digest: str, ttl_s: float) -> Optional[str]:
        full_key = KEY_PREFIX + key
        if await self._client.set(full_key, digest, nx=True, ex=max(1, int(ttl_s))):
            return None
        known = await self._client.get(full_key)
        return known.decode() if isinstance(known, bytes) else (known or digest)


async def check_request(
    timestamp: str,
    nonce: str,
    body: bytes,
    memory: NonceMemory,
    window_s: float = WINDOW_S,
    now: Optional[float] = None,
) -> Verdict:
    """The replay verdict for one signed request (see the module docstring)."""
    if not timestamp.isdigit() or len(timestamp) > 12 or not 0 < len(nonce) <= 64:
        return "forged"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > window_s:
        return "stale"
    digest = hashlib.sha256(body).hexdigest()
    # Remembered for twice the window: a timestamp may be up to window_s in the future.
    known = await memory.remember(f"{timestamp}:{nonce}", digest, 2 * window_s)
    if known is None:
        return "new"
    return "repeat" if known == digest else "forged"
