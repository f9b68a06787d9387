"""Homophones of domain terms (pypinyin) and masked numbers in advisor.normalize (issue 8)."""

from __future__ import annotations

import pytest

from advisor.normalize import TYPOS, normalize_text


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("怎么开同花呗", "怎么开通花呗"),  # 开同 kai tong
        ("蚂蚁借呗，昨天可以审请", "蚂蚁借呗，昨天可以申请"),  # 审请 shen qing
        ("借呗额度怎么恢付", "借呗额度怎么恢复"),
        ("借呗综合评古未通过", "借呗综合评估未通过"),
        ("网商代可以吗", "网商贷可以吗"),
        ("支付宝克服电话", "支付宝客服电话"),
        ("转仁工", "转人工"),
        ("花呗预期几天", "花呗逾期几天"),
        ("借呗被东结了", "借呗被冻结了"),
        ("我要换款", "我要还款"),  # typos.yml: pypinyin reads 还款 as hai kuan
    ],
)
def test_homophones_of_domain_terms_are_fixed(typed, expected):
    assert normalize_text(typed) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我会付款的",  # 会付 reads like 恢复: an exception
        "请回复我",
        "中介说能解冻借呗要收手续费",  # 冻借 reads like 冻结, but 解冻 and 借呗 are whole words
        "借呗显示额度0元",
        "我还有钱",
        "我在开车",
    ],
)
def test_ordinary_words_are_left_alone(text):
    assert normalize_text(text) == text


def test_replacements_keep_the_length_and_are_idempotent():
    text = "借呗综合评古未通过，网商代呢，转仁工"
    once = normalize_text(text)
    assert len(once) == len(text)
    assert normalize_text(once) == once


def test_every_term_is_chinese_and_listed_once():
    terms = TYPOS.homophone_terms
    assert terms and len(set(terms)) == len(terms)
    assert all(all("\u4e00" <= ch <= "\u9fff" for ch in term) for term in terms)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("为什么额度从***降到***了", "为什么额度从几降到几了"),
        ("花呗＊＊＊期免息", "花呗几期免息"),
        ("a*b**c", "a*b**c"),  # one or two asterisks are not a mask
    ],
)
def test_masked_numbers_read_as_some_number(text, expected):
    assert normalize_text(text) == expected
