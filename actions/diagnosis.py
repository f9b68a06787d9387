"""Starting a diagnosis and giving the tailored advice once the form is done."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    DEFAULT_TOPIC,
    diagnosis_facts,
    latest_intent,
    unknown_facts,
)
from actions.safety import SafeAction
from advisor.answers import DIAGNOSIS_SLOTS, reconcile_facts
from advisor.contract import TOPIC_BY_INTENT
from advisor.engine import rank_advice
from advisor.knowledge import load_diagnosis_config, load_faq
from advisor.planner import diagnosis_plan
from advisor.render import describe_facts, feedback_buttons, followup_buttons, render_advice, render_card_summary


def stated_facts(tracker: Tracker) -> Dict[str, Any]:
    """The fact slots the latest message's entities filled, in the order they were stated."""
    entities = (tracker.latest_message or {}).get("entities") or []
    names = [e.get("entity") for e in entities]
    return {name: tracker.get_slot(name) for name in dict.fromkeys(names) if name in DIAGNOSIS_SLOTS}


def _facts_with_unknowns(tracker: Tracker) -> Dict[str, Any]:
    facts = diagnosis_facts(tracker)
    for slot in unknown_facts(tracker):
        if facts.get(slot) is None:
            facts[slot] = "unknown"
    return facts


# Channels that can only show text; the terminal would print the payload as raw JSON.
TEXT_ONLY_CHANNELS = frozenset({"cmdline"})
# Channels that render the payload as the advice card (the web widget, channels/webchat.py):
# their text is one line, so the advice is not shown twice.
CARD_CHANNELS = frozenset({"socketio"})


def send_advice(
    dispatcher: CollectingDispatcher, tracker: Tracker, topic: str, facts: Dict[str, Any], lead: str = ""
) -> None:
    """Readable advice with follow-up and 👍 / 👎 buttons, plus the contract's machine-readable payload."""
    advice = rank_advice(topic, facts)
    channel = tracker.get_latest_input_channel()
    text = render_card_summary(advice) if channel in CARD_CHANNELS else render_advice(advice)
    payload = None if channel in TEXT_ONLY_CHANNELS else advice.payload()
    dispatcher.utter_message(
        text=f"{lead}{text}" if lead else text,
        buttons=followup_buttons(advice) + feedback_buttons(),
        json_message=payload,
    )


class ActionStartDiagnosis(SafeAction, Action):
    """Names the topic, gives the short general answer and resets the form's bookkeeping."""

    def name(self) -> Text:
        return "action_start_diagnosis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker) or ""
        topic = TOPIC_BY_INTENT.get(intent) or tracker.get_slot("diagnosis_topic") or DEFAULT_TOPIC
        events = [
            SlotSet("diagnosis_topic", topic),
            SlotSet("unknown_facts", []),
            SlotSet("answer_failures", 0.0),
        ]
        if not diagnosis_plan(topic, diagnosis_facts(tracker), unknown=(), asked=()):
            return events  # everything is known already: the advice follows at once
        entry = load_faq().get(intent) or {}
        text = str(entry.get("text", "")).strip()
        if not entry.get("intro"):
            # A full general answer (e.g. how to raise the limit), then the lead-in to the questions.
            text = f"{text}\n\n{load_diagnosis_config()['texts']['start']}".strip()
        dispatcher.utter_message(text=text)
        return events


class ActionGiveAdvice(SafeAction, Action):
    """Runs after the diagnosis form: ranked reasons and steps for this user."""

    def name(self) -> Text:
        return "action_give_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        topic = tracker.get_slot("diagnosis_topic") or DEFAULT_TOPIC
        send_advice(dispatcher, tracker, topic, _facts_with_unknowns(tracker))
        return []


class ActionUpdateAdvice(SafeAction, Action):
    """The user states or corrects a fact outside the form: update the advice if there is one."""

    def name(self) -> Text:
        return "action_update_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        texts = load_diagnosis_config()["texts"]
        changes = reconcile_facts(diagnosis_facts(tracker))
        events = [SlotSet(slot, value) for slot, value in changes.items()]
        topic = tracker.get_slot("diagnosis_topic")
        if topic is None:
            stated = describe_facts(stated_facts(tracker))
            dispatcher.utter_message(
                text=texts["noted_without_topic"].format(facts=f"：{stated}" if stated else ""),
                buttons=texts["topic_buttons"],
            )
            return events
        facts = {**_facts_with_unknowns(tracker), **changes}
        send_advice(dispatcher, tracker, topic, facts, lead=texts["updated_lead"])
        return events
