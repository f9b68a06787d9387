"""What a user's reply to one diagnosis question means.

The form asks one slot at a time; the same words mean different things depending on
the question (「一半」 answers the debt question, 「有」 a yes/no one). This module
decides, from plain values only, whether a reply is a value, an "I don't know", an
out-of-range value, a question that interrupts the form, or something unclear.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from advisor import contract
from advisor.domain_rules import overdue_implied_by_days
from advisor.knowledge import load_diagnosis_config
from advisor.normalize import normalized
from advisor.parsing import parse_answer, parse_choices, parse_days, parse_percentage, parse_since

BOOL_SLOTS = frozenset(contract.ALL_BOOL_SLOTS)
NUMERIC_SLOTS = frozenset(contract.ALL_NUMERIC_SLOTS)
DIAGNOSIS_SLOTS = frozenset(contract.FACT_SLOTS)

# Intents that are questions of their own: the form pauses, the question is answered,
# and the form asks again.
INTERRUPTION_INTENTS = frozenset(contract.QUESTION_INTENTS) | {"greet", "thank", "bot_challenge", "goodbye", "feedback"}

# Intents under which a short 有/没有 is read as a yes/no answer.
_ANSWER_INTENTS = frozenset({"affirm", "deny", "inform", "dont_know", "nlu_fallback"})
_SHORT_REPLY = 6

Value = Union[bool, float]
# 「都没有」「以上都没有」「一个都没有」「都不是」: none of the options.
_NONE_OF_THEM = re.compile(r"[都全](?:没有?|不是|无)|以上都|一[个项样条]?[也都]没|没有这些|都没遇到")


# How users start correcting what the bot understood (also read by make review).
CORRECTION_STARTS = (
    "不是",
    "不对",
    "错了",
    "我是说",
    "我说的是",
    "我问的是",
    "我的意思是",
    "我是问",
    "意思是",
    "你没懂",
    "你理解错",
    "答非所问",
    "没听懂",
    "不是这个",
    "不是这样",
    "说错了",
    "我说错了",
)
# The parsers of the numeric facts a correction may restate.
_NUMBER_PARSERS = {"debt_ratio": parse_percentage, "overdue_days": parse_days, "symptom_days": parse_since}


def read_correction(text: str, answered: Sequence[str]) -> Optional[tuple[str, float]]:
    """(slot, value) when `text` corrects an earlier numeric answer (「不对，有四成」 once the
    debt question was answered → ("debt_ratio", 40.0)); `answered` lists the slots already
    answered, latest first, and the latest one the number fits is taken. None otherwise."""
    stripped = normalized(text).strip().lstrip("，,。. ")
    if not stripped.startswith(CORRECTION_STARTS):
        return None
    for slot in answered:
        parse = _NUMBER_PARSERS.get(slot)
        value = parse(stripped) if parse else None
        if value is not None and check_range(slot, value):
            return slot, float(value)
    return None


def read_late_answer(text: str, facts: Mapping[str, Any]) -> Optional[tuple[str, float]]:
    """(slot, value) when a bare number after the advice answers a question it fits: 「两成」
    the debt share (always the one share the bot asks about), 「三个月」 the overdue's length
    when an overdue is known without it, 「就这两天」 how long the problem has lasted when that
    is not known yet. None when it fits nothing still open."""
    text = normalized(text).strip()
    ratio = parse_percentage(text)
    if ratio is not None:
        return ("debt_ratio", float(ratio)) if check_range("debt_ratio", ratio) else None
    open_slots = [slot for slot in ("overdue_days", "symptom_days") if facts.get(slot) in (None, contract.UNKNOWN)]
    if facts.get("has_overdue") is not True and "overdue_days" in open_slots:
        open_slots.remove("overdue_days")  # no overdue: a length is how long the problem lasted
    for slot in open_slots:
        value = _NUMBER_PARSERS[slot](text)
        if value is not None and check_range(slot, value):
            return slot, float(value)
    return None


@dataclass(frozen=True)
class Answer:
    """kind ∈ value | unknown | invalid | interruption | unclear."""

    kind: str
    value: Optional[Value] = None


def check_range(slot: str, value: Value) -> bool:
    """True when a numeric slot's value is a finite number within its range in
    knowledge/diagnosis.yml (NaN and infinities never are)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    if not math.isfinite(number):
        return False
    rule = load_diagnosis_config()["invalid"].get(slot)
    if rule is None:
        return True
    return bool(rule["min"] <= number <= rule["max"])


def interpret_answer(slot: str, text: str, intent: Optional[str]) -> Answer:
    """Reads the reply `text` (classified as `intent`) to the question for `slot`; raw text is
    normalised once here, the NLU pipeline's `Normalized` text is taken as it is."""
    text = normalized(text)
    value = _value_for(slot, text, intent)
    if value is not None:
        return Answer("value", value) if check_range(slot, value) else Answer("invalid", value)
    if intent == "dont_know" or parse_answer(text) == "unknown":
        return Answer("unknown")
    if intent in INTERRUPTION_INTENTS:
        return Answer("interruption")
    return Answer("unclear")


def _value_for(slot: str, text: str, intent: Optional[str]) -> Optional[Value]:
    if slot in BOOL_SLOTS:
        return _yes_no(text, intent)
    if slot == "overdue_days":
        return parse_days(text)
    if slot == "symptom_days":
        return parse_since(text)
    if slot == "debt_ratio":
        ratio = parse_percentage(text)
        if ratio is None and _yes_no(text, intent) is False:
            return 0.0  # 「没有负债」
        return ratio
    return None


def _yes_no(text: str, intent: Optional[str]) -> Optional[bool]:
    # A long question that happens to contain 有 (「有没有别的渠道」) is not an answer.
    if intent not in _ANSWER_INTENTS and len(text) > _SHORT_REPLY:
        return None
    said = parse_answer(text)
    if said == "yes" or (said is None and intent == "affirm"):
        return True
    if said == "no" or (said is None and intent == "deny"):
        return False
    return None


@dataclass(frozen=True)
class Choices:
    """An answer to the multiple-choice question: kind ∈ value | unknown | interruption | unclear.

    `facts`: fact slot → True for each option picked, or → False for every option on
    「都没有」; an option not picked stays unknown (None), it was not denied.
    """

    kind: str
    facts: Dict[str, bool]


def interpret_choices(options: Sequence[Mapping[str, Any]], text: str, intent: Optional[str]) -> Choices:
    """Reads the reply `text` to the multiple-choice question that showed `options` (raw or
    `Normalized`, as for `interpret_answer`)."""
    text = normalized(text)
    picked = parse_choices(text, len(options))
    if picked:
        return Choices("value", {options[n - 1]["slot"]: True for n in picked})
    if _NONE_OF_THEM.search(text) or (len(text) <= _SHORT_REPLY and _yes_no(text, intent) is False):
        return Choices("value", {option["slot"]: False for option in options})
    if intent == "dont_know" or parse_answer(text) == "unknown":
        return Choices("unknown", {})
    if intent in INTERRUPTION_INTENTS:
        return Choices("interruption", {})
    return Choices("unclear", {})


def option_slots(options: Sequence[Mapping[str, Any]]) -> List[str]:
    """The fact slots of `options`, each once, in their order."""
    return list(dict.fromkeys(option["slot"] for option in options))


def reconcile_facts(facts: Mapping[str, object]) -> Dict[str, object]:
    """Changes that keep the overdue facts consistent with each other.

    「不对，我没有逾期」 must also drop an earlier overdue length, and a stated overdue
    length implies there was an overdue.
    """
    changes: Dict[str, object] = {}
    has_overdue, days = facts.get("has_overdue"), facts.get("overdue_days")
    if has_overdue is False and days not in (None, 0, 0.0):
        changes["overdue_days"] = None
    elif overdue_implied_by_days(has_overdue, days) is not has_overdue:
        changes["has_overdue"] = True
    return changes
