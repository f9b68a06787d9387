"""Validation of the diagnosis form: understands answers, chooses the next question and
asks it (actions/ask.py: one call to the action server per diagnosis turn)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.ask import ask, progress_of, understood_text
from actions.common import DEFAULT_TOPIC, diagnosis_facts, latest_intent, latest_text, unknown_facts
from actions.form_validation import FAILURES_SLOT, UNKNOWN_SLOT, RetryingFormValidationAction
from advisor.answers import (
    DIAGNOSIS_SLOTS,
    check_range,
    interpret_answer,
    interpret_choices,
    option_slots,
    read_correction,
    reconcile_facts,
)
from advisor.contract import QUESTIONS, RECENT_EVENTS
from advisor.planner import diagnosis_plan, open_options

REQUESTED_SLOT = "requested_slot"
# Rasa logs these without their being an answer to anything.
SILENT_ACTIONS = frozenset({"action_listen", "action_extract_slots"})


class ValidateDiagnosisForm(RetryingFormValidationAction):
    def name(self) -> Text:
        return "validate_diagnosis_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        facts = diagnosis_facts(tracker)
        unknown = unknown_facts(tracker)
        requested: Optional[str] = tracker.get_slot(REQUESTED_SLOT)
        events: List[Dict[Text, Any]] = []
        replying = is_reply(tracker, self.form_name())
        understood: Dict[str, Any] = {}  # facts read from this message, said back to the user
        unknown_answer = False

        # Facts stated in this message (entities mapped onto slots), checked for range.
        stated = {s: v for s, v in tracker.slots_to_validate().items() if s in DIAGNOSIS_SLOTS}
        for slot, value in stated.items():
            if value is not None and not check_range(slot, value):
                facts[slot] = None
                events.append(SlotSet(slot, None))
                if slot == requested:
                    events += self.record_failure(dispatcher, tracker, slot, unknown, invalid=True)
                else:
                    self.reask(dispatcher, slot, invalid=True)
            else:
                events.append(SlotSet(slot, value))
                if value is not None:
                    understood[slot] = value
                if slot in unknown:
                    unknown.remove(slot)

        if requested == RECENT_EVENTS and replying:
            # The options shown were those open before this message stated anything.
            before = {**facts, **{slot: None for slot in stated}}
            options = open_options(before, unknown)
            answer_events = self._read_choices(dispatcher, tracker, options, stated, facts, unknown)
            if answer_events is None:
                return []  # a question of the user's own: a rule answers it, then the form asks again
            events += answer_events
            understood.update(
                {
                    slot: facts[slot]
                    for slot in option_slots(options)
                    if facts.get(slot) is not None and before.get(slot) is None
                }
            )

        # The reply to the question just asked, read in the context of that question.
        # A message that stated other facts is not also read as a yes/no to this one.
        answered = [
            slot for slot in reversed(asked_slots(tracker)) if slot != requested and facts.get(slot) is not None
        ]
        correction = read_correction(latest_text(tracker), answered) if replying and not stated else None
        if correction is not None:
            # 「不对，有四成」: an earlier answer replaced; the open question is asked again.
            slot, value = correction
            facts[slot] = understood[slot] = value
            events.append(SlotSet(slot, value))
        elif requested in DIAGNOSIS_SLOTS and not stated and replying:
            answer = interpret_answer(requested, latest_text(tracker), latest_intent(tracker))
            if answer.kind == "interruption":
                # No slot events: Rasa rejects the form, a rule answers the question,
                # and the form then asks again.
                return []
            if answer.kind == "value":
                facts[requested] = answer.value
                understood[requested] = answer.value
                events += [SlotSet(requested, answer.value), SlotSet(FAILURES_SLOT, 0.0)]
            elif answer.kind == "unknown":
                if requested not in unknown:
                    unknown.append(requested)
                unknown_answer = True
                events.append(SlotSet(FAILURES_SLOT, 0.0))
            else:
                events += self.record_failure(dispatcher, tracker, requested, unknown, invalid=answer.kind == "invalid")

        changes = reconcile_facts(facts)
        facts.update(changes)
        events += [SlotSet(slot, value) for slot, value in changes.items()]
        events.append(SlotSet(UNKNOWN_SLOT, unknown))

        topic = tracker.get_slot("diagnosis_topic") or DEFAULT_TOPIC
        still_open = (
            requested if requested in QUESTIONS and facts.get(requested) is None and requested not in unknown else None
        )
        asked = [slot for slot in asked_slots(tracker) if slot != still_open]
        plan = diagnosis_plan(topic, facts, unknown=unknown, asked=asked)
        events.append(SlotSet(REQUESTED_SLOT, plan[0] if plan else None))
        lead = understood_text(understood, unknown_answer) if replying else ""
        if plan:
            ask(dispatcher, plan[0], facts, unknown, progress=progress_of(plan, asked), lead=lead)
        elif lead:
            dispatcher.utter_message(text=lead)  # the advice follows (action_give_advice)
        return events

    def _read_choices(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        options: List[Dict[str, Any]],
        stated: Dict[str, Any],
        facts: Dict[str, Any],
        unknown: List[str],
    ) -> Optional[List[Dict[Text, Any]]]:
        """Events for the reply to the multiple-choice question; None for an interruption."""
        if any(slot in stated for slot in option_slots(options)):
            # A tapped option (/inform{"security_issue": true}) or a typed fact (「账号被盗过」).
            facts[RECENT_EVENTS] = "answered"
            return [SlotSet(RECENT_EVENTS, "answered"), SlotSet(FAILURES_SLOT, 0.0)]
        if stated:
            return []  # other facts only: the question stays open and is asked again
        choices = interpret_choices(options, latest_text(tracker), latest_intent(tracker))
        if choices.kind == "interruption":
            return None
        if choices.kind == "value":
            facts.update(choices.facts)
            facts[RECENT_EVENTS] = "answered"
            return [SlotSet(slot, value) for slot, value in choices.facts.items()] + [
                SlotSet(RECENT_EVENTS, "answered"),
                SlotSet(FAILURES_SLOT, 0.0),
            ]
        if choices.kind == "unknown":
            for slot in option_slots(options) + [RECENT_EVENTS]:
                if slot not in unknown:
                    unknown.append(slot)
            return [SlotSet(FAILURES_SLOT, 0.0)]
        return self.record_failure(dispatcher, tracker, RECENT_EVENTS, unknown)


def is_reply(tracker: Tracker, form: str) -> bool:
    """Whether the latest user message answers the question asked.

    Rasa also runs the validator when the form starts (after action_start_diagnosis) and when
    it comes back after a rule answered an interruption (after, say, action_answer_faq); then
    another action ran after the user's message, which was therefore not an answer. The form's
    own execution event, which Rasa adds to the tracker it sends, does not count."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        if event.get("event") == "action" and event.get("name") not in SILENT_ACTIONS | {form}:
            return False
    return True


def asked_slots(tracker: Tracker) -> List[str]:
    """Slots the form has asked since the current diagnosis started."""
    asked: List[str] = []
    for event in tracker.events:
        if event.get("event") == "action" and event.get("name") == "action_start_diagnosis":
            asked = []
        elif event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
            slot = event.get("value")
            if slot in QUESTIONS and slot not in asked:
                asked.append(slot)
    return asked
