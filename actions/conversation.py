"""A yes / no / don't-know that answers no question (after an advice, say): the offer of what
else the bot answers, goodbye as the reply to that offer, or a short acknowledgement
(advisor.followup_answers.stray_reply decides; texts in knowledge/conversation.yml and
domain.yml → utter_goodbye)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import latest_intent, send_entry, sent_paragraphs
from actions.safety import SafeAction
from advisor.followup_answers import stray_reply
from advisor.knowledge import load_conversation_texts


def last_bot_text(tracker: Tracker) -> str:
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text"):
            return str(event["text"]).strip()
    return ""


class ActionStrayAnswer(SafeAction, Action):
    def name(self) -> Text:
        return "action_stray_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        texts = load_conversation_texts()
        offer = str(texts["stray_offer"]["text"]).strip()
        goodbye = str(domain["responses"]["utter_goodbye"][0]["text"]).strip()
        sent = sent_paragraphs(tracker)
        reply = stray_reply(
            latest_intent(tracker) or "", offer in sent, last_bot_text(tracker) == offer, goodbye in sent
        )
        if reply == "goodbye":
            dispatcher.utter_message(response="utter_goodbye")
        else:
            send_entry(dispatcher, texts["stray_offer" if reply == "offer" else "stray_ack"])
        return []
