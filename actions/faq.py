"""Answers to questions whose answer does not depend on the user's situation."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, send_entry
from actions.safety import SafeAction
from advisor.knowledge import load_faq


class ActionAnswerFaq(SafeAction, Action):
    """Answers the latest intent from knowledge/faq.yml."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        entry = load_faq().get(latest_intent(tracker) or "")
        if entry is None:
            dispatcher.utter_message(response="utter_out_of_scope")
        else:
            send_entry(dispatcher, entry)
        return []
