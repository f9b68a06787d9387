"""Session start: carry the user's facts over and show the disclaimer once per session."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import send_entry
from actions.safety import SafeAction
from advisor.knowledge import load_conversation_texts

# Per-turn bookkeeping that must not leak into a new session; and what the last advice showed:
# a new session gets the whole advice again, not "same as above" about one out of sight.
NOT_CARRIED_OVER = frozenset({"requested_slot", "answer_failures", "session_started_metadata", "last_advice"})


class ActionSessionStart(SafeAction, Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        events: List[Dict[Text, Any]] = [SessionStarted()]
        if domain.get("session_config", {}).get("carry_over_slots_to_new_session", True):
            events += [
                SlotSet(name, value)
                for name, value in tracker.current_slot_values().items()
                if value is not None and name not in NOT_CARRIED_OVER
            ]
        send_entry(dispatcher, load_conversation_texts()["disclaimer"])
        events.append(ActionExecuted("action_listen"))
        return events
