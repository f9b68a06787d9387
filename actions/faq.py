"""Answers to general questions (knowledge/faq.yml); once something is known of the user,
「多久可以再试？」, 「先做什么？」, 「为什么是我？」 and 「影响征信吗」 in their situation
(advisor/followup_answers.py); a question answered earlier in the conversation is referred to instead of repeated."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    facts_with_unknowns,
    last_shown,
    latest_intent,
    latest_text,
    limit_closed_earlier,
    send_entry,
    sent_paragraphs,
)
from actions.safety import SafeAction
from advisor.engine import rank_advice
from advisor.followup import Shown, already_answered, first_line, new_lines
from advisor.followup_answers import credit_report_answer, next_step_answer, reason_answer
from advisor.knowledge import load_conversation_texts, load_faq
from advisor.render import when_retry_parts
from advisor.topics import diagnosis_topic, faq_key

FORM = "diagnosis_form"


def situational_when_retry(tracker: Tracker, shown: Optional[Shown], sent: Set[str]) -> Optional[str]:
    """The answer to 「多久可以再试？」 for what is known of this user; None while too little is
    known (the general answer in knowledge/faq.yml says what it depends on)."""
    topic = tracker.get_slot("diagnosis_topic")
    if topic is None:
        return None
    complete = shown is not None and tracker.active_loop_name != FORM
    advice = rank_advice(topic, facts_with_unknowns(tracker), complete=complete, closed=limit_closed_earlier(tracker))
    return None if advice.situation == "undiagnosed" else first_line(when_retry_parts(advice), sent)


def situational_answer(intent: str, tracker: Tracker, sent: Set[str]) -> Optional[str]:
    """The answer for what is known of this user, or None for the general one."""
    shown = last_shown(tracker)
    if intent == "ask_when_retry":
        return situational_when_retry(tracker, shown, sent)
    if intent == "ask_next_step":
        return next_step_answer(shown, in_diagnosis=tracker.active_loop_name == FORM)
    if intent == "ask_reason":
        return reason_answer(shown, in_diagnosis=tracker.active_loop_name == FORM)
    if intent == "ask_credit_report":
        return credit_report_answer(latest_text(tracker), facts_with_unknowns(tracker), shown)
    return None


def answer_text(intent: str, entry: Dict[str, Any], tracker: Tracker) -> str:
    """The entry's text (or its situational answer) without paragraphs already sent; the
    already-answered reference when its answer, the first line, was sent before."""
    text = str(entry["text"]).strip()
    sent = sent_paragraphs(tracker)
    text = situational_answer(intent, tracker, sent) or text
    if text.splitlines()[0].strip() in sent:
        return already_answered()
    return "\n".join(new_lines(text, sent))


def say_out_of_scope(dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> None:
    """utter_out_of_scope the first time in a conversation; after it, a shorter text that does
    not list again what the bot can do."""
    first = str(domain["responses"]["utter_out_of_scope"][0]["text"]).strip()
    if first.splitlines()[0] in sent_paragraphs(tracker):
        send_entry(dispatcher, load_conversation_texts()["out_of_scope_again"])
    else:
        dispatcher.utter_message(response="utter_out_of_scope")


class ActionOutOfScope(SafeAction, Action):
    """The answer to a question outside Jiebei's limit (the out-of-scope rule)."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        say_out_of_scope(dispatcher, tracker, domain)
        return []


class ActionAnswerFaq(SafeAction, Action):
    """Answers the latest intent from knowledge/faq.yml."""

    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = latest_intent(tracker) or ""
        topic = diagnosis_topic(intent, latest_text(tracker))
        if topic is not None and tracker.active_loop_name == FORM and topic == tracker.get_slot("diagnosis_topic"):
            # The problem being diagnosed, asked again: go on with its questions.
            send_entry(dispatcher, load_conversation_texts()["same_topic"])
            return []
        entry = load_faq().get(faq_key(intent, topic))
        if entry is None:
            say_out_of_scope(dispatcher, tracker, domain)
        else:
            send_entry(dispatcher, {**entry, "text": answer_text(intent, entry, tracker)})
        return []
