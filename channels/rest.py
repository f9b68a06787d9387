"""Rasa's REST channel behind the input guard (channels/guard.py).

Same URL (``POST /webhooks/rest/webhook``), request ``{"sender", "message", "metadata"}``
and answer (the list of bot messages ``{"recipient_id", "text", ...}``, or JSON lines
with ``?stream=true``) as ``rasa.core.channels.rest.RestInput``. In addition:

- the message is guarded before a ``UserMessage`` exists: PII masked, length capped,
  empty / emoji-only messages and floods answered directly without the bot, notices
  (PII masked, message cut) sent before the bot's reply;
- a body over ``max_body_bytes`` gets 413 with a polite text in the channel's format, malformed JSON
  or fields of the wrong type 400,
  both with a JSON error and without a traceback;
- a message the bot does not answer at all gets the "busy" text instead of silence;
- message texts are never logged;
- a sender id that carries PII is replaced by a pseudonym, and ``metadata`` is masked and
  bounded (channels/guard.py) before Rasa stores it.

Enable it in ``credentials.yml`` instead of ``rest:``::

    channels.rest.GuardedRestInput:
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel, RestInput
from rasa.shared.constants import DEFAULT_SENDER_ID
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from channels.guard import (
    BODY_TOO_LARGE,
    REST_KEY_PREFIX,
    Guard,
    GuardDecision,
    clean_metadata,
    rest_conversation_key,
    valid_channel_name,
    valid_sender,
)
from channels.guard_texts import guard_text, load_payload_intents
from channels.guarded_turn import run_guarded_turn
from channels.server_limits import cap_request_size

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
_DONE = object()


class BadRequest(ValueError):
    """The request body is not what the REST channel accepts."""


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedRestInput":
        credentials = credentials or {}
        return cls(max_body_bytes=int(credentials.get("max_body_bytes") or MAX_BODY_BYTES))

    def __init__(self, guard: Optional[Guard] = None, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.guard = guard or Guard(payload_intents=load_payload_intents())
        self.max_body_bytes = max_body_bytes

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        module = inspect.getmodule(self)
        rest_webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)
        cap_request_size(rest_webhook)

        @rest_webhook.exception(PayloadTooLarge)
        async def over_the_server_cap(_: Request, __: Exception) -> HTTPResponse:
            return too_large()

        @rest_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            if len(request.body or b"") > self.max_body_bytes:
                return too_large()
            try:
                sender, text, input_channel, metadata = self._read_body(request.body)
            except BadRequest as error:
                return _error(400, "BadRequest", str(error))

            decision = self.guard.check(sender, text)
            if decision.masked:
                logger.info("Masked %s in a REST message.", ", ".join(sorted(decision.masked)))
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self._stream(on_new_message, decision, sender, input_channel, metadata),
                    content_type="text/event-stream",
                )
            collector = _Collector()
            await self._converse(on_new_message, decision, collector, sender, input_channel, metadata)
            return response.json([as_sent(message) for message in collector.messages])

        return rest_webhook

    def _read_body(self, body: bytes) -> tuple[str, Optional[str], str, Optional[Dict]]:
        """Sender, message text, input channel and metadata, as ``RestInput`` reads them."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as error:
            raise BadRequest("body is not valid JSON") from error
        if not isinstance(data, dict):
            raise BadRequest("body must be a JSON object")
        raw_sender = data.get("sender")
        sender = DEFAULT_SENDER_ID if raw_sender is None else valid_sender(raw_sender)
        if sender is None:
            raise BadRequest("sender must be a short string")
        # The REST key space (channels/guard.py): a REST sender never reaches another channel's
        # conversation, whatever id it posts.
        sender = rest_conversation_key(sender)
        text = data.get("message")
        if text is not None and not isinstance(text, str):
            raise BadRequest("message must be a string")
        input_channel = data.get("input_channel") or self.name()
        if not valid_channel_name(input_channel):
            # A channel name, never free text: 「13812345678」 here was stored as it was.
            raise BadRequest("input_channel must be a channel name (lower-case letters, digits, _)")
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise BadRequest("metadata must be an object")
        return sender, text, input_channel, clean_metadata(metadata) if metadata is not None else None

    async def _converse(
        self,
        on_new_message: OnNewMessage,
        decision: GuardDecision,
        collector: "_Counting",
        sender: str,
        input_channel: str,
        metadata: Optional[Dict],
    ) -> None:
        """Sends the guard's texts and the bot's reply (or "busy") through ``collector``."""
        await run_guarded_turn(
            decision, collector, sender, on_new_message, input_channel, metadata, self.guard.limits.max_chars
        )

    def _stream(
        self,
        on_new_message: OnNewMessage,
        decision: GuardDecision,
        sender: str,
        input_channel: str,
        metadata: Optional[Dict],
    ) -> Callable[[Any], Awaitable[None]]:
        async def stream(resp: Any) -> None:
            queue: "asyncio.Queue[Any]" = asyncio.Queue()

            async def converse() -> None:
                try:
                    await self._converse(
                        on_new_message,
                        decision,
                        _QueueCollector(queue),
                        sender,
                        input_channel,
                        metadata,
                    )
                finally:
                    # RestInput's stream waits forever when the bot raises; this one ends.
                    await queue.put(_DONE)

            task = asyncio.ensure_future(converse())
            while (message := await queue.get()) is not _DONE:
                await resp.write(json.dumps(as_sent(message)) + "\n")
            await task

        return stream


def as_sent(message: Dict[str, Any]) -> Dict[str, Any]:
    """A bot message as the REST client sees it: its recipient is the sender id it posted (or
    that id's pseudonym), not the key of the REST key space it is stored under."""
    recipient = message.get("recipient_id")
    if isinstance(recipient, str) and recipient.startswith(REST_KEY_PREFIX):
        return {**message, "recipient_id": recipient[len(REST_KEY_PREFIX) :]}
    return message


class _Counting(CollectingOutputChannel):
    """Counts the messages sent through it (the queue variant hands them on at once)."""

    sent = 0

    async def _persist_message(self, message: Dict[Text, Any]) -> None:
        self.sent += 1
        await super()._persist_message(message)


class _Collector(_Counting):
    pass


class _QueueCollector(_Counting, QueueOutputChannel):
    pass


def too_large() -> HTTPResponse:
    """413 in the channel's own format (a list of bot messages), so a client can show it."""
    return response.json([{"text": guard_text(BODY_TOO_LARGE)}], status=413)


def _error(status: int, reason: str, message: str) -> HTTPResponse:
    return response.json({"status": "failure", "reason": reason, "message": message, "code": status}, status=status)
