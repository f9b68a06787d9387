"""Issue 30: the diagnosis hears every cause and weighs the advice by the situation.

Simulated users over REST against the running bot; each asserts the slots the conversation
filled and the advice payload, not only the text.
"""

from __future__ import annotations

import uuid
from typing import Dict, List, Optional, Tuple

import pytest

from devtools.local_bot import Bot
from tests.default_answers import DEFAULT_ANSWERS
from tests.replies import advice_payload, texts
from tests.unit.test_choices_in_words import PHRASINGS, SLOT_OF


def new_sender() -> str:
    return f"whole-{uuid.uuid4().hex[:12]}"


def play(bot: Bot, messages: List[str], answers: Optional[Dict[str, str]] = None) -> Tuple[str, dict, List[str], str]:
    """Sends `messages`, then answers every question still open (answers, else the defaults).
    Returns (sender, advice payload, questions asked, the advice text)."""
    sender = new_sender()
    asked: List[str] = []
    replies: List[dict] = []
    for message in messages:
        question = bot.tracker(sender)["slots"].get("requested_slot") if asked or replies else None
        if question:
            asked.append(question)
        replies = bot.send(sender, message)
    for _ in range(7):
        payload = advice_payload(replies)
        if payload is not None:
            return sender, payload, asked, texts(replies)
        question = bot.tracker(sender)["slots"].get("requested_slot")
        assert question, f"no advice and no question after {asked}: {texts(replies)}"
        asked.append(question)
        replies = bot.send(sender, {**DEFAULT_ANSWERS, **(answers or {})}[question])
    pytest.fail(f"the diagnosis did not finish; asked {asked}")


def test_every_cause_is_asked_and_all_come_out_ranked(bot: Bot) -> None:
    sender, payload, asked, _ = play(
        bot, ["借呗借不出来了", "有", "一周左右，信用卡", "月收入一万，每个月要还六千", "有，申请了三个"]
    )
    slots = bot.tracker(sender)["slots"]
    assert (slots["has_overdue"], slots["overdue_days"], slots["debt_ratio"], slots["recent_applications"]) == (
        True,
        7.0,
        60.0,
        True,
    )
    assert asked[:4] == ["has_overdue", "overdue_days", "debt_ratio", "recent_applications"], asked
    assert len(asked) <= 6
    assert {"overdue", "high_debt", "multi_loan"} <= set(payload["reasons"]), payload
    assert {"repay_on_time", "reduce_debt"} <= set(payload["steps"]), payload


def test_a_correction_during_the_debt_question_does_not_end_the_questions(bot: Bot) -> None:
    sender = new_sender()
    for message in ("借呗借不出来了", "没有"):
        bot.send(sender, message)
    reply = texts(bot.send(sender, "不对，我上个月其实逾期过三天"))
    slots = bot.tracker(sender)["slots"]
    assert (slots["has_overdue"], slots["overdue_days"]) == (True, 3.0)
    assert slots["requested_slot"] == "debt_ratio" and "回到刚才的问题" in reply, reply
    assert advice_payload(bot.send(sender, "两成")) is None
    assert bot.tracker(sender)["slots"]["requested_slot"] == "recent_applications"


def test_a_short_overdue_already_repaid_is_kept_up_not_repaid_first(bot: Bot) -> None:
    sender, payload, asked, text = play(bot, ["借呗为什么借不出来", "我上个月逾期了两天，已经还了"])
    slots = bot.tracker(sender)["slots"]
    assert (slots["has_overdue"], slots["overdue_days"], slots["overdue_repaid"]) == (True, 2.0, True)
    assert "debt_ratio" in asked and "recent_applications" in asked
    assert payload["wording"] == {"repay_on_time": "repaid"} and "repay_on_time" in payload["steps"]
    assert "保持按时还款" in text and "先还清逾期" not in text and "尽快把逾期的钱还上" not in text, text


@pytest.mark.parametrize(
    "messages",
    [
        ["借呗被冻结了", "有", "三个月"],
        ["借呗额度没了", "信用卡逾期了四十多天"],
    ],
)
def test_a_decisive_overdue_or_closed_limit_takes_months_not_days(bot: Bot, messages: List[str]) -> None:
    sender, payload, asked, text = play(bot, messages)
    assert payload["situation"] == "long_path" and payload["reasons"][0] == "overdue", payload
    assert payload["steps"][-1] == "wait_and_retry"
    assert "以月为单位" in text and "几天到一周" not in text, text
    # A decisive overdue ends the questions: nothing after its length.
    assert set(asked) <= {"has_overdue", "overdue_days"}, asked


def test_a_few_days_with_nothing_personal_waits_days_without_retrying(bot: Bot) -> None:
    sender, payload, asked, text = play(bot, ["借呗有额度为什么借不出来"], {"symptom_days": "就这两天"})
    assert payload["situation"] == "transient" and payload["reasons"][0] == "risk_control", payload
    assert "symptom_days" in asked
    assert "几天到一周" in text and "别反复点借款" in text, text


# One phrasing of each option, typed at the multiple-choice question.
WORDED_ANSWERS = [(title, texts_[0 if i % 2 == 0 else 2]) for i, (title, texts_) in enumerate(PHRASINGS.items())]


@pytest.mark.parametrize("title, answer", WORDED_ANSWERS)
def test_the_multiple_choice_question_answered_in_words(bot: Bot, title: str, answer: str) -> None:
    sender = new_sender()
    for message in ("借呗额度怎么突然降了", "没有", "两成", "没有"):
        bot.send(sender, message)
    assert bot.tracker(sender)["slots"]["requested_slot"] == "recent_events"
    replies = bot.send(sender, answer)
    slots = bot.tracker(sender)["slots"]
    assert slots[SLOT_OF[title]] is True, (answer, slots)
    assert slots["recent_events"] == "answered"
    payload = advice_payload(replies)
    assert payload is not None and payload["topic"] == "limit_dropped", texts(replies)


@pytest.mark.parametrize("answer", ["有的", "第六个", "嗯嗯"])
def test_an_answer_naming_no_option_is_asked_again_not_guessed(bot: Bot, answer: str) -> None:
    sender = new_sender()
    for message in ("借呗额度怎么突然降了", "没有", "两成", "没有"):
        bot.send(sender, message)
    reply = texts(bot.send(sender, answer))
    slots = bot.tracker(sender)["slots"]
    assert slots["requested_slot"] == "recent_events", reply
    assert all(slots[slot] is None for slot in set(SLOT_OF.values())), slots
    assert "抱歉，我没看懂" in reply, reply


# --- people who do not have Jiebei (point 4) ------------------------------------------------------


def test_wanting_jiebei_has_its_own_opening_and_a_second_message_continues(bot: Bot) -> None:
    sender = new_sender()
    first = texts(bot.send(sender, "我想开通借呗"))
    slots = bot.tracker(sender)["slots"]
    assert slots["diagnosis_topic"] == "not_opened" and slots["requested_slot"] == "has_overdue", slots
    assert "综合信用评估" in first and "额度变成零" not in first, first
    second = texts(bot.send(sender, "为什么我没有借呗"))
    slots = bot.tracker(sender)["slots"]
    assert "这正是我们在看的问题" in second, second
    assert "综合信用评估" not in second and "我问您几个问题" not in second, second
    assert slots["diagnosis_topic"] == "not_opened" and slots["requested_slot"] == "has_overdue"
    assert "回到刚才的问题" in second


def test_without_jiebei_and_nothing_personal_the_advice_is_where_to_look_and_what_counts(bot: Bot) -> None:
    sender, payload, asked, text = play(bot, ["为什么我没有借呗"])
    assert payload["topic"] == "not_opened" and payload["situation"] == "not_offered", payload
    assert payload["reasons"][0] == "not_offered"
    assert {"check_account_status", "keep_active", "update_profile"} <= set(payload["steps"]), payload
    assert not {"wait_and_retry", "smaller_amount", "alternatives"} & set(payload["steps"]), payload
    assert payload["wording"].get("check_account_status") == "not_opened"
    assert "\n从您的回答看，没有明显影响评估的个人问题。" in text, text
    assert "借了小额" not in text and "额度管理" not in text, text
    assert "支付宝 → 我的 → 借呗" in text and "额度调整原因" not in text, text
    assert {"has_overdue", "debt_ratio", "account_inactive", "recent_applications"} <= set(asked), asked
    # Asked again after the advice: no new introduction, no new questions.
    again = texts(bot.send(sender, "我想开通借呗"))
    assert "我问您几个问题" not in again and bot.tracker(sender)["slots"]["requested_slot"] is None, again


def test_without_jiebei_a_personal_cause_leads(bot: Bot) -> None:
    sender, payload, asked, text = play(bot, ["申请借呗没通过怎么回事"], {"account_inactive": "是，很少用"})
    assert payload["topic"] == "not_opened" and payload["reasons"][0] == "inactive_account", payload
    assert payload["steps"][0] == "keep_active", payload
    assert "\n借呗开不开放看平台的综合信用评估，从您的回答看，眼下最影响评估的是「支付宝用得太少」。" in text, text
