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

4. Nobody joins a conversation that is not theirs (Rasa lets any client that knows a
   session id join its room and read its replies): session ids are issued by the server and
   signed (``<id>.<hmac>``, :class:`SessionSigner`); a ``session_request`` with an id
   whose signature fails gets a new conversation, and a message is taken only for the
   session its connection joined. The widget keeps the signed id, so a reloaded page goes on
   with its conversation.
5. Connections are refused from a page of another origin (the page's own, or one listed in
   ``WEBCHAT_ALLOWED_ORIGINS``, comma-separated) and beyond ``MAX_CONNECTIONS_PER_ADDRESS``
   per client address: the peer's, or the ``X-Real-IP`` a trusted proxy sets
   (``WEBCHAT_TRUSTED_PROXIES``, comma-separated addresses: `make scale` names its nginx;
   unset, as under `make web`, a client's own X-Real-IP is ignored).

The channel keeps the name ``socketio`` (webhook ``/webhooks/socketio/``, the widget
connects to ``/socket.io``).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import uuid
from collections import Counter
from typing import Any, Awaitable, Callable, Dict, FrozenSet, Optional, Text

import rasa.core.channels.channel
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from channels.guard import SESSION_INVALID, Guard, clean_metadata, safe_sender, valid_sender
from channels.guard_texts import guard_text, load_payload_intents
from channels.guarded_turn import run_guarded_turn
from channels.server_limits import cap_request_size

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

MAX_CONNECTIONS_PER_ADDRESS = 20
MAX_CONNECTIONS = 5000


class SessionSigner:
    """Signs conversation ids handed to socket.io clients, so only their holder can join."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    @classmethod
    def from_environment(cls) -> "SessionSigner":
        secret = os.environ.get("WEBCHAT_SESSION_SECRET") or ""
        if not secret and os.environ.get("ACTION_SERVER_SECRET"):
            # Every launcher of this project sets the action secret: a key derived from it
            # keeps sessions valid across restarts and replicas without another setting.
            secret = hmac.new(os.environ["ACTION_SERVER_SECRET"].encode(), b"webchat-session", "sha256").hexdigest()
        if not secret:
            logger.warning("No WEBCHAT_SESSION_SECRET: web sessions end when the bot restarts.")
            secret = secrets.token_hex(32)
        return cls(secret.encode())

    def _signature(self, conversation: str) -> str:
        return hmac.new(self._secret, conversation.encode(), hashlib.sha256).hexdigest()[:32]

    def sign(self, conversation: str) -> str:
        return f"{conversation}.{self._signature(conversation)}"

    def verify(self, token: object) -> Optional[str]:
        """The conversation id of a correctly signed token, else None."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 200:
            return None
        conversation, signature = token.split(".")
        if not conversation or not hmac.compare_digest(signature, self._signature(conversation)):
            return None
        return conversation


def trusted_proxies(setting: Optional[str] = None) -> FrozenSet[str]:
    """The proxies whose X-Real-IP is believed (WEBCHAT_TRUSTED_PROXIES); none by default."""
    raw = os.environ.get("WEBCHAT_TRUSTED_PROXIES", "") if setting is None else setting
    found = set()
    for item in raw.split(","):
        try:
            found.add(str(ipaddress.ip_address(item.strip())))
        except ValueError:
            continue
    return frozenset(found)


def client_address(environ: Dict[str, Any], trusted: FrozenSet[str] = frozenset()) -> str:
    """The client's address: the peer's, or the X-Real-IP set by a trusted proxy (a valid
    address only). Anyone else's X-Real-IP is the client's own claim and is ignored."""
    request = environ.get("sanic.request")
    peer = str(getattr(request, "ip", "") or "")
    forwarded = str(environ.get("HTTP_X_REAL_IP") or "").strip()
    try:
        if forwarded and str(ipaddress.ip_address(peer)) in trusted:
            return str(ipaddress.ip_address(forwarded))
    except ValueError:
        pass
    return peer or "unknown"


def allowed_origins(environ: Dict[str, Any], configured: FrozenSet[str]) -> FrozenSet[str]:
    """The page's own origin (scheme and Host of this request) and the configured ones."""
    host = environ.get("HTTP_HOST")
    scheme = str(environ.get("HTTP_X_FORWARDED_PROTO") or environ.get("wsgi.url_scheme") or "http").split(",")[0]
    own = {f"{scheme.strip()}://{host}"} if host else set()
    return frozenset(own) | configured


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

    def __init__(
        self,
        *args: Any,
        guard: Optional[Guard] = None,
        signer: Optional[SessionSigner] = None,
        origins: Optional[FrozenSet[str]] = None,
        max_connections_per_address: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard or Guard(payload_intents=load_payload_intents())
        self.signer = signer or SessionSigner.from_environment()
        self.trusted_proxies = trusted_proxies()
        configured = os.environ.get("WEBCHAT_ALLOWED_ORIGINS", "")
        self.origins = (
            origins
            if origins is not None
            else frozenset(origin.strip().rstrip("/") for origin in configured.split(",") if origin.strip())
        )
        self.max_connections_per_address = max_connections_per_address or int(
            os.environ.get("WEBCHAT_MAX_CONNECTIONS_PER_ADDRESS") or MAX_CONNECTIONS_PER_ADDRESS
        )
        self._address_of: Dict[str, str] = {}  # sid -> client address
        self._connections: "Counter[str]" = Counter()  # client address -> open connections
        self._session_of: Dict[str, str] = {}  # sid -> the conversation it joined

    def get_output_channel(self) -> Optional[OutputChannel]:
        channel = super().get_output_channel()
        return WebchatOutput(self.sio, self.bot_message_evt) if channel is not None else None

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        cap_request_size(blueprint)
        assert self.sio is not None

        # Replaces Rasa's handlers: connect (origin, connection cap), session_request (signed
        # ids), disconnect (bookkeeping), and user messages (built unguarded by Rasa).
        @self.sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict] = None) -> bool:
            return self._accept_connection(sid, environ, auth)

        @self.sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            self._forget_connection(sid)

        @self.sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            token = self.join_session(sid, data.get("session_id") if isinstance(data, dict) else None)
            await self.sio.emit("session_confirm", token, room=sid)

        @self.sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            await self._handle_message(sid, data, on_new_message)

        return blueprint

    def _accept_connection(self, sid: str, environ: Dict[str, Any], auth: Optional[Dict[str, Any]]) -> bool:
        if self.jwt_key:
            token = auth.get("token") if isinstance(auth, dict) else None
            if not token:
                return False
            try:
                if not rasa.core.channels.channel.decode_bearer_token(token, self.jwt_key, self.jwt_algorithm):
                    return False
            except Exception:
                return False
        origin = environ.get("HTTP_ORIGIN")
        if origin and origin.rstrip("/") not in allowed_origins(environ, self.origins):
            logger.warning("socket.io connection refused: page of another origin.")
            return False
        address = client_address(environ, self.trusted_proxies)
        if self._connections[address] >= self.max_connections_per_address or len(self._address_of) >= MAX_CONNECTIONS:
            logger.warning("socket.io connection refused: too many connections from one address.")
            return False
        self._connections[address] += 1
        self._address_of[sid] = address
        return True

    def _forget_connection(self, sid: str) -> None:
        self._session_of.pop(sid, None)
        address = self._address_of.pop(sid, None)
        if address is not None:
            self._connections[address] -= 1
            if self._connections[address] <= 0:
                del self._connections[address]

    def join_session(self, sid: str, requested: object) -> str:
        """Puts the connection in its conversation's room; returns the signed id to confirm.

        A correctly signed id continues that conversation; anything else starts a new one."""
        conversation = self.signer.verify(requested) or uuid.uuid4().hex
        token = self.signer.sign(conversation)
        previous = self._session_of.get(sid)
        if previous is not None and previous != conversation:
            self.sio.leave_room(sid, previous, namespace=self.namespace)
        self._session_of[sid] = conversation
        self.sio.enter_room(sid, conversation, namespace=self.namespace)
        return token

    async def _handle_message(self, sid: Text, data: Any, on_new_message: OnNewMessage) -> None:
        if not isinstance(data, dict):
            return
        if self.session_persistence:
            room = self.signer.verify(data.get("session_id"))
            if room is None or self._session_of.get(sid) != room or valid_sender(room) is None:
                # Not this connection's conversation (or no session asked for yet).
                logger.warning("A socket.io message for a session its connection did not join was refused.")
                await self.sio.emit(self.bot_message_evt, {"text": guard_text(SESSION_INVALID)}, room=sid)
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
