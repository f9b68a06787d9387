"""The web widget's socket.io channel (channels/webchat.py): custom payloads are emitted as
the event's data, an advice card goes before the text that carries quick replies, and every
message passes the input guard before the bot sees it."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

import pytest
import socketio
import yaml
from rasa.core.channels.channel import UserMessage

from channels.guard import PLACEHOLDERS, Guard, GuardLimits
from channels.guard_texts import guard_text
from channels.webchat import WebchatInput, WebchatOutput
from runtime.paths import ROOT
from tests.loopback import Serve

ADVICE = {"advice": {"topic": "cannot_borrow", "reasons": ["high_debt"], "steps": ["reduce_debt"]}}
BUTTONS = [{"title": "负债率多少算高？", "payload": "/ask_debt_ratio"}]


class RecordingServer:
    """Stands in for socketio.AsyncServer: records every emit."""

    def __init__(self) -> None:
        self.emitted: List[Tuple[str, Any, Dict[str, Any]]] = []

    async def emit(self, event: str, data: Any = None, to: Any = None, room: Any = None, **kwargs: Any) -> None:
        self.emitted.append((event, data, {"room": room, **kwargs}))


@pytest.mark.asyncio
async def test_advice_card_first_then_text_with_quick_replies() -> None:
    sio = RecordingServer()
    output = WebchatOutput(sio, "bot_uttered")  # type: ignore[arg-type]
    message = {"text": "关于「有额度借不出」……", "buttons": BUTTONS, "custom": ADVICE}
    await output.send_response("s1", message)
    assert [data for _, data, _ in sio.emitted] == [
        ADVICE,
        {"text": "关于「有额度借不出」……", "quick_replies": [{"content_type": "text", **BUTTONS[0]}]},
    ]
    assert all(event == "bot_uttered" and extra["room"] == "s1" for event, _, extra in sio.emitted)
    assert "custom" in message, "the caller's message is not modified"


@pytest.mark.asyncio
async def test_custom_payload_alone_is_emitted_as_data() -> None:
    sio = RecordingServer()
    await WebchatOutput(sio, "bot_uttered").send_response("s2", {"custom": ADVICE})  # type: ignore[arg-type]
    assert sio.emitted == [("bot_uttered", ADVICE, {"room": "s2"})]


@pytest.mark.asyncio
async def test_plain_text_is_unchanged() -> None:
    sio = RecordingServer()
    await WebchatOutput(sio, "bot_uttered").send_response("s3", {"text": "您好"})  # type: ignore[arg-type]
    assert sio.emitted == [("bot_uttered", {"text": "您好"}, {"room": "s3"})]


@pytest.mark.asyncio
async def test_incoming_messages_are_answered_through_webchat_output() -> None:
    channel = WebchatInput.from_credentials({"session_persistence": True})
    received: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    channel.blueprint(on_new_message)
    handler = channel.sio.handlers["/"]["user_uttered"]
    channel.sio.enter_room = lambda *args, **kwargs: None  # no real connection here
    token = channel.join_session("sid-1", channel.signer.sign("session-1"))
    await handler("sid-1", {"message": "借呗借不出来", "session_id": token})
    assert len(received) == 1
    assert received[0].sender_id == "session-1"
    assert received[0].input_channel == "socketio"
    assert isinstance(received[0].output_channel, WebchatOutput)
    assert isinstance(channel.get_output_channel(), WebchatOutput)


def test_credentials_enable_the_webchat_channel() -> None:
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    settings = credentials["channels.webchat.WebchatInput"]
    assert settings["session_persistence"] is True
    assert (settings["user_message_evt"], settings["bot_message_evt"]) == ("user_uttered", "bot_uttered")
    assert "socketio" not in credentials, "two socket.io channels cannot share /socket.io"


# --- the input guard ---------------------------------------------------------------------------

PHONE = "13812345678"


class EchoBot:
    """A fake on_new_message: answers "收到：<text>" unless told to stay silent or fail."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if message.text == "沉默":
            return
        if message.text == "炸":
            raise RuntimeError("boom")
        await message.output_channel.send_response(message.sender_id, {"text": f"收到：{message.text}"})


def guarded_handler(
    bot: EchoBot, monkeypatch: pytest.MonkeyPatch, guard: Optional[Guard] = None
) -> Tuple[Callable[[str, Any], Awaitable[None]], RecordingServer]:
    """The channel's user_uttered handler, with emits recorded instead of sent. The handler
    first joins the connection to the (signed) session named in the message, as the widget's
    session_request does; an id of 100 characters or more is sent as it is."""
    channel = WebchatInput.from_credentials({"session_persistence": True})
    if guard is not None:
        channel.guard = guard
    channel.blueprint(bot)
    sio = RecordingServer()
    monkeypatch.setattr(channel.sio, "emit", sio.emit)
    monkeypatch.setattr(channel.sio, "enter_room", lambda *args, **kwargs: None)
    raw = channel.sio.handlers["/"]["user_uttered"]

    async def handler(sid: str, data: Any) -> None:
        if isinstance(data, dict) and isinstance(data.get("session_id"), str) and len(data["session_id"]) < 100:
            data = {**data, "session_id": channel.join_session(sid, channel.signer.sign(data["session_id"]))}
        await raw(sid, data)

    return handler, sio


def emitted_texts(sio: RecordingServer, room: str) -> List[str]:
    assert all(event == "bot_uttered" and extra["room"] == room for event, _, extra in sio.emitted)
    return [data["text"] for _, data, _ in sio.emitted]


@pytest.mark.asyncio
async def test_pii_is_masked_before_the_bot_sees_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bot = EchoBot()
    handler, sio = guarded_handler(bot, monkeypatch)
    await handler("sid-1", {"message": f"我的手机号是{PHONE}", "session_id": "sess-1"})
    await handler("sid-1", {"message": f"还是{PHONE}", "session_id": "sess-1"})
    masked = PLACEHOLDERS["phone"]
    assert [m.text for m in bot.received] == [f"我的手机号是{masked}", f"还是{masked}"]
    assert emitted_texts(sio, "sess-1") == [
        guard_text("pii_notice"),
        f"收到：我的手机号是{masked}",
        f"收到：还是{masked}",
    ]


@pytest.mark.parametrize(
    "data, key",
    [({"message": "  "}, "empty"), ({}, "empty"), ({"message": 42}, "empty"), ({"message": "😀👍"}, "no_text")],
)
@pytest.mark.asyncio
async def test_empty_message_is_answered_without_the_bot(
    monkeypatch: pytest.MonkeyPatch, data: Dict[str, Any], key: str
) -> None:
    bot = EchoBot()
    handler, sio = guarded_handler(bot, monkeypatch)
    await handler("sid-1", {**data, "session_id": "sess-2"})
    assert bot.received == []
    assert emitted_texts(sio, "sess-2") == [guard_text(key)]


@pytest.mark.parametrize("text", ["沉默", "炸"])
@pytest.mark.asyncio
async def test_unanswered_message_gets_busy(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    handler, sio = guarded_handler(EchoBot(), monkeypatch)
    await handler("sid-1", {"message": text, "session_id": "sess-3"})
    assert emitted_texts(sio, "sess-3") == [guard_text("busy")]


@pytest.mark.asyncio
async def test_flood_is_refused_per_session(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    bot = EchoBot()
    handler, sio = guarded_handler(bot, monkeypatch, Guard(GuardLimits(burst=2), clock=lambda: now[0]))
    for n in range(3):
        await handler("sid-1", {"message": f"第{n}条", "session_id": "busy-user"})
    await handler("sid-2", {"message": "你好", "session_id": "other-user"})
    assert [m.sender_id for m in bot.received] == ["busy-user", "busy-user", "other-user"]
    assert [data["text"] for _, data, _ in sio.emitted] == [
        "收到：第0条",
        "收到：第1条",
        guard_text("rate_limited"),
        "收到：你好",
    ]


@pytest.mark.parametrize("data", [None, "text"])
@pytest.mark.asyncio
async def test_messages_that_are_not_objects_are_ignored(monkeypatch: pytest.MonkeyPatch, data: Any) -> None:
    bot = EchoBot()
    handler, sio = guarded_handler(bot, monkeypatch)
    await handler("sid-1", data)
    assert bot.received == [] and sio.emitted == []


@pytest.mark.parametrize(
    "data",
    [
        {"message": "你好"},
        {"message": "你好", "session_id": "x" * 300},
        {"message": "你好", "session_id": "victim-session"},
        {"message": "你好", "session_id": "victim-session.0123456789abcdef"},
    ],
)
@pytest.mark.asyncio
async def test_messages_for_a_session_not_joined_get_a_polite_answer(
    monkeypatch: pytest.MonkeyPatch, data: Any
) -> None:
    bot = EchoBot()
    channel = WebchatInput.from_credentials({"session_persistence": True})
    channel.blueprint(bot)
    sio = RecordingServer()
    monkeypatch.setattr(channel.sio, "emit", sio.emit)
    await channel.sio.handlers["/"]["user_uttered"]("sid-1", data)
    assert bot.received == []
    assert sio.emitted == [("bot_uttered", {"text": guard_text("session_invalid")}, {"room": "sid-1"})]


@pytest.mark.asyncio
async def test_socketio_round_trip_on_a_real_server(serve_blueprint: Serve) -> None:
    bot = EchoBot()
    channel = WebchatInput.from_credentials({"session_persistence": True})
    base = await serve_blueprint(channel.blueprint(bot), "/webhooks/socketio")
    client = socketio.AsyncClient()
    confirmed, answered = asyncio.Event(), asyncio.Event()
    replies: List[Any] = []

    session: List[str] = []

    @client.on("session_confirm")
    async def on_session_confirm(token: Any) -> None:
        session.append(token)
        confirmed.set()

    @client.on("bot_uttered")
    async def on_bot_uttered(data: Any) -> None:
        replies.append(data)
        if len(replies) == 2:
            answered.set()

    await client.connect(base.removesuffix("/webhooks/socketio"), transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": "round-trip"})
        await asyncio.wait_for(confirmed.wait(), timeout=10)
        # The server issues a signed id of its own; the widget keeps and sends that one.
        assert session[0] != "round-trip" and session[0].count(".") == 1
        await client.emit("user_uttered", {"message": f"手机{PHONE}", "session_id": session[0]})
        await asyncio.wait_for(answered.wait(), timeout=10)
    finally:
        await client.disconnect()
    masked = f"手机{PLACEHOLDERS['phone']}"
    assert [m.text for m in bot.received] == [masked]
    assert replies == [{"text": guard_text("pii_notice")}, {"text": f"收到：{masked}"}]


# --- whose address a connection counts for (issue 32, point 1) --------------------------------


class _Request:
    def __init__(self, ip: str) -> None:
        self.ip = ip


def _environ(peer: str, real_ip: Optional[str] = None) -> Dict[str, Any]:
    environ: Dict[str, Any] = {"sanic.request": _Request(peer)}
    if real_ip is not None:
        environ["HTTP_X_REAL_IP"] = real_ip
    return environ


def test_a_client_s_own_x_real_ip_is_ignored_without_a_trusted_proxy() -> None:
    from channels.webchat import client_address

    assert client_address(_environ("127.0.0.1", "10.9.9.9")) == "127.0.0.1"  # make web: no proxy


def test_the_trusted_proxy_s_x_real_ip_counts() -> None:
    from channels.webchat import client_address, trusted_proxies

    trusted = trusted_proxies("127.0.0.1, not-an-address")
    assert trusted == frozenset({"127.0.0.1"})
    assert client_address(_environ("127.0.0.1", "127.0.0.9"), trusted) == "127.0.0.9"
    assert client_address(_environ("127.0.0.1", "garbage"), trusted) == "127.0.0.1"
    assert client_address(_environ("10.0.0.5", "127.0.0.9"), trusted) == "10.0.0.5"  # not the proxy


def test_a_flood_with_forged_addresses_does_not_lock_others_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a trusted proxy every forged X-Real-IP counts for the peer's own address: the
    flood is capped there, and a client at another address still gets in."""
    monkeypatch.delenv("WEBCHAT_TRUSTED_PROXIES", raising=False)
    channel = WebchatInput.from_credentials({"session_persistence": True})
    accepted = [channel._accept_connection(f"flood-{n}", _environ("127.0.0.1", f"10.0.{n}.1"), None) for n in range(40)]
    assert sum(accepted) == channel.max_connections_per_address
    assert channel._accept_connection("other", _environ("127.0.0.8"), None)
