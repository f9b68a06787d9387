"""The diagnosis form's questions, sent by the form validator (actions/diagnosis_form.py).

Rasa's form would run `action_ask_<slot>` after validating: a second call to the action
server in every diagnosis turn. The domain has no such action, so the form asks nothing
itself (Rasa allows that: "the user might have asked as part of a custom action") and the
validator, which has just chosen the next question, sends it in the same call.

The texts and buttons are in knowledge/diagnosis.yml (`questions`, and `recent_events` for
the multiple-choice question), next to the re-ask texts.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk.executor import CollectingDispatcher

from actions.common import send_entry
from advisor.contract import RECENT_EVENTS
from advisor.knowledge import load_diagnosis_config
from advisor.planner import open_options
from advisor.render import describe_facts


def ask(
    dispatcher: CollectingDispatcher,
    slot: str,
    facts: Dict[str, Any],
    unknown: List[str],
    progress: Optional[Tuple[int, int]] = None,
    lead: str = "",
    again: bool = False,
) -> None:
    """Sends the question for `slot`, given the facts known once this turn is read, headed by
    「第 2 / 4 步」 when `progress` (step, total) is given, after `lead` (what was understood);
    `again`: it was asked before an answer to one of the user's own questions (「回到刚才的问题：」)."""
    entry = question_entry(slot, facts, unknown)
    text = str(entry["text"]).strip()
    if again:
        text = load_diagnosis_config()["texts"]["back_to_question"] + text
    if progress:
        step, total = progress
        text = load_diagnosis_config()["texts"]["progress"].format(step=step, total=max(step, total)) + "\n" + text
    if lead:
        text = f"{lead}\n{text}"
    send_entry(dispatcher, {**entry, "text": text})


def understood_text(values: Dict[str, Any], unknown_answer: bool = False) -> str:
    """「好的，按「没有负债」记。」 for the facts read from this message ("" for none)."""
    texts = load_diagnosis_config()["texts"]
    said = describe_facts(values)
    if said:
        return texts["understood"].format(facts=said)
    return texts["understood_unknown"] if unknown_answer else ""


def progress_of(plan: List[str], asked: List[str]) -> Tuple[int, int]:
    """(step, total) for asking plan[0]: the questions asked before it, plus the plan from it.
    The total is the plan's estimate and can change as answers explain the problem."""
    before = [slot for slot in asked if slot != plan[0]]
    return len(before) + 1, len(before) + len(plan)


def question_entry(
    slot: str, facts: Optional[Dict[str, Any]] = None, unknown: Optional[List[str]] = None
) -> Dict[str, Any]:
    if slot == RECENT_EVENTS:
        return recent_events_entry(open_options(facts or {}, unknown or []))
    return load_diagnosis_config()["questions"][slot]


def recent_events_entry(options: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The multiple-choice question: numbered options in the text (for typed and text-only
    channels), one button per option, then 「以上都没有」 and 「不清楚」."""
    config = load_diagnosis_config()[RECENT_EVENTS]
    lines = [config["text"]] + [f"{n}. {option['title']}" for n, option in enumerate(options, 1)]
    buttons = [{"title": option["title"], "payload": f'/inform{{"{option["slot"]}": true}}'} for option in options] + [
        config["none"],
        config["unknown"],
    ]
    return {"text": "\n".join(lines), "buttons": buttons}
