"""WeChat Official Account (微信公众号) input channel.

Enable it in ``credentials.yml``; every key is optional and falls back to the
environment variable shown::

    channels.wechat.WeChatInput:
      token: ...          # WECHAT_TOKEN      服务器配置 Token; without it every request gets 403
      appid: ...          # WECHAT_APPID
      aes_key: ...        # WECHAT_AES_KEY    EncodingAESKey; with appid enables 安全模式 (encrypt_type=aes)
      appsecret: ...      # WECHAT_APPSECRET  for the customer-service API (replies later than the deadline)
      api_base: ...       # WECHAT_API_BASE   default https://api.weixin.qq.com
      reply_timeout: 4.5  # seconds to wait for the bot before answering "success" and replying later

In the 公众号 admin, set the server URL to ``https://<host>/webhooks/wechat/webhook``.
WeChat gives up on a request after 5 s and retries it up to 3 times; a message is
processed once per MsgId, by all replicas together (channels/wechat_shared.py: through Redis
when ``REDIS_HOST`` is set, as under ``make scale``), and a reply not ready by
``reply_timeout`` is sent later through the customer-service API (needs appid + appsecret and the server's IP on
the account's API whitelist). Text messages and subscribe events pass the input guard
(channels/guard.py) first; its replies and notices become (part of) the passive reply.

Who may post: a request needs a valid signature, a timestamp within 5 minutes of this
server's clock and a (timestamp, nonce) pair not seen before with another body
(channels/wechat_replay.py); with an ``aes_key`` only encrypted requests are accepted, and
``FromUserName`` / ``ToUserName`` must look like WeChat ids.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import (
    Any,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    List,
    Optional,
    Set,
    Text,
    TypeVar,
)

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import BaseEvent
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import BaseMessage, TextMessage
from wechatpy.parser import parse_message
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels.guard import BODY_TOO_LARGE, BUSY, NO_TEXT, Guard
from channels.guard_texts import guard_text, load_payload_intents
from channels.server_limits import cap_request_size
from channels.wechat_api import DEFAULT_API_BASE, CustomerServiceClient
from channels.wechat_format import match_button, render_reply
from channels.wechat_replay import WINDOW_S, InMemoryNonces, NonceMemory, RedisNonces, check_request
from channels.wechat_shared import SharedState, shared_state_from_environment, wait_for_published

logger = logging.getLogger(__name__)

GREET_PAYLOAD = "/greet"
SUCCESS = "success"  # WeChat's "received, no passive reply" answer; never needs encryption

MAX_BODY_BYTES = 64 * 1024
EXCHANGE_TTL_S = 60.0
MAX_EXCHANGES = 10_000

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
V = TypeVar("V")


@dataclass(frozen=True)
class WeChatConfig:
    token: Optional[str] = None
    appid: Optional[str] = None
    aes_key: Optional[str] = None
    appsecret: Optional[str] = None
    api_base: str = DEFAULT_API_BASE
    reply_timeout: float = 4.5
    max_body_bytes: int = MAX_BODY_BYTES
    replay_window_s: float = WINDOW_S


@dataclass
class _Exchange:
    """One incoming message (and WeChat's retries of it) and the bot's pending reply."""

    task: "asyncio.Task[str]"
    created_at: float
    # Set once some request answered "success": the reply then goes out via the API.
    deferred: bool = False


class _ExchangeStore:
    """Exchanges by message key, forgotten after ``ttl_s`` or beyond ``max_size``."""

    def __init__(self, ttl_s: float, max_size: int) -> None:
        self._ttl_s = ttl_s
        self._max_size = max_size
        self._items: "OrderedDict[str, _Exchange]" = OrderedDict()

    def get(self, key: str) -> Optional[_Exchange]:
        self._prune()
        return self._items.get(key)

    def add(self, key: str, task: "asyncio.Task[str]") -> _Exchange:
        exchange = _Exchange(task=task, created_at=time.monotonic())
        self._items[key] = exchange
        self._prune()
        return exchange

    def _prune(self) -> None:
        expired_before = time.monotonic() - self._ttl_s
        while self._items:
            oldest = next(iter(self._items.values()))
            if len(self._items) <= self._max_size and oldest.created_at >= expired_before:
                break
            self._items.popitem(last=False)


class WeChatInput(InputChannel):
    """Receives 公众号 messages at ``/webhooks/wechat/webhook`` and answers passively."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WeChatInput":
        credentials = credentials or {}

        def setting(key: str, env: str) -> Optional[str]:
            value = str(credentials.get(key) or os.environ.get(env) or "").strip()
            return value or None

        config = WeChatConfig(
            token=setting("token", "WECHAT_TOKEN"),
            appid=setting("appid", "WECHAT_APPID"),
            aes_key=setting("aes_key", "WECHAT_AES_KEY"),
            appsecret=setting("appsecret", "WECHAT_APPSECRET"),
            api_base=setting("api_base", "WECHAT_API_BASE") or DEFAULT_API_BASE,
            reply_timeout=float(credentials.get("reply_timeout") or WeChatConfig.reply_timeout),
        )
        return cls(config)

    def __init__(
        self,
        config: Optional[WeChatConfig] = None,
        guard: Optional[Guard] = None,
        nonces: Optional[NonceMemory] = None,
        shared: Optional[SharedState] = None,
    ) -> None:
        self.config = config or WeChatConfig()
        self._nonces: NonceMemory = nonces or RedisNonces.from_environment() or InMemoryNonces()
        # Exchanges, the access token and the options offered, shared by the replicas.
        self._shared: SharedState = shared or shared_state_from_environment()
        self.guard = guard or Guard(payload_intents=load_payload_intents())
        self._crypto = self._make_crypto(self.config)
        self._api: Optional[CustomerServiceClient] = None
        if self.config.appid and self.config.appsecret:
            self._api = CustomerServiceClient(
                self.config.appid, self.config.appsecret, api_base=self.config.api_base, tokens=self._shared
            )
        self._exchanges = _ExchangeStore(EXCHANGE_TTL_S, MAX_EXCHANGES)
        # The event loop keeps only weak references to tasks; these must not vanish mid-way.
        self._background: Set["asyncio.Task[Any]"] = set()
        if not self.config.token:
            logger.warning("WeChat channel has no token (set WECHAT_TOKEN): every request will get 403.")

    @staticmethod
    def _make_crypto(config: WeChatConfig) -> Optional[WeChatCrypto]:
        if not (config.token and config.aes_key and config.appid):
            if config.aes_key and not config.appid:
                logger.warning("WECHAT_AES_KEY is set without WECHAT_APPID: safe mode is off.")
            return None
        try:
            return WeChatCrypto(config.token, config.aes_key, config.appid)
        except Exception as error:  # wechatpy asserts on a malformed key
            logger.error("Invalid WECHAT_AES_KEY (%s): safe mode is off.", type(error).__name__)
            return None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        module = inspect.getmodule(self)
        wechat_webhook = Blueprint("wechat_webhook", module.__name__ if module else None)
        cap_request_size(wechat_webhook)

        @wechat_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @wechat_webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self._is_signed(request) or await self._replay_verdict(request) not in ("new", "repeat"):
                return response.text("forbidden", status=403)
            return response.text(request.args.get("echostr", ""))

        @wechat_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            oversized = len(request.body or b"") > self.config.max_body_bytes
            if not self._is_signed(request):
                return (
                    response.text("payload too large", status=413)
                    if oversized
                    else response.text("forbidden", status=403)
                )
            if self._crypto is not None and not self._is_encrypted(request):
                logger.warning("WeChat request rejected: plaintext, but safe mode is configured.")
                return response.text("forbidden", status=403)
            try:
                message = parse_message(self._plaintext_body(request))
                key = _exchange_key(message)
            except InvalidSignatureException:
                logger.warning("WeChat request rejected: bad msg_signature.")
                return response.text("forbidden", status=403)
            except Exception as error:
                logger.warning("WeChat request with an unreadable body (%s).", type(error).__name__)
                return response.text("bad request", status=400)
            # Only authenticated requests are remembered, so nobody can use up a nonce.
            verdict = await self._replay_verdict(request)
            if verdict not in ("new", "repeat"):
                return response.text("forbidden", status=403)
            if oversized:
                # Signed, but over the cap: a polite reply in WeChat's own format, no turn.
                return self._respond(request, message, guard_text(BODY_TOO_LARGE))

            try:
                reply = await self._answer(message, key, on_new_message, may_start=verdict == "new")
            except Exception as error:
                logger.error("WeChat message handling failed (%s).", type(error).__name__)
                logger.debug("WeChat message handling failure details.", exc_info=True)
                reply = guard_text(BUSY)
            try:
                return self._respond(request, message, reply)
            except Exception as error:
                logger.error("WeChat reply could not be built (%s).", type(error).__name__)
                return response.text(SUCCESS)

        @wechat_webhook.listener("after_server_stop")
        async def close_api_client(*_: Any) -> None:
            if self._api is not None:
                await self._api.close()

        return wechat_webhook

    def _is_signed(self, request: Request) -> bool:
        if not self.config.token:
            logger.warning("WeChat request rejected: no token configured (set WECHAT_TOKEN).")
            return False
        args = request.args
        try:
            check_signature(
                self.config.token,
                args.get("signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
        except InvalidSignatureException:
            logger.warning("WeChat request rejected: bad or missing signature.")
            return False
        return True

    async def _replay_verdict(self, request: Request) -> str:
        args = request.args
        try:
            verdict = await check_request(
                args.get("timestamp", ""),
                args.get("nonce", ""),
                request.body or b"",
                self._nonces,
                self.config.replay_window_s,
            )
        except Exception as error:  # the shared nonce store is down: refuse rather than risk a replay
            logger.error("WeChat request refused: nonce store unavailable (%s).", type(error).__name__)
            return "unavailable"
        if verdict == "stale":
            logger.warning("WeChat request rejected: timestamp outside the %.0f s window.", self.config.replay_window_s)
        elif verdict == "forged":
            logger.warning("WeChat request rejected: nonce already used with another body.")
        return verdict

    def _is_encrypted(self, request: Request) -> bool:
        return request.args.get("encrypt_type", "raw").lower() == "aes"

    def _plaintext_body(self, request: Request) -> str:
        body = request.body.decode("utf-8")
        if not self._is_encrypted(request):
            return body
        if self._crypto is None:
            # Compatible mode also carries the plaintext fields; pure safe mode fails to parse.
            logger.warning("Encrypted WeChat request, but safe mode needs WECHAT_AES_KEY and WECHAT_APPID.")
            return body
        args = request.args
        return self._crypto.decrypt_message(
            body,
            args.get("msg_signature", ""),
            args.get("timestamp", ""),
            args.get("nonce", ""),
        )

    def _respond(self, request: Request, message: BaseMessage, reply: Optional[str]) -> HTTPResponse:
        if not reply:
            return response.text(SUCCESS)
        # "]]>" would end the CDATA section the reply text is wrapped in.
        xml = TextReply(message=message, content=reply.replace("]]>", "]] >")).render()
        if self._crypto is not None and self._is_encrypted(request):
            xml = self._crypto.encrypt_message(xml, request.args.get("nonce", ""), request.args.get("timestamp"))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    async def _answer(
        self, message: BaseMessage, key: str, on_new_message: OnNewMessage, may_start: bool = True
    ) -> Optional[str]:
        """Returns the passive reply text, or None to answer ``success``.

        With ``may_start`` False (a request seen before) only a pending exchange is answered."""
        if isinstance(message, TextMessage):
            return await self._converse(
                message, key, message.content or "", on_new_message, from_user=True, may_start=may_start
            )
        if _is_event(message):
            if getattr(message, "event", None) in ("subscribe", "subscribe_scan"):
                return await self._converse(
                    message, key, GREET_PAYLOAD, on_new_message, from_user=False, may_start=may_start
                )
            return None
        return guard_text(NO_TEXT)  # an image, voice, location …

    async def _converse(
        self,
        message: BaseMessage,
        key: str,
        text: str,
        on_new_message: OnNewMessage,
        from_user: bool,
        may_start: bool = True,
    ) -> Optional[str]:
        exchange = self._exchanges.get(key)
        openid = message.source
        if exchange is None:
            if not may_start or not await self._shared.claim(key, EXCHANGE_TTL_S):
                # A retry whose turn runs (or ran) on another replica, or a repeated request.
                return await self._reply_from_elsewhere(key, openid)
            task = self._spawn(self._ask_bot(message, text, on_new_message, from_user))
            exchange = self._exchanges.add(key, task)
            claimed = exchange
            task.add_done_callback(lambda _: self._spawn(self._finish(claimed, key, openid)))
        elif exchange.deferred:
            return None

        try:
            reply = await asyncio.wait_for(asyncio.shield(exchange.task), self.config.reply_timeout)
        except asyncio.TimeoutError:
            if not exchange.task.done():
                exchange.deferred = True
                return None
            reply = exchange.task.result()
        except asyncio.CancelledError:
            # WeChat hung up on us; the reply can still reach the user via the API.
            if not exchange.task.done():
                exchange.deferred = True
            raise
        # Another request for the same message already answered "success": the API sends it.
        # Otherwise every request gets the reply: WeChat reads only the one it still waits on.
        if exchange.deferred or await self._shared.is_deferred(key):
            return None
        return reply

    async def _reply_from_elsewhere(self, key: str, openid: str) -> Optional[str]:
        """The reply another replica's turn publishes, if it comes in time; else "success" and
        the reply goes through the API once it is there."""
        reply = await wait_for_published(self._shared, key, self.config.reply_timeout)
        if reply is None:
            await self._shared.mark_deferred(key, EXCHANGE_TTL_S)
            reply = await self._shared.published(key)  # published between the last look and now
            if reply is not None and await self._shared.take_delivery(key, EXCHANGE_TTL_S):
                self._send_later(openid, reply)
            return None
        return None if await self._shared.is_deferred(key) else reply

    async def _finish(self, exchange: _Exchange, key: str, openid: str) -> None:
        """Publishes the turn's reply; sends it through the API if every request for it got
        "success" (here, or on another replica)."""
        task = exchange.task
        if task.cancelled() or task.exception() is not None or not task.result():
            return
        reply = task.result()
        try:
            await self._shared.publish(key, reply, EXCHANGE_TTL_S)
            if (exchange.deferred or await self._shared.is_deferred(key)) and await self._shared.take_delivery(
                key, EXCHANGE_TTL_S
            ):
                self._send_later(openid, reply)
        except Exception as error:  # the shared store is down; the reply is lost, say so
            logger.error("A WeChat reply could not be shared or delivered (%s).", type(error).__name__)

    async def _ask_bot(self, message: BaseMessage, text: str, on_new_message: OnNewMessage, from_user: bool) -> str:
        """The reply text; for a user's text (``from_user``) guarded and numbers mapped.

        Runs once per message (not per WeChat retry), so a retry costs no rate-limit token
        and its reply carries the same notices.
        """
        openid = message.source
        # Subscribe events too: each costs a rate-limit token like a message.
        decision = self.guard.check(openid, text)
        max_chars = self.guard.limits.max_chars
        if decision.reply is not None:
            return guard_text(decision.reply, max_chars)
        if decision.masked:
            logger.info("Masked %s in a WeChat message.", ", ".join(sorted(decision.masked)))
        text = decision.text
        notices: List[Dict[str, Any]] = [{"text": guard_text(key, max_chars)} for key in decision.notices]
        metadata: Dict[str, Any] = {
            "wechat": {
                "openid": openid,
                "official_account": message.target,
                "msg_id": str(message.id) if message.id else None,
                "msg_type": message.type,
            }
        }
        payload = match_button(text, await self._shared.options(openid)) if from_user else None
        if payload is not None:
            metadata["wechat"]["chosen_option"] = text
            text = payload

        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(text, collector, openid, input_channel=self.name(), metadata=metadata))
        except Exception as error:
            logger.error("Bot failed on a WeChat message (%s).", type(error).__name__)
            logger.debug("Bot failure details.", exc_info=True)
            return guard_text(BUSY)

        replies = collector.messages or [{"text": guard_text(BUSY)}]
        rendered = render_reply(notices + replies)
        await self._shared.save_options(openid, rendered.buttons)
        return rendered.text

    def _send_later(self, openid: str, reply: str) -> None:
        if self._api is None:
            logger.warning(
                "A late WeChat reply was dropped: set WECHAT_APPID and WECHAT_APPSECRET "
                "to deliver replies slower than reply_timeout."
            )
            return
        self._spawn(self._api.send_text(openid, reply))

    def _spawn(self, coroutine: Coroutine[Any, Any, V]) -> "asyncio.Task[V]":
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


def _is_event(message: BaseMessage) -> bool:
    # Events wechatpy does not know come back as UnknownMessage, not BaseEvent.
    msg_type = str(message._data.get("MsgType", "")).lower()
    return isinstance(message, BaseEvent) or msg_type == "event"


# OpenIDs are 28 characters of [A-Za-z0-9_-]; account ids are gh_ + hex. Bounded generously.
_WECHAT_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")


def _exchange_key(message: BaseMessage) -> str:
    """WeChat's retry identity: MsgId for messages, sender + CreateTime for events."""
    if not message.source or not _WECHAT_ID.fullmatch(str(message.source)):
        raise ValueError("FromUserName missing or not a WeChat id")
    if message.target and not _WECHAT_ID.fullmatch(str(message.target)):
        raise ValueError("ToUserName not a WeChat id")
    if message.id:
        return f"msg:{message.source}:{message.id}"
    return f"event:{message.source}:{message.time}:{getattr(message, 'event', '')}"
