"""Which diagnosis question to ask next: every main question of the topic, then the rarer ones
while their answer can still change the advice.

Questions come in the order of knowledge/diagnosis.yml (`order`, per topic). The main questions
(`main_questions`: overdue and its length, debt ratio, loan applications) are all asked, since a
user can have several causes at once and the advice ranks them; a rarer question (the
multiple-choice `recent_events`, how long a refusal has lasted) only when one of its possible
answers would change the reasons, the steps or the situation of the advice. Only a decisive cause
(an overdue of a month or more, a stolen account) ends the questions early. Nothing already known
or answered is asked again, and no user is asked more than `max_questions`.
"""

from __future__ import annotations

from typing import Any, Collection, Iterator, Mapping, Optional

from advisor.contract import ALL_TOPICS, RECENT_EVENTS
from advisor.engine import Advice, decisive_overdue, rank_advice
from advisor.knowledge import load_diagnosis_config

# Answers that stand for the whole range of a "how long has it lasted" question: a few days (a
# passing refusal) and over a month (an observation period), advisor.situation.SUSPENDED_DAYS.
SYMPTOM_DAYS_ANSWERS: tuple[float, ...] = (3.0, 45.0)


def open_options(facts: Mapping[str, object], unknown: Collection[str]) -> list[dict[str, Any]]:
    """The options of the multiple-choice question whose fact is not known yet, in their order."""
    return [
        option
        for option in load_diagnosis_config()[RECENT_EVENTS]["options"]
        if facts.get(option["slot"]) is None and option["slot"] not in unknown
    ]


def decisive_cause(facts: Mapping[str, object]) -> bool:
    """A cause that decides the advice whatever else is true: an overdue of a month or more, or a
    stolen or unsafe account (securing it comes before anything else)."""
    return decisive_overdue(facts) or facts.get("security_issue") is True


def _covered(question: str, facts: Mapping[str, object], unknown: Collection[str]) -> bool:
    if question in unknown:
        return True
    if question == RECENT_EVENTS:
        return facts.get(RECENT_EVENTS) is not None or not open_options(facts, unknown)
    return facts.get(question) is not None


def _possible_answers(
    question: str, facts: Mapping[str, object], unknown: Collection[str]
) -> Iterator[dict[str, object]]:
    """The facts as they would be after each answer to `question` that is not a plain no."""
    if question == RECENT_EVENTS:
        for option in open_options(facts, unknown):
            yield {**facts, option["slot"]: True}
    elif question == "symptom_days":
        for days in SYMPTOM_DAYS_ANSWERS:
            yield {**facts, question: days}
    else:
        yield {**facts, question: True}


def can_change_advice(
    topic: str, question: str, facts: Mapping[str, object], unknown: Collection[str], now: Optional[Advice] = None
) -> bool:
    """True when some answer to `question` would give other reasons, steps or situation than
    leaving it unasked; `now`: rank_advice(topic, facts), when the caller has it already."""
    now = now or rank_advice(topic, facts)
    return any(
        (after.reasons, after.steps, after.situation) != (now.reasons, now.steps, now.situation)
        for after in (rank_advice(topic, answered) for answered in _possible_answers(question, facts, unknown))
    )


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
    if topic not in ALL_TOPICS:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(ALL_TOPICS)}")
    if decisive_cause(facts):
        return []
    config = load_diagnosis_config()
    main = set(config["main_questions"])
    asked_set = set(asked)
    plan: list[str] = []
    now: Optional[Advice] = None  # the advice as things stand, ranked once for every rarer question
    for question in config["order"][topic]:
        if _covered(question, facts, unknown) or question in asked_set:
            continue
        if question == "overdue_days" and facts.get("has_overdue") is not True:
            continue
        if question not in main:
            now = now or rank_advice(topic, facts)
            if not can_change_advice(topic, question, facts, unknown, now):
                continue
        plan.append(question)
    return plan[: max(config["max_questions"] - len(asked_set), 0)]
