"""A safety net around every action's `run`: no action crashes or hangs on user input.

rasa-sdk answers an action that raises with HTTP 500 (and Rasa then loses the turn's events),
and Rasa waits minutes for a slow action. Every action class in this package inherits
`SafeAction`, whose subclasses get their `run` wrapped: an exception or a run longer than
`ACTION_TIME_LIMIT` seconds becomes a logged error (type only, never user text) and a polite
「系统繁忙」 reply, the channels' own (knowledge/guard.yml `busy`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import Any, Callable, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from advisor.knowledge import busy_text

logger = logging.getLogger(__name__)

ACTION_TIME_LIMIT = float(os.environ.get("ACTION_TIME_LIMIT", "5"))

Run = Callable[..., Any]


def guarded(run: Run) -> Run:
    @functools.wraps(run)
    async def safe_run(
        self: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        try:
            return await asyncio.wait_for(run(self, dispatcher, tracker, domain), ACTION_TIME_LIMIT)
        except Exception as error:  # the user gets an answer whatever went wrong
            kind = "timed out" if isinstance(error, asyncio.TimeoutError) else f"failed ({type(error).__name__})"
            logger.error("action %s %s for a conversation", self.name(), kind)
            dispatcher.messages.clear()
            dispatcher.utter_message(text=busy_text())
            return []

    safe_run.__guarded__ = True  # type: ignore[attr-defined]
    return safe_run


class SafeAction:
    """Mixin: wraps the `run` of every subclass, its own or an inherited one."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = getattr(cls, "run", None)
        if run is not None and not getattr(run, "__guarded__", False):
            cls.run = guarded(run)  # type: ignore[attr-defined]
