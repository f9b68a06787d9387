"""Which diagnosis question to ask next: keep asking until something explains the problem.

Questions come in the order of knowledge/diagnosis.yml (`order`, per topic). The plan stops as
soon as the facts so far explain the user's problem (`advisor.engine.explains`), after a
decisive overdue, or when every question of the topic is covered. The rarer causes share one
multiple-choice question (`recent_events`), which is only asked while one of its options is
still open; nothing already known or already answered is asked again.
"""

from __future__ import annotations

from typing import Any, Collection, Mapping

from advisor.contract import RECENT_EVENTS, TOPICS
from advisor.engine import decisive_overdue, explains
from advisor.knowledge import load_diagnosis_config


def open_options(facts: Mapping[str, object], unknown: Collection[str]) -> list[dict[str, Any]]:
    """The options of the multiple-choice question whose fact is not known yet, in their order."""
    return [
        option
        for option in load_diagnosis_config()[RECENT_EVENTS]["options"]
        if facts.get(option["slot"]) is None and option["slot"] not in unknown
    ]


def _covered(question: str, facts: Mapping[str, object], unknown: Collection[str]) -> bool:
    if question in unknown:
        return True
    if question == RECENT_EVENTS:
        return facts.get(RECENT_EVENTS) is not None or not open_options(facts, unknown)
    return facts.get(question) is not None


def diagnosis_plan(
    topic: str,
    facts: Mapping[str, object],
    unknown: Collection[str],
    asked: Collection[str],
) -> list[str]:
    """The questions still to ask for `topic`, next first.

    `facts`: question/slot → value (None when not known); `unknown`: questions answered with
    "I don't know" (or skipped); `asked`: questions already asked and answered in this
    diagnosis, never asked again (the validator leaves out the one whose answer was unclear, so
    that it is asked once more). At most max_questions are asked in all.
    """
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
    if decisive_overdue(facts):
        return []
    config = load_diagnosis_config()
    asked_set = set(asked)
    plan: list[str] = []
    for question in config["order"][topic]:
        if _covered(question, facts, unknown):
            continue
        if question == "overdue_days" and facts.get("has_overdue") is not True:
            continue
        if question in asked_set:
            continue
        plan.append(question)
    if explains(topic, facts):
        # The cause is found; only how long an overdue lasted still changes the advice.
        plan = [q for q in plan if q == "overdue_days"]
    return plan[: max(config["max_questions"] - len(asked_set), 0)]
