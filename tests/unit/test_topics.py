"""Which topic a limit question starts: not having Jiebei at all is a topic of its own (issue 30)."""

from __future__ import annotations

import pytest

from advisor.topics import NOT_OPENED, diagnosis_topic, has_no_jiebei

NO_JIEBEI = [
    "我想开通借呗",
    "为什么我没有借呗",
    "怎么开通蚂蚁借呗",
    "借呗怎么开通",
    "我的支付宝里边为什么没有借呗",
    "有花呗没有借呗",
    "为什么我天天用支付宝，而我没有借呗",
    "申请借呗没通过怎么回事",
    "我想申请蚂蚁借呗",
    "为什么无法申请借呗",
    "借呗开通不了",
    "蚂蚁借呗申请不了怎么办",
    "开通借呗提示账户有风险",
    "借呗有什么年龄限制",
    "借呗的开通门槛高吗",
    "借呗的开通条件是什么",
    "怎么才能有借呗",
    "我是个商户为什么没有借呗",
]
HAS_OR_HAD_JIEBEI = [
    "借呗被关闭了",
    "为什么突然没有借呗的额度了",
    "我没有借呗额度",
    "换了个手机怎么没有借呗了",
    "借呗开通了不能用怎么回事",
    "以开通蚂蚁借呗为何借不到钱",
    "关闭后如何重新开通借呗",
    "借呗被关了，怎么再开通借呗",
    "有人说能帮我开通借呗收费",
    "代开通借呗",
    "可以申请借呗主动提额吗",
    "申请借呗额度恢复",
    "借呗额度怎么突然降了",
    "借呗有额度但是借不出来",
    "花呗怎么开通",
]


@pytest.mark.parametrize("text", NO_JIEBEI)
def test_not_having_jiebei_at_all(text: str) -> None:
    assert has_no_jiebei(text)


@pytest.mark.parametrize("text", HAS_OR_HAD_JIEBEI)
def test_a_jiebei_that_was_there_is_not_this_topic(text: str) -> None:
    assert not has_no_jiebei(text)


@pytest.mark.parametrize("intent", ["ask_limit_closed", "ask_cannot_borrow", "ask_limit_dropped"])
def test_any_limit_question_about_not_having_jiebei_takes_its_topic(intent: str) -> None:
    assert diagnosis_topic(intent, "为什么我没有借呗") == NOT_OPENED


def test_other_limit_questions_keep_their_intents_topic() -> None:
    assert diagnosis_topic("ask_limit_closed", "借呗被关闭了") == "limit_closed"
    assert diagnosis_topic("ask_increase_limit", "借呗怎么提额") == "increase_limit"


@pytest.mark.parametrize("intent", ["ask_boost_service", "out_of_scope", None])
def test_no_topic_for_other_intents(intent: object) -> None:
    assert diagnosis_topic(intent, "我想开通借呗") is None  # type: ignore[arg-type]
