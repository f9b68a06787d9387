"""The advice engine: reachability of every code, orderings, payload shape."""

from __future__ import annotations

import pytest

from advisor.contract import BOOL_SLOTS, REASONS, STEPS, TOPICS
from advisor.engine import MAX_REASONS, MAX_STEPS, Advice, rank_advice, reason_scores
from advisor.knowledge import load_advice_knowledge
from advisor.situation import SITUATIONS

CLEAN = {slot: False for slot in BOOL_SLOTS} | {"debt_ratio": 10.0}

# (topic, facts) rows; together they must reach every reason and every step.
FACT_TABLE = [
    ("cannot_borrow", {}),
    ("cannot_borrow", CLEAN),
    ("cannot_borrow", {"has_overdue": True, "overdue_days": 45.0, "debt_ratio": 90.0}),
    ("cannot_borrow", {"debt_ratio": 70.0}),
    ("cannot_borrow", {"recent_applications": True}),
    ("limit_dropped", {"account_inactive": True}),
    ("limit_dropped", {"abnormal_transactions": True}),
    ("limit_closed", {"security_issue": True}),
    ("limit_closed", {"abnormal_transactions": True}),
    ("restore_limit", {"has_overdue": True, "overdue_days": 10.0}),
    ("increase_limit", {}),
    ("increase_limit", {"account_inactive": True}),
    ("cannot_borrow", {"has_overdue": True, "recent_applications": True, "debt_ratio": 60.0}),
    ("not_opened", CLEAN),
]


def _all_results() -> list[Advice]:
    return [rank_advice(topic, facts) for topic, facts in FACT_TABLE]


def test_every_reason_is_reachable() -> None:
    reached = {code for advice in _all_results() for code in advice.reasons}
    assert set(load_advice_knowledge()["reasons"]) <= reached


def test_every_step_is_reachable() -> None:
    reached = {code for advice in _all_results() for code in advice.steps}
    assert set(load_advice_knowledge()["steps"]) <= reached


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("debt_ratio", [None, 55.0, 90.0, 100.0])
def test_long_overdue_outranks_everything(topic: str, debt_ratio: float | None) -> None:
    facts = {slot: True for slot in BOOL_SLOTS} | {"overdue_days": 30.0, "debt_ratio": debt_ratio}
    advice = rank_advice(topic, facts)
    assert advice.reasons[0] == "overdue"
    assert advice.steps[0] == "repay_on_time"


@pytest.mark.parametrize("topic", ["cannot_borrow", "limit_dropped", "restore_limit", "limit_closed"])
def test_high_debt_leads_without_overdue(topic: str) -> None:
    advice = rank_advice(topic, {"has_overdue": False, "debt_ratio": 70.0})
    assert advice.reasons[0] == "high_debt"
    assert "reduce_debt" in advice.steps


@pytest.mark.parametrize(
    "low, high",
    [(55.0, 70.0), (70.0, 90.0), (35.0, 45.0), (45.0, 60.0)],
)
def test_debt_weight_grows_with_ratio(low: float, high: float) -> None:
    scores = [reason_scores("cannot_borrow", {"debt_ratio": ratio})["high_debt"] for ratio in (low, high)]
    assert scores[0] < scores[1]


@pytest.mark.parametrize("ratio", [0.0, 20.0, 30.0])
def test_low_debt_is_not_a_reason(ratio: float) -> None:
    advice = rank_advice("cannot_borrow", {"debt_ratio": ratio})
    assert "high_debt" not in advice.reasons
    assert "reduce_debt" not in advice.steps


@pytest.mark.parametrize("topic", TOPICS)
@pytest.mark.parametrize("facts", [{}, CLEAN], ids=["nothing_known", "all_false"])
def test_clean_user_gets_platform_reasons(topic: str, facts: dict) -> None:
    advice = rank_advice(topic, facts)
    assert {"risk_control", "observation_period"} <= set(advice.reasons)
    assert {"wait_and_retry", "keep_active", "update_profile"} <= set(advice.steps)
    assert not {"reduce_debt", "repay_on_time"} & set(advice.steps)


@pytest.mark.parametrize(
    "facts",
    [{"security_issue": True}, {"security_issue": True, "abnormal_transactions": True, "debt_ratio": 60.0}],
)
def test_security_issue_on_limit_closed(facts: dict) -> None:
    advice = rank_advice("limit_closed", facts)
    assert advice.reasons[0] == "account_security"
    assert "secure_account" in advice.steps
    assert "appeal_support" in advice.steps


@pytest.mark.parametrize(
    "fact, reason",
    [
        ("has_overdue", "overdue"),
        ("security_issue", "account_security"),
        ("abnormal_transactions", "abnormal_activity"),
        ("recent_applications", "multi_loan"),
        ("account_inactive", "inactive_account"),
        ("debt_ratio", "high_debt"),
    ],
)
def test_unknown_weighs_less_than_true(fact: str, reason: str) -> None:
    yes_value = 80.0 if fact == "debt_ratio" else True
    sure = reason_scores("cannot_borrow", {fact: yes_value}).get(reason, 0.0)
    unsure = reason_scores("cannot_borrow", {fact: "unknown"}).get(reason, 0.0)
    assert 0 < unsure < sure


@pytest.mark.parametrize(
    "topic, facts, first, second",
    [
        ("cannot_borrow", {"security_issue": True, "has_overdue": "unknown"}, "account_security", "overdue"),
        ("cannot_borrow", {"has_overdue": True, "security_issue": "unknown"}, "overdue", "account_security"),
        (
            "limit_dropped",
            {"recent_applications": True, "account_inactive": "unknown"},
            "multi_loan",
            "inactive_account",
        ),
    ],
)
def test_true_fact_ranks_above_unknown_fact(topic: str, facts: dict, first: str, second: str) -> None:
    reasons = rank_advice(topic, facts).reasons
    assert reasons.index(first) < reasons.index(second)


@pytest.mark.parametrize(
    "topic, facts, expected_first",
    [
        ("increase_limit", {}, {"update_profile", "keep_active"}),
        ("restore_limit", {"has_overdue": True, "overdue_days": 5.0}, {"repay_on_time"}),
        ("restore_limit", {}, {"wait_and_retry"}),
    ],
)
def test_topic_shapes_first_steps(topic: str, facts: dict, expected_first: set) -> None:
    assert set(rank_advice(topic, facts).steps[: len(expected_first)]) == expected_first


@pytest.mark.parametrize(
    "facts, fact_reason",
    [
        ({"security_issue": True}, "account_security"),
        ({"abnormal_transactions": True}, "abnormal_activity"),
    ],
)
def test_limit_closed_raises_security_and_abnormal(facts: dict, fact_reason: str) -> None:
    closed = reason_scores("limit_closed", facts)[fact_reason]
    dropped = reason_scores("limit_dropped", facts)[fact_reason]
    assert closed > dropped


@pytest.mark.parametrize("topic, facts", FACT_TABLE)
def test_payload_matches_contract(topic: str, facts: dict) -> None:
    payload = rank_advice(topic, facts).payload()
    assert list(payload) == ["advice"]
    body = payload["advice"]
    assert {"topic", "reasons", "steps"} <= set(body) <= {"topic", "reasons", "steps", "situation", "wording"}
    assert body["topic"] == topic
    assert body["situation"] in SITUATIONS
    assert isinstance(body["reasons"], list) and isinstance(body["steps"], list)
    knowledge = load_advice_knowledge()
    assert set(body["reasons"]) <= set(knowledge["reasons"])
    assert set(body["steps"]) <= set(knowledge["steps"])
    assert 1 <= len(body["reasons"]) <= MAX_REASONS
    assert 1 <= len(body["steps"]) <= MAX_STEPS
    assert len(set(body["steps"])) == len(body["steps"])


@pytest.mark.parametrize("topic, facts", FACT_TABLE)
def test_deterministic(topic: str, facts: dict) -> None:
    reordered = dict(reversed(list(facts.items())))
    first, second = rank_advice(topic, facts), rank_advice(topic, reordered)
    assert first == second
    assert first.payload() == second.payload()


@pytest.mark.parametrize("topic, facts", FACT_TABLE)
def test_every_returned_reason_has_an_explanation(topic: str, facts: dict) -> None:
    advice = rank_advice(topic, facts)
    assert set(advice.explanations) == set(advice.reasons)
    assert all(text.strip() for text in advice.explanations.values())


@pytest.mark.parametrize("days", [12.0, 45.0])
def test_explanation_quotes_the_users_number(days: float) -> None:
    advice = rank_advice("cannot_borrow", {"has_overdue": True, "overdue_days": days, "debt_ratio": 75.0})
    assert "75" in advice.explanations["high_debt"]
    if days >= 30:
        assert str(int(days)) in advice.explanations["overdue"]


def test_contract_codes_are_used() -> None:
    knowledge = load_advice_knowledge()
    assert set(REASONS) <= set(knowledge["reasons"])
    assert set(STEPS) <= set(knowledge["steps"])


def test_unknown_topic_is_rejected() -> None:
    with pytest.raises(ValueError):
        rank_advice("weather", {})


def test_a_bad_credit_record_alone_leads_with_the_credit_report():
    advice = rank_advice("cannot_borrow", {"has_overdue": False, "credit_report_issue": True})
    assert advice.reasons[0] == "credit_report" and advice.steps[0] == "check_credit_report"


@pytest.mark.parametrize(
    "days, first, step", [(3.0, "risk_control", "wait_and_retry"), (40.0, "observation_period", "keep_active")]
)
def test_how_long_a_clean_refusal_lasted_decides_between_platform_causes(days, first, step):
    advice = rank_advice("cannot_borrow", {"has_overdue": False, "debt_ratio": 10.0, "symptom_days": days})
    assert advice.reasons[0] == first and step in advice.steps[:2]


def test_duration_does_not_outweigh_a_personal_cause():
    advice = rank_advice("cannot_borrow", {"recent_applications": True, "symptom_days": 3.0})
    assert advice.reasons[0] == "multi_loan"


@pytest.mark.parametrize(
    "facts, explained",
    [
        ({"has_overdue": True}, True),
        ({"debt_ratio": 55.0}, True),
        ({"debt_ratio": 45.0}, False),
        ({"security_issue": True}, True),
        ({"has_overdue": "unknown"}, False),
        ({"symptom_days": 3.0}, False),
        ({}, False),
    ],
)
def test_explains(facts, explained):
    from advisor.engine import explains

    assert explains("cannot_borrow", facts) is explained


@pytest.mark.parametrize(
    ("topic", "facts"),
    [
        ("cannot_borrow", CLEAN | {"symptom_days": 3.0}),  # 「没有明显的个人风险信号」 behind every reason
        ("cannot_borrow", {"has_overdue": True, "overdue_days": 10.0}),  # the overdue behind two
    ],
)
def test_an_answer_is_quoted_once_in_front_of_the_first_reason_it_supports(topic: str, facts: dict) -> None:
    advice = rank_advice(topic, facts)
    why = {code: load_advice_knowledge()["reasons"][code]["why"] for code in advice.reasons}
    quotes = [advice.explanations[code][: -len(why[code])] for code in advice.reasons]
    assert quotes[0], "the first reason says which answer it comes from"
    said = [quote for quote in quotes if quote]
    assert len(said) == len(set(said)), quotes
