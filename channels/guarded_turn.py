"""One guarded turn, shared by the REST and socket.io channels: the guard's direct reply, or
its notices, the bot's answer, and 「系统繁忙」 if the bot said nothing at all."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Protocol

from rasa.core.channels.channel import UserMessage

from channels.guard import BUSY, GuardDecision
from channels.guard_texts import guard_text

logger = logging.getLogger(__name__)


class CountingOutput(Protocol):
    """An output channel that counts what it has sent."""

    sent: int

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None: ...


async def run_guarded_turn(
    decision: GuardDecision,
    output: CountingOutput,
    sender: str,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    input_channel: str,
    metadata: Optional[Dict[str, Any]],
    max_chars: int,
) -> None:
    if decision.reply is not None:
        await output.send_text_message(sender, guard_text(decision.reply, max_chars))
        return
    if decision.masked:
        logger.info("Masked %s in a %s message.", ", ".join(sorted(decision.masked)), input_channel)
    for key in decision.notices:
        await output.send_text_message(sender, guard_text(key, max_chars))
    answered = output.sent
    try:
        await on_new_message(
            UserMessage(decision.text, output, sender, input_channel=input_channel, metadata=metadata)  # type: ignore[arg-type]
        )
    except asyncio.CancelledError:
        logger.error("The bot timed out on a %s message.", input_channel)
    except Exception as error:  # the user gets 「系统繁忙」 rather than silence
        logger.error("The bot failed on a %s message (%s).", input_channel, type(error).__name__)
        logger.debug("Bot failure details.", exc_info=True)
    if output.sent == answered:
        await output.send_text_message(sender, guard_text(BUSY))
