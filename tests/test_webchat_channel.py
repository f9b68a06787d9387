"""The web widget's socket.io channel (channels/webchat.py): custom payloads are emitted as
the event's data, and an advice card goes before the text that carries quick replies."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from rasa.core.channels.channel import UserMessage

from channels.webchat import WebchatInput, WebchatOutput

ROOT = Path(__file__).resolve().parent.parent
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
        {"text": "关于「有额度借不出」……",
         "quick_replies": [{"content_type": "text", **BUTTONS[0]}]},
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
    await handler("sid-1", {"message": "借呗借不出来", "session_id": "session-1"})
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
