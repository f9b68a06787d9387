"""Answers in words to the multiple-choice question 「最近有没有下面这些情况？」 (issue 30).

A typed answer is read by the same fact layer as every other message (advisor.facts, which the
SituationExtractor runs on each message; its facts fill the slots the options stand for): at
least five phrasings per option, several options in one message, and a message naming none of
them is not guessed (the form asks again).
"""

from __future__ import annotations

from typing import Dict, List

import pytest

from advisor.answers import interpret_choices
from advisor.facts import extract_facts
from advisor.knowledge import load_diagnosis_config
from advisor.planner import open_options

OPTIONS = load_diagnosis_config()["recent_events"]["options"]
OPTION_SLOTS = {option["slot"] for option in OPTIONS}

# Option title → how people answer with it, in their own words.
PHRASINGS: Dict[str, List[str]] = {
    "很长时间很少用支付宝": [
        "我很少用支付宝",
        "支付宝基本不用，平时都用微信",
        "好久没用支付宝了",
        "一年多没登录过支付宝",
        "支付宝用得少",
        "第一个，支付宝用得很少",
        "支付宝一直闲置着",
    ],
    "账户有大额或说不清来源的资金进出": [
        "上个月有一笔二十万的钱转进来又马上转出去了",
        "最近有大额转账",
        "收到一笔来历不明的钱",
        "朋友给我打了五万块钱又转走了",
        "帮朋友走过账",
        "账户里进出的钱比较多",
        "有笔大钱进出",
        "转进来十万又转出去了",
    ],
    "账号被盗过、密码泄露或有陌生设备登录": [
        "账号被盗过",
        "密码泄露了",
        "有陌生手机登录过我的账号",
        "被人盗号了",
        "收到过异地登录的提醒",
        "手机丢了，支付宝被别人登过",
    ],
    "实名认证没完成，或身份证过期了": [
        "实名认证还没弄完",
        "身份证过期了",
        "没有实名认证",
        "实名没通过",
        "身份证换了新的还没更新",
        "身份证到期了还没换",
    ],
    "征信报告上有不良记录或错误信息": [
        "征信有不良记录",
        "征信上有错误信息",
        "征信花了",
        "人行征信有污点",
        "征信报告上有一条不是我的贷款",
        "征信不好",
    ],
}
SLOT_OF = {option["title"]: option["slot"] for option in OPTIONS}
CASES = [(title, text) for title, texts in PHRASINGS.items() for text in texts]


def test_every_option_has_at_least_five_phrasings() -> None:
    assert set(PHRASINGS) == set(SLOT_OF)
    assert all(len(texts) >= 5 for texts in PHRASINGS.values())


@pytest.mark.parametrize("title, text", CASES)
def test_an_answer_in_words_picks_its_option_and_no_other(title: str, text: str) -> None:
    facts = extract_facts(text)
    assert facts.get(SLOT_OF[title]) is True, facts
    assert {slot for slot in OPTION_SLOTS if facts.get(slot) is True} == {SLOT_OF[title]}, facts


@pytest.mark.parametrize(
    "text, slots",
    [
        ("很少用支付宝，而且前阵子账号被盗过", {"account_inactive", "security_issue"}),
        ("征信花了，账户里还有大额转账", {"credit_report_issue", "abnormal_transactions"}),
        ("好久没用支付宝了，身份证也过期了", {"account_inactive", "security_issue"}),
    ],
)
def test_several_options_in_one_message(text: str, slots: set) -> None:
    facts = extract_facts(text)
    assert {slot for slot in OPTION_SLOTS if facts.get(slot) is True} == slots, facts


@pytest.mark.parametrize("text", ["嗯", "我也说不清楚怎么回事", "这些是什么意思", "都有一点", "借呗到底怎么了"])
def test_a_message_naming_no_option_is_not_guessed(text: str) -> None:
    facts = extract_facts(text)
    assert not {slot for slot in OPTION_SLOTS if facts.get(slot) is not None}, facts
    assert interpret_choices(open_options({}, ()), text, "inform").kind in ("unclear", "unknown")


@pytest.mark.parametrize(
    "text, slot",
    [
        ("支付宝天天都在用", "account_inactive"),
        ("账户很安全，没被盗过", "security_issue"),
        ("征信没有不良记录", "credit_report_issue"),
    ],
)
def test_a_no_in_words_is_a_no_not_a_yes(text: str, slot: str) -> None:
    assert extract_facts(text).get(slot) is False
