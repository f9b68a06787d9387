"""Socket.IO channel for the web widget (rasa-webchat, see ``web/``).

Rasa's own ``socketio`` channel, with three changes for the way this bot answers. Enable it
in ``credentials.yml`` with the same keys as ``socketio``::

    channels.webchat.WebchatInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true

1. Custom payloads arrive. Rasa 3.6 emits a ``custom`` payload as
   ``sio.emit(event, **payload)``, so the advice payload ``{"advice": {...}}`` becomes an
   unknown keyword argument of ``emit``: a ``TypeError`` that loses the message and the
   rest of the turn. Here the payload is sent as the event's data, which is what the
   widget expects (it hands unknown messages to its ``customComponent``).
2. Quick replies stay clickable. The widget shows quick replies only under the newest
   message, so for a reply that carries both buttons and a custom payload the payload
   (the advice card) is sent first and the text with its buttons last.
3. Every message passes the input guard (channels/guard.py) before a ``UserMessage``
   exists: guard replies (empty message, too fast …) and notices are emitted like bot
   messages, and a message the bot leaves unanswered gets the "busy" text.

The channel keeps the name ``socketio`` (webhook ``/webhooks/socketio/``, the widget
connects to ``/socket.io``).
"""
from __future__ import annotations

import copy
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput

from channels.guard import Guard, clean_metadata, safe_sender, valid_sender
from channels.guard_texts import load_payload_intents
from channels.guarded_turn import run_guarded_turn
from channels.server_limits import cap_request_size

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class WebchatOutput(SocketIOOutput):
    # Counts emitted bot messages, so a turn without any can be answered with "busy".
    sent = 0

    def __init__(self, sio: Any, bot_message_evt: Text, room: Optional[Text] = None) -> None:
        super().__init__(sio, bot_message_evt)
        # The client's room, when the conversation is stored under a pseudonym of it.
        self.room = room

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        self.sent += 1
        await super()._send_message(self.room or socket_id, response)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        """Sends the payload as the bot event's data, to the conversation's room."""
        await self._send_message(recipient_id, dict(json_message))

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        message = copy.deepcopy(message)
        custom = message.get("custom")
        has_buttons = bool(message.get("buttons") or message.get("quick_replies"))
        if custom and has_buttons:
            await self.send_custom_json(recipient_id, message.pop("custom"))
        await super().send_response(recipient_id, message)


class WebchatInput(SocketIOInput):
    """Rasa's socket.io input channel, guarded, answering through :class:`WebchatOutput`."""

    def __init__(self, *args: Any, guard: Optional[Guard] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard or Guard(payload_intents=load_payload_intents())

    def get_output_channel(self) -> Optional[OutputChannel]:
        channel = super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt) if channel is not None else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        cap_request_size(blueprint)
        assert self.sio is not None

        # Replaces Rasa's handler for user messages, which builds the UserMessage unguarded.
        @self.sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            await self._handle_message(sid, data, on_new_message)

        return blueprint

    async def _handle_message(self, sid: Text, data: Any, on_new_message: OnNewMessage) -> None:
        if not isinstance(data, dict):
            return
        if self.session_persistence:
            room = valid_sender(data.get("session_id"))
            if room is None:
                logger.warning("A socket.io message without a valid session_id was ignored.")
                return
        else:
            room = sid
        sender = safe_sender(room)
        output = WebchatOutput(self.sio, self.bot_message_evt, room=room)
        text = data.get("message")
        decision = self.guard.check(sender, text if isinstance(text, str) else None)
        await run_guarded_turn(
            decision, output, sender, on_new_message, self.name(), self._metadata(data), self.guard.limits.max_chars
        )

    def _metadata(self, data: Dict[str, Any]) -> Dict[str, Any]:
        metadata = data.get(self.metadata_key) or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except (ValueError, RecursionError):
                return {}
        return clean_metadata(metadata)
