"""The guarded REST channel (channels/rest.py): a real Sanic server on loopback, a fake bot."""

from __future__ import annotations

import json
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import aiohttp
import pytest
import pytest_asyncio
import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput

from channels.guard import PLACEHOLDERS, Guard, GuardLimits
from channels.guard_texts import guard_text
from channels.rest import GuardedRestInput
from devtools.local_bot import ROOT
from tests.loopback import Serve

PHONE = "13812345678"
BUTTONS = [{"title": "借呗额度降低了", "payload": "/ask_limit_dropped"}]


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class FakeBot:
    """Stands in for ``agent.handle_message``; records every message it is given."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    @property
    def served(self) -> List[Tuple[str, Optional[str]]]:
        return [(message.sender_id, message.text) for message in self.received]

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        out, sender, text = message.output_channel, message.sender_id, message.text or ""
        if text == "沉默":
            return
        if text == "炸":
            raise RuntimeError("boom")
        if text == "按钮":
            await out.send_response(sender, {"text": "第一段\n\n请选择：", "buttons": BUTTONS})
            await out.send_response(sender, {"custom": {"advice": {"topic": "limit_dropped"}}})
            return
        await out.send_response(sender, {"text": f"收到：{text}"})


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest_asyncio.fixture
async def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def bot() -> FakeBot:
    return FakeBot()


@pytest_asyncio.fixture
async def url(serve_blueprint: Serve, bot: FakeBot, clock: FakeClock) -> str:
    channel = GuardedRestInput(guard=Guard(GuardLimits(burst=8, refill_per_s=1.0), clock=clock))
    return await serve_blueprint(channel.blueprint(bot), "/webhooks/rest")


async def post_raw(http: aiohttp.ClientSession, url: str, body: Any, query: str = "") -> Tuple[int, str]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with http.post(f"{url}/webhook{query}", data=data, headers={"Content-Type": "application/json"}) as resp:
        return resp.status, await resp.text()


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> Tuple[int, Any]:
    status, text = await post_raw(http, url, body)
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


async def send(http: aiohttp.ClientSession, url: str, sender: str, message: Any) -> List[str]:
    status, replies = await post(http, url, {"sender": sender, "message": message})
    assert status == 200, replies
    assert all(reply["recipient_id"] == sender for reply in replies)
    return [reply.get("text", "") for reply in replies]


@pytest.mark.asyncio
async def test_pii_is_masked_before_the_bot_and_noticed_once(
    http: aiohttp.ClientSession, url: str, bot: FakeBot
) -> None:
    opening = f"我的手机号是{PHONE}，借呗额度为什么降了"
    masked = f"我的手机号是{PLACEHOLDERS['phone']}，借呗额度为什么降了"
    assert await send(http, url, "s1", opening) == [guard_text("pii_notice"), f"收到：{masked}"]
    assert await send(http, url, "s1", f"再说一次 {PHONE}") == [f"收到：再说一次 {PLACEHOLDERS['phone']}"]
    assert (await send(http, url, "s2", "卡号6222021234567890"))[0] == guard_text("pii_notice")
    assert bot.served[0] == ("rest:s1", masked)  # the REST key space (channels/guard.py)
    assert all(PHONE not in (text or "") for _, text in bot.served)
    assert all(message.input_channel == "rest" for message in bot.received)


@pytest.mark.parametrize(
    "message, key", [("", "empty"), ("   ", "empty"), (None, "empty"), ("😀😀👍", "no_text"), ("？？？", "no_text")]
)
@pytest.mark.asyncio
async def test_empty_and_textless_messages_are_answered_without_the_bot(
    http: aiohttp.ClientSession, url: str, bot: FakeBot, message: Optional[str], key: str
) -> None:
    status, replies = await post(http, url, {"sender": "s", "message": message})
    assert (status, replies) == (200, [{"recipient_id": "s", "text": guard_text(key)}])
    assert bot.received == []


@pytest.mark.asyncio
async def test_missing_message_field_is_an_empty_message(http: aiohttp.ClientSession, url: str, bot: FakeBot) -> None:
    assert await send(http, url, "s", None) == [guard_text("empty")]
    status, replies = await post(http, url, {"sender": "s"})
    assert (status, replies[0]["text"]) == (200, guard_text("empty"))
    assert bot.received == []


@pytest.mark.asyncio
async def test_long_message_reaches_the_bot_cut_with_a_notice(
    http: aiohttp.ClientSession, url: str, bot: FakeBot
) -> None:
    text = "借呗额度" * 150  # 600 characters
    replies = await send(http, url, "s", text)
    assert bot.served == [("rest:s", text[:500])]
    assert replies == [guard_text("too_long"), f"收到：{text[:500]}"]
    assert "500" in replies[0]


@pytest.mark.asyncio
async def test_flood_is_refused_while_others_are_served(
    http: aiohttp.ClientSession, url: str, bot: FakeBot, clock: FakeClock
) -> None:
    flood = [await send(http, url, "flooder", f"消息{n}") for n in range(10)]
    assert flood[:8] == [[f"收到：消息{n}"] for n in range(8)]
    assert flood[8:] == [[guard_text("rate_limited")]] * 2
    assert await send(http, url, "calm", "你好") == ["收到：你好"]
    assert [sender for sender, _ in bot.served] == ["rest:flooder"] * 8 + ["rest:calm"]
    clock.now += 1.0
    assert await send(http, url, "flooder", "还在吗") == ["收到：还在吗"]
    assert await send(http, url, "flooder", "在吗") == [guard_text("rate_limited")]


@pytest.mark.asyncio
async def test_oversized_body_is_413_with_a_polite_reply_in_the_rest_format(
    http: aiohttp.ClientSession, url: str, bot: FakeBot
) -> None:
    status, replies = await post(http, url, {"sender": "s", "message": "额" * 24_000})  # ~70 KB
    assert status == 413
    assert replies == [{"text": guard_text("body_too_large")}]
    assert bot.received == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"sender": "s", "message": ',
        b"not json at all",
        b"\xff\xfe\x00",
        b"[" * 20_000 + b"]" * 20_000,
        b'["sender", "message"]',
        b'"just a string"',
        json.dumps({"sender": "s", "message": 12345}).encode(),
        json.dumps({"sender": "s", "message": "你好", "metadata": "x"}).encode(),
        json.dumps({"sender": "x" * 500, "message": "你好"}).encode(),
        json.dumps({"sender": {"id": 1}, "message": "你好"}).encode(),
    ],
)
@pytest.mark.asyncio
async def test_malformed_requests_are_400_json(
    http: aiohttp.ClientSession, url: str, bot: FakeBot, body: bytes
) -> None:
    status, error = await post(http, url, body)
    assert status == 400, error
    assert error["status"] == "failure" and "Traceback" not in json.dumps(error)
    assert bot.received == []
    assert await send(http, url, "after", "还好吗") == ["收到：还好吗"]


@pytest.mark.parametrize("message", ["沉默", "炸"])
@pytest.mark.asyncio
async def test_no_reply_from_the_bot_becomes_busy(http: aiohttp.ClientSession, url: str, message: str) -> None:
    assert await send(http, url, "s", message) == [guard_text("busy")]


@pytest.mark.asyncio
async def test_output_and_metadata_match_rasas_rest_channel(
    serve_blueprint: Serve, http: aiohttp.ClientSession
) -> None:
    rasa_bot, guarded_bot = FakeBot(), FakeBot()
    rasa_url = await serve_blueprint(RestInput().blueprint(rasa_bot), "/rasa")
    guarded_url = await serve_blueprint(GuardedRestInput().blueprint(guarded_bot), "/guarded")
    body = {"sender": "s", "message": "按钮", "metadata": {"page": "faq"}}
    expected = await post(http, rasa_url, body)
    assert expected[0] == 200 and len(expected[1]) == 2
    assert await post(http, guarded_url, body) == expected
    assert guarded_bot.received[0].metadata == {"page": "faq"}
    assert guarded_bot.received[0].input_channel == "rest"

    nameless = {"message": "你好"}
    assert await post(http, guarded_url, nameless) == await post(http, rasa_url, nameless)


@pytest.mark.asyncio
async def test_stream_mode_is_guarded_too(http: aiohttp.ClientSession, url: str, bot: FakeBot) -> None:
    async def stream(message: str) -> List[Dict[str, Any]]:
        status, text = await post_raw(http, url, {"sender": "st", "message": message}, "?stream=true")
        assert status == 200
        return [json.loads(line) for line in text.splitlines()]

    lines = await stream(f"手机{PHONE}")
    assert [line["text"] for line in lines] == [guard_text("pii_notice"), f"收到：手机{PLACEHOLDERS['phone']}"]
    assert [line["text"] for line in await stream("炸")] == [guard_text("busy")]
    assert [line["text"] for line in await stream("")] == [guard_text("empty")]
    assert bot.served == [("rest:st", f"手机{PLACEHOLDERS['phone']}"), ("rest:st", "炸")]


@pytest.mark.asyncio
async def test_server_refuses_huge_bodies_before_reading_them(
    serve_blueprint: Serve, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    lenient = GuardedRestInput(max_body_bytes=10 * 1024 * 1024)
    url = await serve_blueprint(lenient.blueprint(bot), "/webhooks/rest")
    status, replies = await post(http, url, b'{"message": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    assert status == 413
    # Refused by the server's own cap, still in the channel's format.
    assert replies == [{"text": guard_text("body_too_large")}]
    assert await send(http, url, "s", "你好") == ["收到：你好"]
    assert len(bot.received) == 1


def test_credentials_use_the_guarded_rest_channel() -> None:
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert "rest" not in credentials
    assert "channels.rest.GuardedRestInput" in credentials
    channel = GuardedRestInput.from_credentials(credentials["channels.rest.GuardedRestInput"])
    assert channel.name() == "rest" and channel.url_prefix() == "rest"
