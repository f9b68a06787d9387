"""Limit questions about another product, and requests to close or lower one's own Jiebei, are
out of scope (advisor/scope.py and the ScopeGuard component that applies it after the classifiers)."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from advisor.facts import find_products
from advisor.normalize import normalize_text
from advisor.scope import JIEBEI_LIMIT_INTENTS, about_another_product, asks_to_stop_own_jiebei, scoped_intent
from components.scope_guard import ScopeGuard


def products(text: str) -> list[str]:
    return [name for name, _, _ in find_products(text)]


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("我的花呗额度被冻结了", "ask_limit_closed", "out_of_scope"),
        ("网商贷额度降了", "ask_limit_dropped", "out_of_scope"),
        ("蚂蚁借呗额度被冻结了", "ask_limit_closed", "ask_limit_closed"),
        ("借呗额度降了", "ask_limit_dropped", "ask_limit_dropped"),
        ("额度怎么没了", "ask_limit_closed", "ask_limit_closed"),  # no product named: Jiebei
        ("花呗还清了借呗还是用不了", "ask_cannot_borrow", "ask_cannot_borrow"),  # both named
        ("有额度借不了，我信用卡上个月逾期了", "ask_cannot_borrow", "ask_cannot_borrow"),  # context
        ("花呗逾期影响征信吗", "ask_credit_report", "ask_credit_report"),  # not a limit intent
        ("借唄額度沒了", "ask_limit_closed", "ask_limit_closed"),  # traditional spelling is Jiebei
    ],
)
def test_scoped_intent(text, intent, expected):
    assert scoped_intent(intent, products(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我想把借呗关掉",
        "请帮我关闭蚂蚁借呗",
        "借呗可以手动调低额度吗",
        "怎样暂停使用借呗",
        "给我注销借呗",
        "能不能降低我的借呗额度",
        "借唄怎麼關閉",
    ],  # the last one traditional: the rule reads normalised text
)
def test_a_request_to_stop_one_s_own_jiebei_is_out_of_scope(text):
    assert asks_to_stop_own_jiebei(normalize_text(text))
    assert scoped_intent("ask_limit_closed", products(text), normalize_text(text)) == "out_of_scope"


@pytest.mark.parametrize(
    "text",
    [
        "借呗怎么被关闭了",
        "怎么给我关闭了借呗",
        "借呗怎么冻结了",
        "借呗被关闭的原因",
        "额度为什么降低了",
        "自己关掉的借呗怎么重新打开",
        "借呗冻结了怎么解冻",
        "我想知道借呗为什么被冻结",
        "为什么给我关闭借呗",
        "借呗怎么会降低额度",
    ],
)
def test_something_done_to_the_user_stays_a_limit_question(text):
    assert not asks_to_stop_own_jiebei(normalize_text(text))
    assert scoped_intent("ask_limit_closed", products(text), normalize_text(text)) == "ask_limit_closed"


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("信用卡逾期了怎么办", "nlu_fallback", "out_of_scope"),  # 信用卡 is the question's subject
        ("信用卡逾期会坐牢吗", "inform", "out_of_scope"),
        ("花呗逾期了怎么处理", "ask_cannot_borrow", "out_of_scope"),
        ("信用卡逾期了借呗还能用吗", "ask_cannot_borrow", "ask_cannot_borrow"),  # Jiebei comes into it
        ("信用卡逾期了会影响征信吗", "ask_credit_report", "ask_credit_report"),
        ("我信用卡上个月逾期了", "inform", "inform"),  # a statement, not a question
        ("那我现在该怎么办", "ask_next_step", "ask_next_step"),  # no product named
    ],
)
def test_what_to_do_about_another_products_trouble_is_out_of_scope(text, intent, expected):
    assert scoped_intent(intent, products(text), normalize_text(text)) == expected


def test_only_limit_intents_move():
    assert "out_of_scope" not in JIEBEI_LIMIT_INTENTS
    assert not about_another_product([])
    assert about_another_product(["花呗"]) and not about_another_product(["花呗", "借呗"])


def message(text: str, intent: str, ranking: list[tuple[str, float]]) -> Message:
    msg = Message(data={"text": text})
    msg.set("entities", [{"entity": "product", "value": p} for p in products(text)])
    msg.set("intent", {"name": intent, "confidence": ranking[0][1]})
    msg.set("intent_ranking", [{"name": n, "confidence": c} for n, c in ranking])
    return msg


def test_component_moves_a_huabei_limit_question_and_keeps_the_ranking():
    guard = ScopeGuard()
    msg = message("花呗被停了", "ask_limit_closed", [("ask_limit_closed", 0.8), ("out_of_scope", 0.15)])
    guard.process([msg])
    assert msg.get("intent") == {"name": "out_of_scope", "confidence": 1.0}
    assert [r["name"] for r in msg.get("intent_ranking")] == ["out_of_scope", "ask_limit_closed"]


def test_component_resolves_a_fallback_whose_best_guess_is_a_limit_intent():
    guard = ScopeGuard()
    msg = message("花呗被停了怎么开", "nlu_fallback", [("nlu_fallback", 0.45), ("ask_restore_limit", 0.3)])
    guard.process([msg])
    assert msg.get("intent")["name"] == "out_of_scope"


def test_component_moves_a_request_to_close_jiebei():
    guard = ScopeGuard()
    msg = message("帮我把借呗关掉", "ask_limit_closed", [("ask_limit_closed", 0.7), ("out_of_scope", 0.2)])
    guard.process([msg])
    assert msg.get("intent") == {"name": "out_of_scope", "confidence": 1.0}


def test_component_leaves_jiebei_and_unnamed_questions_alone():
    guard = ScopeGuard()
    for text in ("借呗被停了", "额度被停了"):
        msg = message(text, "ask_limit_closed", [("ask_limit_closed", 0.9)])
        guard.process([msg])
        assert msg.get("intent")["name"] == "ask_limit_closed"
    fallback = message("花呗怎么样", "nlu_fallback", [("nlu_fallback", 0.45), ("greet", 0.2)])
    guard.process([fallback])
    assert fallback.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize(
    "ranking, expected",
    [
        # unsure, out_of_scope its best or second reading: a near-domain product question
        ([("nlu_fallback", 0.4), ("out_of_scope", 0.38), ("ask_increase_limit", 0.35)], "out_of_scope"),
        ([("nlu_fallback", 0.4), ("ask_increase_limit", 0.38), ("out_of_scope", 0.35)], "out_of_scope"),
        # unsure between two limit questions: asked again, not sent away
        (
            [("nlu_fallback", 0.4), ("ask_increase_limit", 0.38), ("ask_when_retry", 0.3), ("out_of_scope", 0.2)],
            "nlu_fallback",
        ),
    ],
)
def test_an_unsure_message_goes_out_of_scope_only_when_that_is_a_best_reading(ranking, expected):
    msg = message("借呗最高额度多少", "nlu_fallback", ranking)
    ScopeGuard().process([msg])
    assert msg.get("intent")["name"] == expected


def test_a_sure_limit_question_is_not_moved_by_a_second_out_of_scope_reading():
    msg = message("借呗额度降了", "ask_limit_dropped", [("ask_limit_dropped", 0.6), ("out_of_scope", 0.3)])
    ScopeGuard().process([msg])
    assert msg.get("intent")["name"] == "ask_limit_dropped"
