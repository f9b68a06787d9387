"""The user's situation (advisor/situation.py) and how it weights the advice (advisor/engine.py):
each rule of classify, the long path's steps, and the wording each situation gets."""

from __future__ import annotations

from dataclasses import replace

import pytest

from advisor.contract import BOOL_SLOTS, TOPICS, UNKNOWN
from advisor.engine import MAX_STEPS, rank_advice, situation_of
from advisor.knowledge import load_advice_knowledge
from advisor.render import answer_sentence, render_advice, step_text
from advisor.situation import FACT_WORDINGS, SITUATIONS, SUSPENDED_DAYS, Signals, classify

CLEAN = {slot: False for slot in BOOL_SLOTS} | {"debt_ratio": 10.0}

NOTHING = Signals(
    topic="cannot_borrow",
    closed=False,
    decisive_overdue=False,
    personal_cause=False,
    abnormal_transactions=False,
    symptom_days=None,
    unsure=False,
    complete=True,
)


# --- classify: one rule at a time ------------------------------------------------------------


def test_nothing_personal_and_recent_is_transient() -> None:
    assert classify(NOTHING) == "transient"
    assert classify(replace(NOTHING, symptom_days=SUSPENDED_DAYS - 1)) == "transient"


def test_nothing_personal_for_a_month_is_suspended() -> None:
    assert classify(replace(NOTHING, symptom_days=SUSPENDED_DAYS)) == "suspended"


def test_a_personal_cause_is_personal_whatever_the_duration() -> None:
    assert classify(replace(NOTHING, personal_cause=True, symptom_days=90.0)) == "personal"


@pytest.mark.parametrize("topic", TOPICS)
def test_a_decisive_overdue_is_the_long_path_for_every_topic(topic: str) -> None:
    signals = replace(NOTHING, topic=topic, decisive_overdue=True, personal_cause=True, complete=False)
    assert classify(signals) == "long_path"


def test_a_closed_limit_is_the_long_path_once_diagnosed() -> None:
    closed = replace(NOTHING, topic="limit_closed", closed=True)
    assert classify(closed) == "long_path"
    assert classify(replace(closed, complete=False)) == "undiagnosed"


def test_a_closed_limit_with_abnormal_transactions_is_misuse_even_with_an_overdue() -> None:
    signals = replace(NOTHING, topic="limit_closed", closed=True, abnormal_transactions=True, decisive_overdue=True)
    assert classify(signals) == "misuse"
    # Unusual transactions on a limit that is only lowered are a reason, not a suspected misuse.
    assert classify(replace(signals, topic="limit_dropped", closed=False, decisive_overdue=False)) == "transient"


@pytest.mark.parametrize("change", [{"complete": False}, {"unsure": True}])
def test_no_transient_verdict_while_an_answer_is_missing(change: dict) -> None:
    assert classify(replace(NOTHING, **change)) == "undiagnosed"
    assert classify(replace(NOTHING, symptom_days=60.0, **change)) == "undiagnosed"


def test_every_situation_is_reachable() -> None:
    signals = [
        replace(NOTHING, topic="limit_closed", closed=True, abnormal_transactions=True),
        replace(NOTHING, decisive_overdue=True),
        replace(NOTHING, personal_cause=True),
        replace(NOTHING, symptom_days=SUSPENDED_DAYS),
        NOTHING,
        replace(NOTHING, unsure=True),
        replace(NOTHING, topic="not_opened"),
    ]
    assert [classify(s) for s in signals] == list(SITUATIONS)


# --- situation_of: the signals read from facts -------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "facts", "wanted"),
    [
        ("cannot_borrow", CLEAN, "transient"),
        ("cannot_borrow", CLEAN | {"symptom_days": 45.0}, "suspended"),
        ("cannot_borrow", CLEAN | {"has_overdue": True, "overdue_days": 3.0}, "personal"),
        ("limit_closed", CLEAN | {"has_overdue": True, "overdue_days": 60.0}, "long_path"),
        ("limit_closed", CLEAN, "long_path"),
        ("limit_closed", CLEAN | {"abnormal_transactions": True}, "misuse"),
        ("cannot_borrow", CLEAN | {"debt_ratio": UNKNOWN}, "undiagnosed"),
        ("restore_limit", CLEAN | {"has_overdue": True, "overdue_days": 30.0}, "long_path"),
    ],
)
def test_situation_of_reads_the_facts(topic: str, facts: dict, wanted: str) -> None:
    assert situation_of(topic, facts) == wanted


def test_asking_whether_a_closed_limit_can_come_back_keeps_the_weight_of_the_closed_limit() -> None:
    misuse = CLEAN | {"abnormal_transactions": True}
    assert situation_of("restore_limit", misuse) == "personal"
    assert situation_of("restore_limit", misuse, closed=True) == "misuse"
    assert situation_of("restore_limit", CLEAN, closed=True) == "long_path"
    assert rank_advice("restore_limit", misuse, closed=True).situation == "misuse"


def test_situation_of_an_unfinished_diagnosis_waits_for_the_answers() -> None:
    assert situation_of("cannot_borrow", CLEAN, complete=False) == "undiagnosed"
    assert situation_of("cannot_borrow", {"overdue_days": 60.0}, complete=False) == "long_path"


# --- the long path --------------------------------------------------------------------------

LONG_PATH = load_advice_knowledge()["situations"]["long_path"]["steps"]


def test_closed_after_a_two_month_overdue_gets_the_articles_path_in_order() -> None:
    advice = rank_advice("limit_closed", CLEAN | {"has_overdue": True, "overdue_days": 60.0})
    assert advice.situation == "long_path"
    assert advice.reasons[0] == "overdue"
    assert advice.steps == tuple(LONG_PATH)
    text = render_advice(advice)
    # The transient wording (retry in a few days) is not what this user reads.
    assert "隔几天到一周再试" not in text
    assert "几个月" in text and "约半年" in text


def test_the_long_path_without_an_overdue_drops_repaying_and_the_credit_check() -> None:
    advice = rank_advice("limit_closed", CLEAN)
    assert advice.situation == "long_path"
    assert "repay_on_time" not in advice.steps
    assert "check_credit_report" not in advice.steps
    assert advice.steps[-1] == LONG_PATH[-1]


def test_the_articles_overdue_case_is_cited_only_when_an_overdue_is_the_likeliest_reason() -> None:
    case = load_advice_knowledge()["situations"]["long_path"]["case"]
    overdue = rank_advice("limit_closed", CLEAN | {"has_overdue": True, "overdue_days": 60.0})
    no_overdue = rank_advice("limit_closed", CLEAN | {"account_inactive": True})
    assert no_overdue.situation == "long_path" and no_overdue.reasons[0] != "overdue"
    assert answer_sentence(overdue).endswith(case)
    assert case not in render_advice(no_overdue)
    assert "要以月计" in answer_sentence(no_overdue)


def test_a_closed_limit_after_a_security_problem_still_starts_with_the_account() -> None:
    advice = rank_advice("limit_closed", CLEAN | {"security_issue": True})
    assert advice.situation == "long_path"
    assert advice.steps[0] in {"secure_account", "check_account_status", "appeal_support"}
    assert "secure_account" in advice.steps
    assert advice.steps[-1] == "wait_and_retry"
    assert len(advice.steps) <= MAX_STEPS


@pytest.mark.parametrize("facts", [CLEAN, CLEAN | {"security_issue": True}, {"overdue_days": 90.0}])
def test_the_long_path_has_no_step_twice_and_ends_with_the_re_evaluation(facts: dict) -> None:
    advice = rank_advice("limit_closed", facts)
    assert len(set(advice.steps)) == len(advice.steps)
    assert advice.steps[-1] == "wait_and_retry"


# --- wording by situation --------------------------------------------------------------------


def test_each_variant_is_worded_for_its_situation_and_the_rest_keep_the_base_text() -> None:
    steps = load_advice_knowledge()["steps"]
    for code, step in steps.items():
        variants = step.get("variants") or {}
        for situation in SITUATIONS:
            text = step_text(code, situation)
            if situation in variants:
                assert text["detail"] == variants[situation].get("detail", step["detail"])
                assert text != step_text(code, "transient") or "transient" in variants
            elif "transient" not in variants:
                assert text["detail"] == step["detail"] and text["title"] == step["title"]


def test_waiting_is_weighted_by_the_situation() -> None:
    transient = step_text("wait_and_retry", "transient")["detail"]
    long_path = step_text("wait_and_retry", "long_path")["detail"]
    assert "几天到一周" in transient and "几天到一周" not in long_path
    assert "几个月" in long_path


def test_every_variant_notes_its_source() -> None:
    for code, step in load_advice_knowledge()["steps"].items():
        for situation, variant in (step.get("variants") or {}).items():
            assert situation in SITUATIONS + FACT_WORDINGS, (code, situation)
            assert set(variant["sources"]) <= {"A", "B"}, (code, situation)


# --- wording by a fact: a short overdue already repaid (issue 30) ------------------------------

REPAID = {"has_overdue": True, "overdue_days": 2.0, "overdue_repaid": True, "debt_ratio": 20.0}


@pytest.mark.parametrize("topic", TOPICS)
def test_a_short_overdue_already_repaid_is_kept_up_not_repaid_first(topic: str) -> None:
    advice = rank_advice(topic, REPAID)
    text = render_advice(advice)
    assert advice.variant("repay_on_time") == "repaid" and advice.payload()["advice"]["wording"] == {
        "repay_on_time": "repaid"
    }
    assert step_text("repay_on_time", "repaid")["title"] in text
    assert "先还清逾期" not in text and "尽快把逾期的钱还上" not in text


@pytest.mark.parametrize(
    "facts",
    [
        {"has_overdue": True, "overdue_days": 2.0},  # not said to be repaid
        {"has_overdue": True, "overdue_days": 2.0, "overdue_repaid": False},
        {"has_overdue": False, "overdue_repaid": True},  # 「借呗还清了」 without an overdue
    ],
)
def test_an_overdue_not_said_to_be_repaid_is_repaid_first(facts: dict) -> None:
    advice = rank_advice("cannot_borrow", facts)
    assert advice.wording == {}
    if "repay_on_time" in advice.steps:
        assert step_text("repay_on_time", advice.variant("repay_on_time"))["title"].startswith("先还清逾期")


def test_a_decisive_overdue_repaid_still_takes_months_without_repaying_again() -> None:
    advice = rank_advice("cannot_borrow", {"has_overdue": True, "overdue_days": 60.0, "overdue_repaid": True})
    assert advice.situation == "long_path" and advice.reasons[0] == "overdue"
    assert advice.wording == {"repay_on_time": "repaid"}
    assert "几个月" in step_text("wait_and_retry", advice.variant("wait_and_retry"))["detail"]


def test_a_repaid_short_overdue_weighs_less_than_a_high_debt() -> None:
    facts = {"has_overdue": True, "overdue_days": 3.0, "debt_ratio": 65.0}
    assert rank_advice("cannot_borrow", facts).reasons[0] == "overdue"
    assert rank_advice("cannot_borrow", {**facts, "overdue_repaid": True}).reasons[0] == "high_debt"
