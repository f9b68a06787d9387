"""channels/wechat_replay.py: the time window and the nonce memory, without a server."""

from __future__ import annotations

import asyncio

import pytest

from channels.wechat_replay import InMemoryNonces, check_request

NOW = 1_800_000_000.0


def verdict(timestamp: str, nonce: str, body: bytes, memory: InMemoryNonces, now: float = NOW) -> str:
    return asyncio.run(check_request(timestamp, nonce, body, memory, window_s=300, now=now))


def test_new_then_repeat_then_forged() -> None:
    memory = InMemoryNonces()
    assert verdict(str(int(NOW)), "n1", b"<xml>a</xml>", memory) == "new"
    assert verdict(str(int(NOW)), "n1", b"<xml>a</xml>", memory) == "repeat"
    assert verdict(str(int(NOW)), "n1", b"<xml>b</xml>", memory) == "forged"
    assert verdict(str(int(NOW)), "n2", b"<xml>b</xml>", memory) == "new"


@pytest.mark.parametrize(
    "timestamp, expected",
    [
        (str(int(NOW - 300)), "new"),
        (str(int(NOW + 300)), "new"),
        (str(int(NOW - 301)), "stale"),
        (str(int(NOW + 301)), "stale"),
        ("0", "stale"),
        ("", "forged"),
        ("abc", "forged"),
        ("-5", "forged"),
        ("1" * 20, "forged"),
    ],
)
def test_the_window(timestamp: str, expected: str) -> None:
    assert verdict(timestamp, "n", b"", InMemoryNonces()) == expected


def test_nonces_are_forgotten_after_their_ttl_and_beyond_the_bound() -> None:
    clock = [0.0]
    memory = InMemoryNonces(max_size=3, clock=lambda: clock[0])
    assert asyncio.run(memory.remember("a", "1", ttl_s=10)) is None
    assert asyncio.run(memory.remember("a", "2", ttl_s=10)) == "1"
    clock[0] = 11.0
    assert asyncio.run(memory.remember("a", "2", ttl_s=10)) is None
    for key in "bcde":
        asyncio.run(memory.remember(key, "x", ttl_s=10))
    assert len(memory) <= 3


def test_an_empty_or_huge_nonce_is_refused() -> None:
    assert verdict(str(int(NOW)), "", b"", InMemoryNonces()) == "forged"
    assert verdict(str(int(NOW)), "n" * 65, b"", InMemoryNonces()) == "forged"
