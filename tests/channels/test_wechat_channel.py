"""WeChat Official Account channel: a real Sanic server on loopback, a fake bot and a
loopback stand-in for the WeChat API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional, Tuple

import aiohttp
import pytest
import pytest_asyncio
import xmltodict
from aiohttp import web
from rasa.core.channels.channel import UserMessage
from wechatpy.crypto import WeChatCrypto

from channels.guard import PLACEHOLDERS, Guard, GuardLimits
from channels.guard_texts import guard_text
from channels.wechat import (
    WeChatConfig,
    WeChatInput,
)
from channels.wechat_api import CustomerServiceClient
from channels.wechat_format import (
    TEXT_LIMIT_BYTES,
    TRUNCATION_NOTICE,
    match_button,
    render_reply,
    truncate_text,
)
from channels.wechat_shared import LocalState
from tests.loopback import Serve

TOKEN = "jiebei-test-token"
APPID = "wx0123456789abcdef"
APPSECRET = "test-app-secret"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
OFFICIAL_ACCOUNT = "gh_jiebei"
OPENID = "o_user_0001"

WELCOME = "欢迎关注借呗额度助手！请描述您遇到的问题。"
BUTTONS = [
    {"title": "借呗额度降低了", "payload": "/ask_limit_dropped"},
    {"title": "借呗借不出来", "payload": "/ask_cannot_borrow"},
]
SLOW_S = 1.5

# --- the fake bot --------------------------------------------------------------------


class FakeBot:
    """Stands in for ``agent.handle_message``: answers from a small table."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    @property
    def texts(self) -> List[Optional[str]]:
        return [message.text for message in self.received]

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        out, sender, text = message.output_channel, message.sender_id, message.text or ""
        if text == "你好":
            await out.send_response(sender, {"text": "您好，我是借呗额度助手。"})
            await out.send_response(sender, {"text": "请问您遇到了哪种情况？", "buttons": BUTTONS})
        elif text == "/greet":
            await out.send_response(sender, {"text": WELCOME})
        elif text == "/ask_limit_dropped":
            await out.send_response(sender, {"text": "额度降低常见原因：近期有逾期。"})
            await out.send_response(sender, {"custom": {"advice": {"topic": "limit_dropped"}}})
        elif text == "稍等":
            await asyncio.sleep(0.2)
            await out.send_response(sender, {"text": "稍等的回答"})
        elif text.startswith("慢"):
            await asyncio.sleep(SLOW_S)
            await out.send_response(sender, {"text": f"慢回答：{text}"})
        elif text == "炸":
            raise RuntimeError("boom")
        elif text == "沉默":
            pass
        else:
            await out.send_response(sender, {"text": f"收到：{text}"})


# --- the WeChat API stand-in ---------------------------------------------------------


class FakeWeChatAPI:
    """Loopback stand-in for api.weixin.qq.com (token + customer-service send)."""

    def __init__(self) -> None:
        self.token_calls = 0
        self.sent: List[Tuple[str, Dict[str, Any]]] = []
        self.raw_bodies: List[bytes] = []
        self.rejected_tokens: set = set()
        self._changed = asyncio.Condition()
        self._runner: Optional[web.AppRunner] = None
        self.base = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for_sent(self, count: int, timeout: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.sent) >= count), timeout)

    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if (query.get("grant_type"), query.get("appid"), query.get("secret")) != (
            "client_credential",
            APPID,
            APPSECRET,
        ):
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.token_calls += 1
        # text/plain on purpose: the real API labels its JSON that way too.
        return web.Response(
            text=f'{{"access_token": "token-{self.token_calls}", "expires_in": 7200}}',
            content_type="text/plain",
        )

    async def _send(self, request: web.Request) -> web.Response:
        token = request.query["access_token"]
        if token in self.rejected_tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        raw = await request.read()
        async with self._changed:
            self.raw_bodies.append(raw)
            self.sent.append((token, await request.json()))
            self._changed.notify_all()
        return web.json_response({"errcode": 0, "errmsg": "ok"})


# --- fixtures and request helpers ----------------------------------------------------


@pytest_asyncio.fixture
async def wechat_api() -> AsyncIterator[FakeWeChatAPI]:
    api = FakeWeChatAPI()
    await api.start()
    yield api
    await api.stop()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


StartChannel = Callable[..., Awaitable[str]]


@pytest_asyncio.fixture
async def start_channel(serve_blueprint: Serve) -> StartChannel:
    """Serves a channel's blueprint on a free loopback port; returns its base URL."""

    async def start(channel: WeChatInput, bot: FakeBot) -> str:
        return await serve_blueprint(channel.blueprint(bot), "/webhooks/wechat")

    return start


def make_channel(guard: Optional[Guard] = None, **overrides: Any) -> WeChatInput:
    settings: Dict[str, Any] = {"token": TOKEN, "reply_timeout": 5.0}
    settings.update(overrides)
    return WeChatInput(WeChatConfig(**settings), guard=guard)


def signed(token: str = TOKEN, **extra: str) -> Dict[str, str]:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce, **extra}


def new_msg_id() -> str:
    return str(uuid.uuid4().int % 10**18)


def text_xml(content: str, openid: str = OPENID, msg_id: Optional[str] = None) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id or new_msg_id()}</MsgId></xml>"
    )


def event_xml(event: str, openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event></xml>"
    )


def image_xml(openid: str = OPENID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType><![CDATA[image]]></MsgType>"
        f"<PicUrl><![CDATA[http://example.invalid/a.jpg]]></PicUrl>"
        f"<MediaId><![CDATA[media_1]]></MediaId>"
        f"<MsgId>{new_msg_id()}</MsgId></xml>"
    )


async def post(
    http: aiohttp.ClientSession, url: str, body: Any, params: Optional[Dict[str, str]] = None
) -> Tuple[int, str]:
    data = body.encode("utf-8") if isinstance(body, str) else body
    async with http.post(f"{url}/webhook", params=params or signed(), data=data) as resp:
        return resp.status, await resp.text()


def reply_fields(xml: str) -> Dict[str, str]:
    return xmltodict.parse(xml)["xml"]


# --- formatting (pure functions) -----------------------------------------------------


def test_render_joins_messages_numbers_buttons_and_skips_custom() -> None:
    rendered = render_reply(
        [
            {"text": "第一段"},
            {"text": "请选择：", "buttons": BUTTONS},
            {"custom": {"advice": {"topic": "limit_dropped"}}},
            {"text": "还有", "buttons": [{"title": "其他", "payload": "/other"}]},
        ]
    )
    assert rendered.text == (
        "第一段\n\n请选择：\n回复 1：借呗额度降低了\n回复 2：借呗借不出来\n\n还有\n回复 3：其他\n\n回复 0：重新开始"
    )
    assert [b["payload"] for b in rendered.buttons] == [
        "/ask_limit_dropped",
        "/ask_cannot_borrow",
        "/other",
    ]


def test_truncation_respects_byte_limit_and_keeps_options() -> None:
    long_text = "借呗额度说明。\n" * 400
    assert len(truncate_text(long_text).encode("utf-8")) <= TEXT_LIMIT_BYTES
    assert truncate_text(long_text).endswith(TRUNCATION_NOTICE)
    assert truncate_text("短") == "短"

    rendered = render_reply([{"text": long_text, "buttons": BUTTONS}])
    assert len(rendered.text.encode("utf-8")) <= TEXT_LIMIT_BYTES
    assert rendered.text.endswith("回复 1：借呗额度降低了\n回复 2：借呗借不出来\n\n回复 0：重新开始")
    assert TRUNCATION_NOTICE in rendered.text


@pytest.mark.parametrize(
    "answer, expected",
    [
        ("1", "/ask_limit_dropped"),
        ("１", "/ask_limit_dropped"),
        (" 2 ", "/ask_cannot_borrow"),
        ("3", None),
        ("0", "/restart"),
        ("一", None),
        ("12345678", None),
        ("额度", None),
    ],
)
def test_match_button(answer: str, expected: Optional[str]) -> None:
    assert match_button(answer, BUTTONS) == expected
    # Without buttons only 「0」 (start over) means something.
    assert match_button(answer, None) == ("/restart" if answer == "0" else None)


# --- credentials -----------------------------------------------------------------------


def test_from_credentials_defaults_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_TOKEN", "env-token")
    monkeypatch.setenv("WECHAT_APPID", APPID)
    monkeypatch.setenv("WECHAT_APPSECRET", "env-secret")
    monkeypatch.setenv("WECHAT_API_BASE", "http://127.0.0.1:9")
    monkeypatch.delenv("WECHAT_AES_KEY", raising=False)
    channel = WeChatInput.from_credentials({"reply_timeout": 0.5, "appsecret": "file-secret"})
    assert channel.name() == "wechat"
    assert channel.config.token == "env-token"
    assert channel.config.appsecret == "file-secret"
    assert channel.config.api_base == "http://127.0.0.1:9"
    assert channel.config.reply_timeout == 0.5
    assert channel.config.aes_key is None


# --- verification and rejection --------------------------------------------------------


@pytest.mark.asyncio
async def test_signed_get_returns_echostr(start_channel: StartChannel, http: aiohttp.ClientSession) -> None:
    url = await start_channel(make_channel(), FakeBot())
    async with http.get(f"{url}/webhook", params=signed(echostr="echo-123")) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/plain"
        assert await resp.text() == "echo-123"
    async with http.get(f"{url}/") as resp:
        assert resp.status == 200


@pytest.mark.asyncio
async def test_bad_signature_is_rejected(start_channel: StartChannel, http: aiohttp.ClientSession) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    forged = signed(token="not-the-token", echostr="echo")
    async with http.get(f"{url}/webhook", params=forged) as resp:
        assert resp.status == 403
    async with http.get(f"{url}/webhook", params={"echostr": "echo"}) as resp:
        assert resp.status == 403
    assert (await post(http, url, text_xml("你好"), params=forged))[0] == 403
    unsigned = {"timestamp": "1", "nonce": "2"}
    assert (await post(http, url, text_xml("你好"), params=unsigned))[0] == 403
    assert bot.received == []


@pytest.mark.asyncio
async def test_no_token_configured_rejects_everything(
    start_channel: StartChannel, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WECHAT_TOKEN", raising=False)
    bot = FakeBot()
    url = await start_channel(WeChatInput.from_credentials(None), bot)
    async with http.get(f"{url}/webhook", params=signed(token="", echostr="x")) as resp:
        assert resp.status == 403
    assert (await post(http, url, text_xml("你好"), params=signed(token="")))[0] == 403
    assert bot.received == []


@pytest.mark.asyncio
async def test_malformed_xml_is_400_and_server_keeps_working(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    assert (await post(http, url, "<xml><MsgType>text</Msg"))[0] == 400
    assert (await post(http, url, "这不是 XML"))[0] == 400
    assert (await post(http, url, "<xml><Content>没有类型</Content></xml>"))[0] == 400
    assert (await post(http, url, b"\xff\xfe\x00"))[0] == 400
    status, body = await post(http, url, text_xml("额度"))
    assert status == 200
    assert reply_fields(body)["Content"] == "收到：额度"


@pytest.mark.asyncio
async def test_oversize_body_gets_a_polite_wechat_reply_and_no_turn(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    status, body = await post(http, url, text_xml("额" * 30_000))
    assert status == 200
    assert reply_fields(body)["Content"] == guard_text("body_too_large")
    assert bot.received == []


@pytest.mark.asyncio
async def test_an_unsigned_oversize_body_is_refused_unread(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    status, _ = await post(
        http, url, text_xml("额" * 30_000), params={"signature": "bad", "timestamp": "1", "nonce": "n"}
    )
    assert status == 413
    assert bot.received == []


# --- conversation ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_text_message_gets_joined_reply_with_numbered_options(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    status, body = await post(http, url, text_xml("你好"))
    assert status == 200
    reply = reply_fields(body)
    assert reply["MsgType"] == "text"
    assert (reply["ToUserName"], reply["FromUserName"]) == (OPENID, OFFICIAL_ACCOUNT)
    assert reply["Content"] == (
        "您好，我是借呗额度助手。\n\n请问您遇到了哪种情况？\n"
        "回复 1：借呗额度降低了\n回复 2：借呗借不出来\n\n回复 0：重新开始"
    )
    message = bot.received[0]
    assert (message.sender_id, message.input_channel) == (OPENID, "wechat")
    assert message.metadata["wechat"]["openid"] == OPENID


@pytest.mark.asyncio
async def test_numeric_answer_maps_to_button_payload(start_channel: StartChannel, http: aiohttp.ClientSession) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    await post(http, url, text_xml("你好"))
    await post(http, url, text_xml("你好", openid="o_someone_else"))

    status, body = await post(http, url, text_xml("１"))
    assert status == 200
    assert reply_fields(body)["Content"] == "额度降低常见原因：近期有逾期。"
    # The last reply offered no buttons, so a number is now just text.
    status, body = await post(http, url, text_xml("1"))
    assert reply_fields(body)["Content"] == "收到：1"
    assert bot.texts == ["你好", "你好", "/ask_limit_dropped", "1"]

    status, body = await post(http, url, text_xml(" 2 ", openid="o_someone_else"))
    assert bot.texts[-1] == "/ask_cannot_borrow"


@pytest.mark.asyncio
async def test_retried_msg_id_is_processed_once(start_channel: StartChannel, http: aiohttp.ClientSession) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    xml = text_xml("稍等", msg_id="900001")
    first, second = await asyncio.gather(post(http, url, xml), post(http, url, xml))
    third = await post(http, url, xml)
    assert bot.texts == ["稍等"]
    for status, body in (first, second, third):
        assert status == 200
        assert reply_fields(body)["Content"] == "稍等的回答"


@pytest.mark.asyncio
async def test_safe_mode_round_trip(start_channel: StartChannel, http: aiohttp.ClientSession) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(appid=APPID, aes_key=AES_KEY), bot)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    params = signed()
    encrypted = crypto.encrypt_message(text_xml("你好"), params["nonce"], params["timestamp"])
    envelope = reply_fields(encrypted)
    body = (
        f"<xml><ToUserName><![CDATA[{OFFICIAL_ACCOUNT}]]></ToUserName>"
        f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    )

    bad = dict(params, encrypt_type="aes", msg_signature="0" * 40)
    assert (await post(http, url, body, params=bad))[0] == 403

    good = dict(params, encrypt_type="aes", msg_signature=envelope["MsgSignature"])
    status, encrypted_reply = await post(http, url, body, params=good)
    assert status == 200
    outer = reply_fields(encrypted_reply)
    assert "Content" not in outer
    plain = crypto.decrypt_message(encrypted_reply, outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
    assert reply_fields(plain)["Content"].startswith("您好，我是借呗额度助手。")
    assert bot.texts == ["你好"]


@pytest.mark.asyncio
async def test_subscribe_greets_and_unsubscribe_is_silent(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    status, body = await post(http, url, event_xml("subscribe"))
    assert status == 200
    assert reply_fields(body)["Content"] == WELCOME
    assert await post(http, url, event_xml("unsubscribe")) == (200, "success")
    assert await post(http, url, event_xml("some_future_event")) == (200, "success")
    assert bot.texts == ["/greet"]


@pytest.mark.asyncio
async def test_non_text_and_empty_messages_get_polite_answers(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    _, body = await post(http, url, image_xml())
    assert reply_fields(body)["Content"] == guard_text("no_text")
    _, body = await post(http, url, text_xml("   "))
    assert reply_fields(body)["Content"] == guard_text("empty")
    assert bot.received == []


@pytest.mark.asyncio
async def test_bot_failure_is_answered_politely(start_channel: StartChannel, http: aiohttp.ClientSession) -> None:
    url = await start_channel(make_channel(), FakeBot())
    status, body = await post(http, url, text_xml("炸"))
    assert status == 200
    assert reply_fields(body)["Content"] == guard_text("busy")


# --- the input guard ---------------------------------------------------------------------

PHONE = "13812345678"


@pytest.mark.asyncio
async def test_pii_is_masked_before_the_bot_and_noticed_once(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    masked = PLACEHOLDERS["phone"]
    _, body = await post(http, url, text_xml(f"我的手机号是{PHONE}，额度降了"))
    assert reply_fields(body)["Content"] == (f"{guard_text('pii_notice')}\n\n收到：我的手机号是{masked}，额度降了")
    _, body = await post(http, url, text_xml(f"{PHONE}"))
    assert reply_fields(body)["Content"] == f"收到：{masked}"
    assert bot.texts == [f"我的手机号是{masked}，额度降了", masked]
    assert all(PHONE not in repr(message.__dict__) for message in bot.received)


@pytest.mark.asyncio
async def test_retries_repeat_the_guarded_reply_without_costing_tokens(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    guard = Guard(GuardLimits(burst=1), clock=lambda: 0.0)
    url = await start_channel(make_channel(guard=guard), bot)
    xml = text_xml(f"手机{PHONE}", msg_id="900201")
    replies = [reply_fields((await post(http, url, xml))[1])["Content"] for _ in range(3)]
    assert replies == [f"{guard_text('pii_notice')}\n\n收到：手机{PLACEHOLDERS['phone']}"] * 3
    _, body = await post(http, url, text_xml("再问一个"))
    assert reply_fields(body)["Content"] == guard_text("rate_limited")
    assert len(bot.received) == 1


@pytest.mark.parametrize("content, key", [("😀👍", "no_text"), ("？？？", "no_text"), ("\u3000", "empty")])
@pytest.mark.asyncio
async def test_textless_messages_are_answered_without_the_bot(
    start_channel: StartChannel, http: aiohttp.ClientSession, content: str, key: str
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    _, body = await post(http, url, text_xml(content))
    assert reply_fields(body)["Content"] == guard_text(key)
    assert bot.received == []


@pytest.mark.asyncio
async def test_long_message_is_cut_and_silence_becomes_busy(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    text = "额度" * 300
    _, body = await post(http, url, text_xml(text))
    assert reply_fields(body)["Content"] == f"{guard_text('too_long')}\n\n收到：{text[:500]}"
    _, body = await post(http, url, text_xml("沉默"))
    assert reply_fields(body)["Content"] == guard_text("busy")
    assert bot.texts == [text[:500], "沉默"]


# --- late replies through the customer-service API --------------------------------------


@pytest.mark.asyncio
async def test_slow_bot_answers_success_then_delivers_via_api(
    start_channel: StartChannel, http: aiohttp.ClientSession, wechat_api: FakeWeChatAPI
) -> None:
    bot = FakeBot()
    channel = make_channel(appid=APPID, appsecret=APPSECRET, api_base=wechat_api.base, reply_timeout=0.3)
    url = await start_channel(channel, bot)

    slow_first = text_xml("慢一", msg_id="900101")
    started = time.monotonic()
    results = await asyncio.gather(post(http, url, slow_first), post(http, url, text_xml("慢二", openid="o_user_0002")))
    assert time.monotonic() - started < SLOW_S
    assert results == [(200, "success"), (200, "success")]
    # WeChat's retry of a message that is still being processed.
    assert await post(http, url, slow_first) == (200, "success")

    await wechat_api.wait_for_sent(2)
    delivered = {body["touser"]: body for _, body in wechat_api.sent}
    assert delivered[OPENID] == {
        "touser": OPENID,
        "msgtype": "text",
        "text": {"content": "慢回答：慢一"},
    }
    assert delivered["o_user_0002"]["text"]["content"] == "慢回答：慢二"
    assert all("慢回答".encode() in raw for raw in wechat_api.raw_bodies)
    assert wechat_api.token_calls == 1
    assert len(wechat_api.sent) == 2
    assert bot.texts.count("慢一") == 1

    # A retry after the late delivery must not resend it.
    assert await post(http, url, slow_first) == (200, "success")
    assert len(wechat_api.sent) == 2


# --- two replicas sharing their state (channels/wechat_shared.py; Redis in tests/scale) -----


def replica(state: LocalState, **overrides: Any) -> WeChatInput:
    settings: Dict[str, Any] = {"token": TOKEN, "reply_timeout": 5.0, **overrides}
    return WeChatInput(WeChatConfig(**settings), shared=state)


async def two_replicas(start_channel: StartChannel, bot: FakeBot, **overrides: Any) -> Tuple[str, str]:
    """Two channels on ports of their own, sharing one state as two replicas share Redis."""
    state = LocalState()
    return await start_channel(replica(state, **overrides), bot), await start_channel(replica(state, **overrides), bot)


@pytest.mark.asyncio
async def test_a_retry_on_the_other_replica_is_answered_without_running_the_turn_again(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    first_url, other_url = await two_replicas(start_channel, bot)
    xml = text_xml("稍等", msg_id=new_msg_id())
    first, retry = await asyncio.gather(post(http, first_url, xml), post(http, other_url, xml))
    later_retry = await post(http, other_url, xml)
    assert bot.texts == ["稍等"]
    for status, body in (first, retry, later_retry):
        assert status == 200 and reply_fields(body)["Content"] == "稍等的回答"


@pytest.mark.asyncio
async def test_options_offered_by_one_replica_are_understood_by_the_other(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    first_url, other_url = await two_replicas(start_channel, bot)
    await post(http, first_url, text_xml("你好"))
    status, body = await post(http, other_url, text_xml("1"))
    assert status == 200 and bot.texts == ["你好", BUTTONS[0]["payload"]]
    assert reply_fields(body)["Content"].startswith("额度降低常见原因")


@pytest.mark.asyncio
async def test_a_late_reply_is_sent_once_when_both_replicas_answered_success(
    start_channel: StartChannel, http: aiohttp.ClientSession, wechat_api: FakeWeChatAPI
) -> None:
    bot = FakeBot()
    first_url, other_url = await two_replicas(
        start_channel, bot, appid=APPID, appsecret=APPSECRET, api_base=wechat_api.base, reply_timeout=0.3
    )
    xml = text_xml("慢三", msg_id=new_msg_id())
    assert await post(http, first_url, xml) == (200, "success")
    assert await post(http, other_url, xml) == (200, "success")
    await wechat_api.wait_for_sent(1)
    assert await post(http, other_url, xml) == (200, "success")  # after the delivery: nothing again
    assert bot.texts == ["慢三"]
    assert [body["text"]["content"] for _, body in wechat_api.sent] == ["慢回答：慢三"]


@pytest.mark.asyncio
async def test_two_clients_sharing_a_state_fetch_one_token(wechat_api: FakeWeChatAPI) -> None:
    state = LocalState()
    clients = [CustomerServiceClient(APPID, APPSECRET, api_base=wechat_api.base, tokens=state) for _ in range(2)]
    try:
        assert all(await asyncio.gather(*(client.send_text(OPENID, "一") for client in clients)))
        assert wechat_api.token_calls == 1
        wechat_api.rejected_tokens.add("token-1")
        assert all(await asyncio.gather(*(client.send_text(OPENID, "二") for client in clients)))
        assert wechat_api.token_calls == 2  # one refresh for both
    finally:
        for client in clients:
            await client.close()


@pytest.mark.asyncio
async def test_rejected_token_is_refreshed_and_send_retried(wechat_api: FakeWeChatAPI) -> None:
    client = CustomerServiceClient(APPID, APPSECRET, api_base=wechat_api.base)
    try:
        assert await client.send_text(OPENID, "第一条")
        wechat_api.rejected_tokens.add("token-1")
        assert await client.send_text(OPENID, "第二条")
    finally:
        await client.close()
    assert wechat_api.token_calls == 2
    assert [(token, body["text"]["content"]) for token, body in wechat_api.sent] == [
        ("token-1", "第一条"),
        ("token-2", "第二条"),
    ]


@pytest.mark.asyncio
async def test_token_is_refreshed_before_expiry(wechat_api: FakeWeChatAPI) -> None:
    now = [1000.0]
    client = CustomerServiceClient(APPID, APPSECRET, api_base=wechat_api.base, clock=lambda: now[0])
    try:
        assert await client.send_text(OPENID, "一")
        now[0] += 6000
        assert await client.send_text(OPENID, "二")
        assert wechat_api.token_calls == 1
        now[0] += 1000  # past expires_in minus the safety margin
        assert await client.send_text(OPENID, "三")
        assert wechat_api.token_calls == 2
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_api_failure_returns_false(wechat_api: FakeWeChatAPI) -> None:
    client = CustomerServiceClient(APPID, "wrong-secret", api_base=wechat_api.base)
    try:
        assert await client.send_text(OPENID, "不会送达") is False
    finally:
        await client.close()
    assert wechat_api.sent == []


def test_options_the_text_already_numbers_are_not_listed_twice_but_still_answer_by_number():
    from actions.ask import recent_events_entry
    from advisor.planner import open_options
    from channels.wechat_format import match_button, render_reply

    entry = recent_events_entry(open_options({}, []))
    reply = render_reply([{"text": entry["text"], "buttons": entry["buttons"]}])
    assert reply.text.count("实名认证没完成") == 1
    assert "回复 6：以上都没有" in reply.text and "回复 1：" not in reply.text
    assert match_button("2", reply.buttons) == '/inform{"abnormal_transactions": true}'
    assert match_button("6", reply.buttons) == "/deny"


# --- who may post: replay, safe mode, ids (issue 15) ---------------------------------------


def signed_at(timestamp: int, nonce: Optional[str] = None, token: str = TOKEN) -> Dict[str, str]:
    nonce = nonce or uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, str(timestamp), nonce])).encode()).hexdigest()
    return {"signature": signature, "timestamp": str(timestamp), "nonce": nonce}


@pytest.mark.parametrize("skew_s", [-3600, -301, 301, 86400 * 365])
@pytest.mark.asyncio
async def test_a_signed_url_outside_the_time_window_is_refused(
    start_channel: StartChannel, http: aiohttp.ClientSession, skew_s: int
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    params = signed_at(int(time.time()) + skew_s)
    assert await post(http, url, text_xml("你好"), params=params) == (403, "forbidden")
    async with http.get(f"{url}/webhook", params={**params, "echostr": "x"}) as resp:
        assert resp.status == 403
    assert bot.received == []


@pytest.mark.asyncio
async def test_a_replayed_url_cannot_carry_another_users_message(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    params = signed_at(int(time.time()))
    assert (await post(http, url, text_xml("你好"), params=params))[0] == 200
    forged = text_xml("我是别人", openid="o_victim_0002")
    assert await post(http, url, forged, params=params) == (403, "forbidden")
    assert [m.sender_id for m in bot.received] == [OPENID]


@pytest.mark.asyncio
async def test_a_replay_of_the_same_request_never_runs_the_turn_again(
    start_channel: StartChannel, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    import channels.wechat as wechat

    monkeypatch.setattr(wechat, "EXCHANGE_TTL_S", 0.0)  # the exchange is forgotten at once
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    params, xml = signed_at(int(time.time())), text_xml("你好", msg_id="900301")
    assert (await post(http, url, xml, params=params))[0] == 200
    assert await post(http, url, xml, params=params) == (200, "success")
    assert len(bot.received) == 1


@pytest.mark.asyncio
async def test_with_an_aes_key_plaintext_requests_are_refused(
    start_channel: StartChannel, http: aiohttp.ClientSession
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(appid=APPID, aes_key=AES_KEY), bot)
    assert await post(http, url, text_xml("你好")) == (403, "forbidden")
    assert await post(http, url, text_xml("你好"), params=signed(encrypt_type="raw")) == (403, "forbidden")
    assert bot.received == []


@pytest.mark.parametrize("openid", ["", "o" * 65, "o_user<script>", "o_user 0001", "13812345678@qq.com"])
@pytest.mark.asyncio
async def test_a_from_user_name_that_is_no_wechat_id_is_refused(
    start_channel: StartChannel, http: aiohttp.ClientSession, openid: str
) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(), bot)
    for xml in (text_xml("你好", openid=openid), event_xml("subscribe", openid=openid)):
        status, _ = await post(http, url, xml)
        assert status == 400
    assert bot.received == []


@pytest.mark.asyncio
async def test_subscribe_events_pass_the_rate_limit(start_channel: StartChannel, http: aiohttp.ClientSession) -> None:
    bot = FakeBot()
    url = await start_channel(make_channel(guard=Guard(GuardLimits(burst=2), clock=lambda: 0.0)), bot)
    contents = []
    for _ in range(4):
        xml = event_xml("subscribe").replace(
            f"<CreateTime>{int(time.time())}", f"<CreateTime>{uuid.uuid4().int % 10**9}"
        )
        contents.append(reply_fields((await post(http, url, xml))[1])["Content"])
    assert contents[:2] == [WELCOME, WELCOME]
    assert contents[2:] == [guard_text("rate_limited")] * 2
    assert bot.texts == ["/greet", "/greet"]


def test_zero_starts_over_whatever_was_offered() -> None:
    from channels.wechat_format import match_button

    assert match_button("0", None) == "/restart"
    assert match_button(" ０ ", BUTTONS) == "/restart"
    assert match_button("1", BUTTONS) == BUTTONS[0]["payload"]
    assert render_reply([{"text": "没有按钮"}]).text == "没有按钮"
