"""👍 / 👎 on an advice: thanked, kept in the tracker as the advice_feedback slot."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_text, send_entry
from actions.safety import SafeAction
from advisor.feedback import feedback_record, is_helpful
from advisor.knowledge import load_conversation_texts


class ActionRecordFeedback(SafeAction, Action):
    def name(self) -> Text:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        helpful = is_helpful(next(tracker.get_latest_entity_values("helpful"), None), latest_text(tracker))
        send_entry(dispatcher, load_conversation_texts()["feedback_helpful" if helpful else "feedback_unhelpful"])
        return [SlotSet("advice_feedback", feedback_record(helpful, tracker.get_slot("diagnosis_topic")))]
