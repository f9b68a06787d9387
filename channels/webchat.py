"""Socket.IO channel for the web widget (rasa-webchat, see ``web/``).

Rasa's own ``socketio`` channel, with two fixes for the way this bot answers. Enable it
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

The channel keeps the name ``socketio`` (webhook ``/webhooks/socketio/``, the widget
connects to ``/socket.io``).
"""
from __future__ import annotations

import copy
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from sanic import Blueprint

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput


class WebchatOutput(SocketIOOutput):
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
    """Rasa's socket.io input channel, answering through :class:`WebchatOutput`."""

    def get_output_channel(self) -> Optional[OutputChannel]:
        channel = super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt) if channel is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def handle(message: UserMessage) -> Any:
            # Rasa's handler builds a plain SocketIOOutput for every message; swap it.
            message.output_channel = WebchatOutput(self.sio, self.bot_message_evt)
            return await on_new_message(message)

        return super().blueprint(handle)
