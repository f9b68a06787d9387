"""The diagnosis planner: which question next, and when a cause found ends the questions."""

from __future__ import annotations

from typing import Dict, List, Mapping, Tuple

import pytest

from advisor.contract import RECENT_EVENTS, SLOTS, TOPICS
from advisor.engine import rank_advice
from advisor.knowledge import load_diagnosis_config
from advisor.planner import diagnosis_plan, open_options

MAX = load_diagnosis_config()["max_questions"]
CAUSE_TOPICS = ("cannot_borrow", "limit_dropped", "restore_limit", "limit_closed")

# A user with nothing wrong; each single-cause user below changes one fact of it.
CLEAN: Dict[str, object] = {
    "has_overdue": False,
    "overdue_days": None,
    "debt_ratio": 20.0,
    "recent_applications": False,
    "account_inactive": False,
    "abnormal_transactions": False,
    "security_issue": False,
    "credit_report_issue": False,
    "symptom_days": 60.0,
}
ONLY_CAUSE: Dict[str, Dict[str, object]] = {
    "overdue": {"has_overdue": True, "overdue_days": 5.0},
    "credit_report": {"credit_report_issue": True},
    "high_debt": {"debt_ratio": 70.0},
    "multi_loan": {"recent_applications": True},
    "inactive_account": {"account_inactive": True},
    "abnormal_activity": {"abnormal_transactions": True},
    "account_security": {"security_issue": True},
    "risk_control": {"symptom_days": 3.0},
    "observation_period": {"symptom_days": 40.0},
}


def play(topic: str, truth: Mapping[str, object], stated: Mapping[str, object] = ()) -> Tuple[List[str], dict]:
    """Answers every question truthfully (the multiple choice: the options that apply)."""
    facts: Dict[str, object] = dict(stated)
    asked: List[str] = []
    while plan := diagnosis_plan(topic, facts, (), asked):
        question = plan[0]
        assert question not in asked, f"{question} asked twice"
        asked.append(question)
        if question == RECENT_EVENTS:
            options = open_options(facts, ())
            picked = [o["slot"] for o in options if truth.get(o["slot"]) is True]
            for option in options:
                facts[option["slot"]] = True if option["slot"] in picked else (None if picked else False)
            facts[RECENT_EVENTS] = "answered"
        else:
            facts[question] = truth[question]
    return asked, facts


@pytest.mark.parametrize("topic", TOPICS)
def test_the_first_question_is_about_overdues(topic: str) -> None:
    assert diagnosis_plan(topic, {}, (), ())[0] == "has_overdue"


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("has_overdue", [None, False, "unknown"])
def test_overdue_days_needs_an_overdue(topic: str, has_overdue: object) -> None:
    assert "overdue_days" not in diagnosis_plan(topic, {"has_overdue": has_overdue}, (), ())


@pytest.mark.parametrize("topic", TOPICS)
def test_an_overdue_is_followed_by_its_length_and_nothing_else(topic: str) -> None:
    assert diagnosis_plan(topic, {"has_overdue": True}, (), ["has_overdue"]) == ["overdue_days"]
    assert diagnosis_plan(topic, {"has_overdue": True, "overdue_days": 3.0}, (), ["has_overdue", "overdue_days"]) == []


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("days", [30.0, 90.0])
def test_a_decisive_overdue_stated_at_once_ends_all_questions(topic: str, days: float) -> None:
    assert diagnosis_plan(topic, {"overdue_days": days}, (), ()) == []


@pytest.mark.parametrize("topic", CAUSE_TOPICS)
@pytest.mark.parametrize(
    "stated",
    [
        {"security_issue": True},
        {"debt_ratio": 80.0},
        {"recent_applications": True},
        {"abnormal_transactions": True},
        {"credit_report_issue": True},
    ],
)
def test_a_cause_stated_early_makes_the_questions_needless(topic: str, stated: dict) -> None:
    assert diagnosis_plan(topic, stated, (), ()) == []


@pytest.mark.parametrize("topic", TOPICS)
def test_minor_or_unsure_answers_do_not_end_the_questions(topic: str) -> None:
    plan = diagnosis_plan(topic, {"has_overdue": False, "debt_ratio": 40.0}, ("recent_applications",), [])
    assert plan and "debt_ratio" not in plan and "recent_applications" not in plan


@pytest.mark.parametrize("topic", CAUSE_TOPICS)
def test_a_clean_profile_covers_every_contract_fact(topic: str) -> None:
    asked, facts = play(topic, CLEAN)
    covered = {slot for slot in SLOTS if facts.get(slot) is not None} | {"overdue_days"}
    assert covered == set(SLOTS), asked
    assert len(asked) <= 5


# How long it lasted is only asked when a shown limit refuses to lend (cannot_borrow).
PLATFORM_CAUSES = ("risk_control", "observation_period")
SINGLE_CAUSE_CASES = [
    (topic, reason)
    for topic in CAUSE_TOPICS
    for reason in sorted(ONLY_CAUSE)
    if topic == "cannot_borrow" or reason not in PLATFORM_CAUSES
]


@pytest.mark.parametrize("topic, reason", SINGLE_CAUSE_CASES)
def test_each_single_cause_is_found_and_ranked_first(topic: str, reason: str) -> None:
    asked, facts = play(topic, {**CLEAN, **ONLY_CAUSE[reason]})
    assert rank_advice(topic, facts).reasons[0] == reason, (asked, facts)


def test_on_average_no_more_than_four_questions() -> None:
    counts = [len(play("cannot_borrow", {**CLEAN, **cause})[0]) for cause in ONLY_CAUSE.values()]
    assert sum(counts) / len(counts) <= 4, counts


def test_the_multiple_choice_question_shows_only_what_is_not_known() -> None:
    slots = [
        o["slot"] for o in open_options({"security_issue": False, "account_inactive": True}, ("credit_report_issue",))
    ]
    assert slots == ["abnormal_transactions"]


def test_the_multiple_choice_question_is_not_asked_once_answered() -> None:
    facts = {"has_overdue": False, "debt_ratio": 10.0, "recent_applications": False, RECENT_EVENTS: "answered"}
    assert RECENT_EVENTS not in diagnosis_plan("cannot_borrow", facts, (), [])


def test_how_long_it_lasted_is_only_asked_about_a_refusal_without_a_cause() -> None:
    facts = {"has_overdue": False, "debt_ratio": 10.0, "recent_applications": False, RECENT_EVENTS: "answered"}
    assert diagnosis_plan("cannot_borrow", facts, (), []) == ["symptom_days"]
    assert diagnosis_plan("limit_dropped", facts, (), []) == []


@pytest.mark.parametrize("topic", TOPICS)
def test_asked_questions_are_not_asked_again(topic: str) -> None:
    # An "I don't know" that was not recorded is still not a reason to ask again.
    assert "debt_ratio" not in diagnosis_plan(topic, {"has_overdue": False}, (), ["has_overdue", "debt_ratio"])


@pytest.mark.parametrize("topic", TOPICS)
def test_the_question_budget_caps_the_plan(topic: str) -> None:
    asked = [f"earlier_{i}" for i in range(MAX - 1)]
    assert len(diagnosis_plan(topic, {}, (), asked)) <= 1


@pytest.mark.parametrize(
    "topic, early, late",
    [("limit_closed", RECENT_EVENTS, "debt_ratio"), ("increase_limit", "account_inactive", "recent_applications")],
)
def test_topic_specific_order(topic: str, early: str, late: str) -> None:
    plan = diagnosis_plan(topic, {"has_overdue": False}, (), ["has_overdue"])
    assert plan.index(early) < plan.index(late)


def test_unknown_topic_is_rejected() -> None:
    with pytest.raises(ValueError):
        diagnosis_plan("weather", {}, (), ())
