"""Validation of the diagnosis form, in rasa-sdk's own shape.

- `required_slots()`: the facts already known, then the questions advisor/planner.py still
  wants, most telling first; rasa-sdk requests the first one without a value.
- `extract_<slot>()`: the reply to the question just asked, read in that question's context
  (「没有」 to the debt question is 0 %, 「1 3」 picks options of the multiple-choice question),
  and 「不对，有四成」 as a correction of an earlier answer.
- `validate_<slot>()`: range checks, and the two overdue facts kept consistent.
- Retries, re-asks and skipping live in the base class (actions/form_validation.py).

`run` adds what rasa-sdk's flow has no place for: a question of the user's own returns no
events, so Rasa rejects the form, a rule answers, and the form asks again; and the chosen
question is sent here, after saying back what was understood (actions/ask.py), so a diagnosis
turn is one call to the action server.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.ask import ask, progress_of, understood_text
from actions.common import DEFAULT_TOPIC, diagnosis_facts, latest_intent, latest_text, unknown_facts
from actions.form_validation import FAILURES_SLOT, UNKNOWN_SLOT, RetryingFormValidationAction
from advisor.answers import (
    DIAGNOSIS_SLOTS,
    Answer,
    Choices,
    check_range,
    interpret_answer,
    interpret_choices,
    option_slots,
    read_correction,
    reconcile_facts,
)
from advisor.contract import QUESTIONS, RECENT_EVENTS
from advisor.normalize import Normalized
from advisor.planner import diagnosis_plan, open_options

# Rasa logs these without their being an answer to anything.
SILENT_ACTIONS = frozenset({"action_listen", "action_extract_slots"})
Slots = Dict[Text, Any]


@dataclass(frozen=True)
class Turn:
    """The latest message as the form sees it, read once before rasa-sdk's steps run."""

    requested: Optional[str]
    replying: bool  # False when the form starts or comes back after a rule answered
    stated: Slots  # facts the NLU found in this message
    text: Normalized
    intent: Optional[str]
    options: List[Dict[str, Any]] = field(default_factory=list)  # of the multiple-choice question
    correction: Optional[Tuple[str, float]] = None
    # The message read as the answer to the open question, when it is one: `answer` for a fact
    # question, `choices` for the multiple-choice one (a message that states other facts, or
    # corrects an earlier answer, is not also a yes/no to the open question).
    answer: Optional[Answer] = None
    choices: Optional[Choices] = None

    def interrupts(self) -> bool:
        """A question of the user's own instead of an answer."""
        reading = self.answer or self.choices
        return reading is not None and reading.kind == "interruption"

    def leaves_question_open(self) -> bool:
        """Not an answer to the open question: a question of the user's own (the form comes
        back after a rule answered), a correction of an earlier answer, or other facts."""
        return (
            not self.replying or self.correction is not None or bool(self.stated) and self.requested not in self.stated
        )

    def answered_unknown(self) -> bool:
        return self.answer is not None and self.answer.kind == "unknown"


def read_turn(tracker: Tracker, form: str) -> Turn:
    requested: Optional[str] = tracker.get_slot(REQUESTED_SLOT)
    replying = is_reply(tracker, form)
    stated = {s: v for s, v in tracker.slots_to_validate().items() if s in DIAGNOSIS_SLOTS}
    text = latest_text(tracker)
    # The options shown were those open before this message stated anything.
    before = {**diagnosis_facts(tracker), **{slot: None for slot in stated}}
    options = open_options(before, unknown_facts(tracker)) if requested == RECENT_EVENTS else []
    answered = [s for s in reversed(asked_slots(tracker)) if s != requested and tracker.get_slot(s) is not None]
    correction = read_correction(text, answered) if replying and not stated else None
    intent = latest_intent(tracker)
    answer = choices = None
    if requested == RECENT_EVENTS and replying and not stated:
        choices = interpret_choices(options, text, intent)
    elif requested in DIAGNOSIS_SLOTS and replying and not stated and correction is None:
        answer = interpret_answer(requested, text, intent)
    return Turn(requested, replying, stated, text, intent, options, correction, answer, choices)


# The turn being validated, for the extract_/validate_ methods rasa-sdk calls (one action
# instance serves every conversation; each request runs in its own task and context).
_TURN: ContextVar[Turn] = ContextVar("diagnosis_turn")


class ValidateDiagnosisForm(RetryingFormValidationAction):
    def name(self) -> Text:
        return "validate_diagnosis_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        turn = read_turn(tracker, self.form_name())
        if turn.interrupts():
            return []
        token = _TURN.set(turn)
        try:
            extracted = await self.get_extraction_events(dispatcher, tracker, domain)
            tracker.add_slots(extracted)
            validated = await self.get_validation_events(dispatcher, tracker, domain)
            tracker.add_slots(validated)
        finally:
            _TURN.reset(token)
        slots = {e["name"]: e["value"] for e in extracted + validated}  # validation has the last word
        plan = self.plan(tracker)
        slots[REQUESTED_SLOT] = plan[0] if plan else None
        self.ask_next(dispatcher, tracker, turn, slots, plan)
        return [SlotSet(slot, value) for slot, value in slots.items()]

    # --- which questions ------------------------------------------------------------------

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        known = [slot for slot in QUESTIONS if tracker.get_slot(slot) is not None]
        plan = self.plan(tracker)
        turn = _TURN.get(None)
        # The question being answered is read even when the plan has moved past it (the
        # budget of questions may be spent by the time it is answered).
        answering = (
            [turn.requested] if turn and turn.requested in QUESTIONS and turn.requested not in known + plan else []
        )
        return known + plan + answering

    def plan(self, tracker: Tracker) -> List[str]:
        """advisor.planner's questions for what the tracker knows now. The open question stays
        in it while its answer is still missing (unclear answers are asked again)."""
        facts, unknown = diagnosis_facts(tracker), unknown_facts(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        still_open = (
            requested if requested in QUESTIONS and facts.get(requested) is None and requested not in unknown else None
        )
        asked = [slot for slot in asked_slots(tracker) if slot != still_open]
        return diagnosis_plan(tracker.get_slot("diagnosis_topic") or DEFAULT_TOPIC, facts, unknown=unknown, asked=asked)

    def ask_next(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn, slots: Slots, plan: List[str]
    ) -> None:
        """Says back what this message was read as, then asks the plan's next question."""
        read = set(turn.stated) | {turn.requested} | set(option_slots(turn.options))
        if turn.correction is not None:
            read.add(turn.correction[0])
        understood = {
            slot: value for slot, value in slots.items() if slot in read & DIAGNOSIS_SLOTS and value is not None
        }
        lead = understood_text(understood, turn.answered_unknown()) if turn.replying else ""
        if plan:
            facts, unknown = diagnosis_facts(tracker), unknown_facts(tracker)
            again = plan[0] == turn.requested and turn.leaves_question_open()
            progress = progress_of(plan, asked_slots(tracker))
            ask(dispatcher, plan[0], facts, unknown, progress=progress, lead=lead, again=again)
        elif lead:
            dispatcher.utter_message(text=lead)  # the advice follows (action_give_advice)

    # --- reading the reply: extract_<slot> ----------------------------------------------------

    def read_reply(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Slots:
        turn = _TURN.get()
        if turn.correction is not None and turn.correction[0] == slot:
            return {slot: turn.correction[1]}  # 「不对，有四成」: the open question is asked again
        answer = turn.answer
        if slot != turn.requested or answer is None:
            return {}
        if answer.kind == "value":
            return {slot: answer.value, FAILURES_SLOT: 0.0}
        unknown = unknown_facts(tracker)
        if answer.kind == "unknown":
            return {UNKNOWN_SLOT: unknown + [slot] * (slot not in unknown), FAILURES_SLOT: 0.0}
        return self.record_failure(dispatcher, tracker, slot, unknown, invalid=answer.kind == "invalid")

    async def extract_has_overdue(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("has_overdue", dispatcher, tracker)

    async def extract_overdue_days(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("overdue_days", dispatcher, tracker)

    async def extract_debt_ratio(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Slots:
        return self.read_reply("debt_ratio", dispatcher, tracker)

    async def extract_recent_applications(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("recent_applications", dispatcher, tracker)

    async def extract_account_inactive(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("account_inactive", dispatcher, tracker)

    async def extract_abnormal_transactions(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("abnormal_transactions", dispatcher, tracker)

    async def extract_security_issue(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("security_issue", dispatcher, tracker)

    async def extract_credit_report_issue(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("credit_report_issue", dispatcher, tracker)

    async def extract_symptom_days(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.read_reply("symptom_days", dispatcher, tracker)

    async def extract_recent_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        """The reply to 「最近有没有下面这些情况？」: a tapped option or typed fact, 「1 3」,
        「都没有」 or 「不清楚」."""
        turn = _TURN.get()
        choices = turn.choices
        if choices is None:
            return {}  # not the open question, or a tapped option / typed fact (validate_<slot>)
        if choices.kind == "value":
            return {**choices.facts, RECENT_EVENTS: "answered", FAILURES_SLOT: 0.0}
        unknown = unknown_facts(tracker)
        if choices.kind == "unknown":
            added = [slot for slot in option_slots(turn.options) + [RECENT_EVENTS] if slot not in unknown]
            return {UNKNOWN_SLOT: unknown + added, FAILURES_SLOT: 0.0}
        return self.record_failure(dispatcher, tracker, RECENT_EVENTS, unknown)

    # --- checking the facts: validate_<slot> --------------------------------------------------

    def check_fact(self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker) -> Slots:
        """A value out of its range is dropped and asked again; a known fact is no longer
        unknown; 「没有逾期」 drops an old overdue length, a length implies an overdue."""
        turn = _TURN.get()
        if value is not None and not check_range(slot, value):
            if slot == turn.requested:
                return {
                    slot: None,
                    **self.record_failure(dispatcher, tracker, slot, unknown_facts(tracker), invalid=True),
                }
            self.reask(dispatcher, slot, invalid=True)
            return {slot: None}
        result: Slots = {slot: value}
        unknown = unknown_facts(tracker)
        if value is not None and slot in unknown:
            result[UNKNOWN_SLOT] = [s for s in unknown if s != slot]
        if value is not None and turn.requested == RECENT_EVENTS and slot in option_slots(turn.options):
            # /inform{"security_issue": true} or 「账号被盗过」 answers the multiple-choice question
            result.update({RECENT_EVENTS: "answered", FAILURES_SLOT: 0.0})
        facts = {**diagnosis_facts(tracker), slot: value}
        result.update(reconcile_facts(facts))
        return result

    def validate_has_overdue(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("has_overdue", value, dispatcher, tracker)

    def validate_overdue_days(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("overdue_days", value, dispatcher, tracker)

    def validate_debt_ratio(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("debt_ratio", value, dispatcher, tracker)

    def validate_recent_applications(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("recent_applications", value, dispatcher, tracker)

    def validate_account_inactive(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("account_inactive", value, dispatcher, tracker)

    def validate_abnormal_transactions(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("abnormal_transactions", value, dispatcher, tracker)

    def validate_security_issue(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("security_issue", value, dispatcher, tracker)

    def validate_credit_report_issue(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("credit_report_issue", value, dispatcher, tracker)

    def validate_symptom_days(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return self.check_fact("symptom_days", value, dispatcher, tracker)

    def validate_recent_events(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Slots:
        return {RECENT_EVENTS: value}


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
