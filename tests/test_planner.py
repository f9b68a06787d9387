"""The diagnosis planner: which slots to ask, in which order, and when to stop."""
from __future__ import annotations

import pytest

from advisor.contract import TOPICS
from advisor.knowledge import load_diagnosis_config
from advisor.planner import diagnosis_plan

MAX = load_diagnosis_config()["max_questions"]


def _order(topic: str) -> list[str]:
    return list(load_diagnosis_config()["order"][topic])


@pytest.mark.parametrize("topic", TOPICS)
def test_first_questions_follow_yaml_order(topic: str) -> None:
    expected = [slot for slot in _order(topic) if slot != "overdue_days"][:MAX]
    assert diagnosis_plan(topic, {}, (), ()) == expected


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("has_overdue", [None, False, "unknown"])
def test_overdue_days_needs_an_overdue(topic: str, has_overdue: object) -> None:
    plan = diagnosis_plan(topic, {"has_overdue": has_overdue}, (), ())
    assert "overdue_days" not in plan


@pytest.mark.parametrize("topic", TOPICS)
def test_overdue_days_follows_a_yes(topic: str) -> None:
    plan = diagnosis_plan(topic, {"has_overdue": True}, (), ["has_overdue"])
    assert plan[0] == "overdue_days"


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("days, stops", [(30.0, True), (90.0, True), (29.0, False), (3.0, False)])
def test_long_overdue_stops_early(topic: str, days: float, stops: bool) -> None:
    facts = {"has_overdue": True, "overdue_days": days}
    plan = diagnosis_plan(topic, facts, (), ["has_overdue", "overdue_days"])
    assert (plan == []) is stops


@pytest.mark.parametrize(
    "facts, unknown",
    [
        ({"has_overdue": False, "debt_ratio": 40.0}, ()),
        ({"security_issue": False}, ("recent_applications",)),
        ({}, ("has_overdue", "debt_ratio")),
        ({"debt_ratio": "unknown", "account_inactive": True}, ("abnormal_transactions",)),
    ],
)
@pytest.mark.parametrize("topic", TOPICS)
def test_filled_and_unknown_slots_are_skipped(topic: str, facts: dict, unknown: tuple) -> None:
    plan = diagnosis_plan(topic, facts, unknown, ())
    skipped = {slot for slot, value in facts.items() if value is not None} | set(unknown)
    assert not skipped & set(plan)
    assert plan == [slot for slot in _order(topic) if slot in plan]


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("answered", range(0, 6))
def test_question_budget(topic: str, answered: int) -> None:
    order = [slot for slot in _order(topic) if slot != "overdue_days"]
    asked = order[:answered]
    facts = {slot: False for slot in asked}
    plan = diagnosis_plan(topic, facts, (), asked)
    assert len(plan) == max(0, min(MAX - answered, len(order) - answered))


@pytest.mark.parametrize("topic", TOPICS)
def test_unanswered_asked_slot_is_kept_without_counting_twice(topic: str) -> None:
    pending = _order(topic)[0]
    plan = diagnosis_plan(topic, {}, (), [pending])
    assert plan[0] == pending
    assert len(plan) == MAX


@pytest.mark.parametrize(
    "topic, early, late",
    [
        ("limit_closed", "security_issue", "debt_ratio"),
        ("limit_closed", "abnormal_transactions", "recent_applications"),
        ("increase_limit", "account_inactive", "security_issue"),
        ("increase_limit", "debt_ratio", "abnormal_transactions"),
    ],
)
def test_topic_specific_order(topic: str, early: str, late: str) -> None:
    plan = diagnosis_plan(topic, {"has_overdue": False}, (), ["has_overdue"])
    assert early in plan
    assert late not in plan or plan.index(early) < plan.index(late)


def test_unknown_topic_is_rejected() -> None:
    with pytest.raises(ValueError):
        diagnosis_plan("weather", {}, (), ())
