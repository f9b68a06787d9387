"""The two-stage fallback (like RasaHQ/rasa-demo): first 「您是想问…吗？」 with the likeliest
intents as buttons, then a request to rephrase, then a final answer that says what the bot
can do. Texts: knowledge/intent_labels.yml and knowledge/conversation.yml."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import send_entry
from actions.safety import SafeAction
from advisor.knowledge import load_conversation_texts, load_intent_labels

MAX_SUGGESTIONS = 2
MIN_CONFIDENCE = 0.05


def suggested_intents(ranking: List[Dict[str, Any]], labels: Dict[str, str]) -> List[str]:
    """The likeliest intents that have a label worth offering, best first."""
    return [
        item["name"]
        for item in ranking
        if item.get("name") in labels and (item.get("confidence") or 0) >= MIN_CONFIDENCE
    ][:MAX_SUGGESTIONS]


class ActionDefaultAskAffirmation(SafeAction, Action):
    def name(self) -> Text:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        labels = load_intent_labels()
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        intents = suggested_intents(ranking, labels)
        if not intents:
            send_entry(dispatcher, load_conversation_texts()["ask_rephrase"])
            return []
        buttons = [{"title": labels[name], "payload": f"/{name}"} for name in intents]
        question = load_conversation_texts()["did_you_mean"]
        none_of_these = question["none_of_these"]
        buttons.append({"title": none_of_these["title"], "payload": none_of_these["payload"]})
        dispatcher.utter_message(text=question["text"].format(label=labels[intents[0]]), buttons=buttons)
        return []


class ActionDefaultAskRephrase(SafeAction, Action):
    def name(self) -> Text:
        return "action_default_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        send_entry(dispatcher, load_conversation_texts()["ask_rephrase"])
        return []


class ActionDefaultFallback(SafeAction, Action):
    """Gives up politely and forgets the message it could not understand."""

    def name(self) -> Text:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        send_entry(dispatcher, load_conversation_texts()["default"])
        return [UserUtteranceReverted()]
