"""Which diagnosis questions to ask next, most telling first."""
from __future__ import annotations

from typing import Collection, Mapping

from advisor.contract import TOPICS
from advisor.knowledge import load_diagnosis_config

# An overdue this long explains the case on its own: no further questions.
DECISIVE_OVERDUE_DAYS = 30.0


def _decisive_overdue(facts: Mapping[str, object]) -> bool:
    days = facts.get("overdue_days")
    return (
        facts.get("has_overdue") is True
        and isinstance(days, (int, float))
        and not isinstance(days, bool)
        and days >= DECISIVE_OVERDUE_DAYS
    )


def diagnosis_plan(
    topic: str,
    facts: Mapping[str, object],
    unknown: Collection[str],
    asked: Collection[str],
) -> list[str]:
    """Contract slots still to ask for `topic`, in the order of knowledge/diagnosis.yml.

    Skips filled slots (not None) and slots in `unknown`; `overdue_days` only follows
    has_overdue=True; nothing more after a 30+ day overdue. New questions are capped at
    max_questions − len(asked). A slot already asked but still empty (its answer was
    unclear or rejected) stays in the plan without counting twice.
    """
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
    if _decisive_overdue(facts):
        return []
    config = load_diagnosis_config()
    asked_set = set(asked)
    budget = config["max_questions"] - len(asked_set)
    plan: list[str] = []
    for slot in config["order"][topic]:
        if facts.get(slot) is not None or slot in unknown:
            continue
        if slot == "overdue_days" and facts.get("has_overdue") is not True:
            continue
        if slot in asked_set:
            plan.append(slot)
        elif budget > 0:
            plan.append(slot)
            budget -= 1
    return plan
