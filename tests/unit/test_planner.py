"""The diagnosis planner: which question next; every main question, the rarer ones while they
can change the advice, and only a decisive cause ends the questions early."""

from __future__ import annotations

import itertools
from typing import Dict, List, Mapping, Tuple

import pytest

from advisor.contract import ALL_TOPICS, RECENT_EVENTS, SLOTS, TOPICS
from advisor.engine import rank_advice
from advisor.knowledge import load_diagnosis_config
from advisor.planner import decisive_cause, diagnosis_plan, open_options

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
def test_an_overdue_is_followed_by_its_length_then_the_other_main_questions(topic: str) -> None:
    plan = diagnosis_plan(topic, {"has_overdue": True}, (), ["has_overdue"])
    assert plan[0] == "overdue_days"
    assert {"debt_ratio", "recent_applications"} <= set(plan), plan


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("days", [30.0, 90.0])
def test_a_decisive_overdue_stated_at_once_ends_all_questions(topic: str, days: float) -> None:
    assert diagnosis_plan(topic, {"overdue_days": days}, (), ()) == []


@pytest.mark.parametrize("topic", TOPICS)
def test_a_stolen_account_ends_all_questions(topic: str) -> None:
    assert diagnosis_plan(topic, {"security_issue": True}, (), ()) == []


@pytest.mark.parametrize("topic", CAUSE_TOPICS)
@pytest.mark.parametrize(
    "stated",
    [
        {"has_overdue": True, "overdue_days": 7.0},
        {"debt_ratio": 80.0},
        {"recent_applications": True},
        {"abnormal_transactions": True},
        {"credit_report_issue": True},
    ],
)
def test_a_cause_that_is_not_decisive_leaves_the_main_questions_to_ask(topic: str, stated: dict) -> None:
    plan = diagnosis_plan(topic, stated, (), ())
    main = {"has_overdue", "debt_ratio", "recent_applications"} - set(stated)
    assert main <= set(plan), plan


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


# Simulated users: every combination of an overdue (none, a week, two months), a debt ratio (low,
# middling, high), loan applications, one of the rarer causes and how long it has lasted.
OVERDUES = (
    {"has_overdue": False},
    {"has_overdue": True, "overdue_days": 7.0},
    {"has_overdue": True, "overdue_days": 60.0},
)
RARER = (None, "account_inactive", "abnormal_transactions", "security_issue", "credit_report_issue")


def simulated_users() -> List[Dict[str, object]]:
    users = []
    for overdue, ratio, applied, rarer, lasted in itertools.product(
        OVERDUES, (20.0, 40.0, 75.0), (False, True), RARER, (3.0, 45.0)
    ):
        user = {**CLEAN, **overdue, "debt_ratio": ratio, "recent_applications": applied, "symptom_days": lasted}
        if rarer:
            user[rarer] = True
        users.append(user)
    return users


USERS = simulated_users()


@pytest.mark.parametrize("topic", ALL_TOPICS)
def test_simulated_users_get_the_advice_their_whole_situation_gives(topic: str) -> None:
    """Unless a decisive cause ended the questions, what was asked gives the same reasons, steps
    and situation as knowing everything about the user: no cause that matters is missed, and
    several causes come out ranked."""
    for user in USERS:
        asked, facts = play(topic, user)
        assert len(asked) <= MAX, (user, asked)
        known = rank_advice(topic, facts)
        truth = rank_advice(topic, {k: v for k, v in user.items() if k != "symptom_days" or "symptom_days" in asked})
        if decisive_cause(facts):
            assert known.reasons[0] == truth.reasons[0], (user, asked)
        else:
            assert (known.reasons, known.steps, known.situation) == (truth.reasons, truth.steps, truth.situation), (
                user,
                asked,
            )


def test_several_causes_come_out_ranked() -> None:
    user = {**CLEAN, "has_overdue": True, "overdue_days": 7.0, "debt_ratio": 60.0, "recent_applications": True}
    asked, facts = play("cannot_borrow", user)
    assert {"has_overdue", "overdue_days", "debt_ratio", "recent_applications"} <= set(asked)
    assert {"overdue", "high_debt", "multi_loan"} <= set(rank_advice("cannot_borrow", facts).reasons)


def test_questions_per_simulated_user(capsys: pytest.CaptureFixture) -> None:
    """The figure the README reports: questions asked per simulated user, per topic."""
    averages = {}
    for topic in ALL_TOPICS:
        counts = [len(play(topic, user)[0]) for user in USERS]
        assert max(counts) <= MAX
        averages[topic] = sum(counts) / len(counts)
    with capsys.disabled():
        print("\nquestions per simulated user:", ", ".join(f"{t} {a:.2f}" for t, a in averages.items()))
    # Every main question is asked of a user without a decisive cause: at least three on average.
    assert all(3.0 <= average <= MAX for average in averages.values()), averages


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
