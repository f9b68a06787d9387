"""Questions after the advice (advisor/followup_answers.py): the answer first, for this user,
the advice above referred to by its step numbers and not sent again."""

from __future__ import annotations

import pytest

from advisor.contract import BOOL_SLOTS
from advisor.engine import rank_advice
from advisor.followup import Shown, paragraphs
from advisor.followup_answers import (
    asks_about_effect,
    asks_how,
    credit_report_answer,
    next_step_answer,
    reason_answer,
    stray_reply,
)
from advisor.knowledge import load_advice_knowledge
from advisor.render import render_advice, step_text

TEXTS = load_advice_knowledge()["followups"]
CLEAN = {slot: False for slot in BOOL_SLOTS} | {"debt_ratio": 10.0}
OVERDUE = CLEAN | {"has_overdue": True, "overdue_days": 60.0}


def test_what_to_do_first_names_the_first_step_shown_and_then_the_second() -> None:
    advice = rank_advice("limit_closed", OVERDUE)
    text = next_step_answer(Shown.of(advice), in_diagnosis=False)
    assert text is not None
    first, then = text.splitlines()
    assert first.startswith("先")
    assert "第 1 步" in first and step_text(advice.steps[0], advice.variant(advice.steps[0]))["title"] in first
    assert "第 2 步" in then and step_text(advice.steps[1], advice.variant(advice.steps[1]))["title"] in then


def test_what_to_do_first_follows_the_order_shown_not_a_new_ranking() -> None:
    advice = rank_advice("cannot_borrow", CLEAN | {"debt_ratio": 70.0})
    shown = Shown(advice.topic, advice.situation, advice.reasons, tuple(reversed(advice.steps)))
    text = next_step_answer(shown, in_diagnosis=False) or ""
    assert text.splitlines()[0] == TEXTS["next_step"]["first"].format(
        title=step_text(shown.steps[0], shown.situation)["title"]
    )


def test_what_to_do_first_repeats_no_paragraph_of_the_advice() -> None:
    advice = rank_advice("limit_dropped", OVERDUE)
    sent = paragraphs([render_advice(advice)])
    text = next_step_answer(Shown.of(advice), in_diagnosis=False) or ""
    assert text and not paragraphs([text]) & sent


def test_what_to_do_first_with_a_single_step_says_only_that_one() -> None:
    shown = Shown("cannot_borrow", "transient", (), ("wait_and_retry",))
    text = next_step_answer(shown, in_diagnosis=False) or ""
    assert len(text.splitlines()) == 1 and "第 2 步" not in text


def test_what_to_do_first_before_any_advice() -> None:
    assert next_step_answer(None, in_diagnosis=True) == TEXTS["next_step"]["before_advice"]
    assert next_step_answer(None, in_diagnosis=False) is None  # the general answer (faq.yml)


@pytest.mark.parametrize("text", ["影响征信吗", "会不会上征信", "这个会留下不良记录吗", "逾期对征信有影响吗"])
def test_effect_questions_are_told_apart(text: str) -> None:
    assert asks_about_effect(text)


@pytest.mark.parametrize("text", ["怎么查征信", "征信在哪里查", "征信报告怎么看"])
def test_how_to_check_is_not_an_effect_question(text: str) -> None:
    assert not asks_about_effect(text)
    assert credit_report_answer(text, OVERDUE, None) is None


def test_an_overdue_user_is_told_it_can_show_and_pointed_to_the_advice_step() -> None:
    advice = rank_advice("limit_closed", OVERDUE)
    assert "check_credit_report" in advice.steps
    text = credit_report_answer("影响征信吗", OVERDUE, Shown.of(advice)) or ""
    first, check = text.splitlines()
    assert first == TEXTS["credit_report_effect"]["overdue"]
    number = advice.steps.index("check_credit_report") + 1
    assert check == TEXTS["credit_report_effect"]["check_step"].format(number=number)


def test_a_user_without_an_overdue_is_told_an_adjusted_limit_is_not_one() -> None:
    advice = rank_advice("limit_dropped", CLEAN)
    text = credit_report_answer("会影响征信吗", CLEAN, Shown.of(advice)) or ""
    assert text.startswith(TEXTS["credit_report_effect"]["clean"])
    if "check_credit_report" not in advice.steps:
        assert text.endswith(TEXTS["credit_report_effect"]["check"])


@pytest.mark.parametrize("overdue", [None, "unknown"])
def test_an_unknown_overdue_gets_the_general_answer(overdue: object) -> None:
    assert credit_report_answer("影响征信吗", CLEAN | {"has_overdue": overdue}, None) is None


def test_why_me_names_the_likeliest_reason_as_numbered_above_and_the_others() -> None:
    advice = rank_advice("limit_closed", OVERDUE)
    assert len(advice.reasons) >= 2
    text = reason_answer(Shown.of(advice), in_diagnosis=False) or ""
    reasons = load_advice_knowledge()["reasons"]
    assert text.startswith(TEXTS["reason"]["personal"].split("{")[0] + reasons[advice.reasons[0]]["title"])
    assert "第 1 个原因" in text and reasons[advice.reasons[1]]["title"] in text
    assert not paragraphs([text]) & paragraphs([render_advice(advice)])  # nothing of the advice again


def test_why_me_with_nothing_personal_says_so_first() -> None:
    facts = CLEAN | {"symptom_days": 2.0, "credit_report_issue": False}
    advice = rank_advice("cannot_borrow", facts)
    assert advice.situation == "transient"
    text = reason_answer(Shown.of(advice), in_diagnosis=False) or ""
    assert text.startswith(TEXTS["reason"]["not_personal"].split("{")[0])


def test_why_me_with_a_single_reason_lists_no_others() -> None:
    shown = Shown("cannot_borrow", "personal", ("high_debt",), ("reduce_debt",))
    text = reason_answer(shown, in_diagnosis=False) or ""
    assert TEXTS["reason"]["others_list"].split("{")[0] not in text


def test_why_me_before_any_advice() -> None:
    assert reason_answer(None, in_diagnosis=True) == TEXTS["reason"]["before_advice"]
    assert reason_answer(None, in_diagnosis=False) is None


@pytest.mark.parametrize(
    "intent, offered, last_was_offer, said_goodbye, expected",
    [
        ("deny", False, False, False, "offer"),  # 「没有」 after the advice
        ("deny", True, True, False, "goodbye"),  # 「都没有」 right after the offer
        ("affirm", True, True, False, "goodbye"),  # 「好的」 right after the offer
        ("dont_know", True, True, False, "ack"),  # not a reply to the offer
        ("affirm", True, False, False, "ack"),  # the offer is never sent twice
        ("deny", True, True, True, "ack"),  # nor goodbye
        ("affirm", False, False, True, "ack"),
    ],
)
def test_a_stray_answer_is_read_as_the_reply_to_the_last_offer(
    intent: str, offered: bool, last_was_offer: bool, said_goodbye: bool, expected: str
) -> None:
    assert stray_reply(intent, offered, last_was_offer, said_goodbye) == expected


@pytest.mark.parametrize(
    "text, how", [("要怎么做才能恢复", True), ("如何恢复额度", True), ("还能恢复吗", False), ("多久能恢复", False)]
)
def test_a_how_question_is_told_from_a_whether_question(text: str, how: bool) -> None:
    assert asks_how(text) is how
