"""Starting a diagnosis and giving the tailored advice once the form is done."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    DEFAULT_TOPIC,
    diagnosis_facts,
    facts_with_unknowns,
    last_shown,
    latest_intent,
    latest_text,
    limit_closed_earlier,
    sent_paragraphs,
    unknown_facts,
)
from actions.safety import SafeAction
from advisor.answers import (
    DIAGNOSIS_SLOTS,
    NUMERIC_SLOTS,
    check_range,
    read_correction,
    read_late_answer,
    reconcile_facts,
)
from advisor.engine import Advice, rank_advice
from advisor.followup import Shown, ranking_topic, render_followup, unchanged, update_unchanged_sentence
from advisor.followup_answers import asks_how, next_step_answer
from advisor.knowledge import load_diagnosis_config, load_faq
from advisor.planner import diagnosis_plan
from advisor.render import describe_facts, feedback_buttons, followup_buttons, render_card_summary
from advisor.topics import diagnosis_topic, faq_key


def stated_facts(tracker: Tracker) -> Dict[str, Any]:
    """The fact slots the latest message's entities filled, in the order they were stated; a
    number out of its range (or not finite, from a typed payload) is not a fact: it is None."""
    entities = (tracker.latest_message or {}).get("entities") or []
    names = [e.get("entity") for e in entities]
    stated = {name: tracker.get_slot(name) for name in dict.fromkeys(names) if name in DIAGNOSIS_SLOTS}
    return {
        slot: None if slot in NUMERIC_SLOTS and value is not None and not check_range(slot, value) else value
        for slot, value in stated.items()
    }


def corrected_fact(tracker: Tracker) -> Dict[str, Any]:
    """「不对，有六成」 after the diagnosis: the latest-answered numeric fact it corrects."""
    answered: List[str] = []
    for event in reversed(tracker.events):
        name = event.get("name")
        if event.get("event") == "slot" and name in DIAGNOSIS_SLOTS and name not in answered:
            if tracker.get_slot(name) is not None:
                answered.append(name)
    correction = read_correction(latest_text(tracker), answered)
    return dict([correction]) if correction else {}


def late_answer(tracker: Tracker) -> Dict[str, Any]:
    """「两成」 or 「就这两天」 after the advice: the open question the bare number answers."""
    answer = read_late_answer(latest_text(tracker), diagnosis_facts(tracker))
    return dict([answer]) if answer else {}


# Channels that can only show text; the terminal would print the payload as raw JSON.
TEXT_ONLY_CHANNELS = frozenset({"terminal", "cmdline"})  # make chat (channels/shell.py), rasa shell
# Channels that render the payload as the advice card (the web widget, channels/webchat.py):
# their text is one line, so the advice is not shown twice.
CARD_CHANNELS = frozenset({"socketio"})


def advice_for(tracker: Tracker, topic: str, facts: Dict[str, Any]) -> Tuple[Advice, Shown]:
    """The advice on `topic` for `facts`, and what it shows (to remember in `last_advice`): a
    follow-up question on the same limit keeps the ranking of the advice already given
    (advisor.followup.ranking_topic), the answer is the question's."""
    advice = rank_advice(ranking_topic(topic, last_shown(tracker)), facts, closed=limit_closed_earlier(tracker))
    return replace(advice, topic=topic), Shown.of(advice)


def send_advice(
    dispatcher: CollectingDispatcher, tracker: Tracker, advice: Advice, shown: Shown, lead: str = ""
) -> List[Dict[str, Any]]:
    """Readable advice (from advice_for) with follow-up and 👍 / 👎 buttons, plus the contract's
    machine-readable payload. After an earlier advice in this conversation only what changed
    is said (advisor/followup.py), on the web too, where a card is sent again only when the
    reasons or steps changed; returns the event that remembers what this one showed."""
    previous = last_shown(tracker)
    channel = tracker.get_latest_input_channel()
    if channel in CARD_CHANNELS and previous is None:
        text = render_card_summary(advice)
    else:
        how = next_step_answer(shown, in_diagnosis=False) if previous and asks_how(latest_text(tracker)) else None
        text = render_followup(advice, previous, sent_paragraphs(tracker), how=how or "")
    card_again = previous is None or not unchanged(advice, previous)
    payload = (
        None if channel in TEXT_ONLY_CHANNELS or (channel in CARD_CHANNELS and not card_again) else advice.payload()
    )
    dispatcher.utter_message(
        text=f"{lead}{text}" if lead else text,
        buttons=followup_buttons(advice) + feedback_buttons(),
        json_message=payload,
    )
    return [SlotSet("last_advice", shown.value())]


class ActionStartDiagnosis(SafeAction, Action):
    """Names the topic, gives the short general answer and resets the retry count."""

    def name(self) -> Text:
        return "action_start_diagnosis"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker) or ""
        topic = diagnosis_topic(intent, latest_text(tracker)) or tracker.get_slot("diagnosis_topic") or DEFAULT_TOPIC
        # What the user said they do not know stays known as such: a follow-up such as
        # 「还能恢复吗」 after an advice does not ask it again.
        events = [SlotSet("diagnosis_topic", topic), SlotSet("answer_failures", 0.0)]
        if not diagnosis_plan(topic, diagnosis_facts(tracker), unknown=unknown_facts(tracker), asked=()):
            return events  # everything is known already: the advice follows at once
        entry = load_faq().get(faq_key(intent, topic)) or {}
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
        return send_advice(dispatcher, tracker, *advice_for(tracker, topic, facts_with_unknowns(tracker)))


class ActionUpdateAdvice(SafeAction, Action):
    """The user states or corrects a fact outside the form: update the advice if there is one."""

    def name(self) -> Text:
        return "action_update_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        texts = load_diagnosis_config()["texts"]
        stated = stated_facts(tracker) or corrected_fact(tracker) or late_answer(tracker)
        facts = {**facts_with_unknowns(tracker), **stated}
        changes = {**stated, **reconcile_facts(facts)}
        events = [SlotSet(slot, value) for slot, value in changes.items()]
        said = describe_facts(changes)
        topic = tracker.get_slot("diagnosis_topic")
        if topic is None:
            dispatcher.utter_message(
                text=texts["noted_without_topic"].format(facts=f"：{said}" if said else ""),
                buttons=texts["topic_buttons"],
            )
            return events
        if not changes:
            dispatcher.utter_message(text=texts["update_unclear"])  # nothing changed: no "updated" advice
            return []
        advice, shown = advice_for(tracker, topic, {**facts, **changes})
        sentence = update_unchanged_sentence(advice, last_shown(tracker), said, changes) if said else None
        if sentence:
            dispatcher.utter_message(text=sentence)
            return events
        lead = texts["updated_lead"].format(facts=texts["updated_facts"].format(facts=said) if said else "")
        return events + send_advice(dispatcher, tracker, advice, shown, lead=lead)
