"""How a reply to one diagnosis question is read (advisor/answers.py)."""

import pytest

from advisor.answers import Answer, check_range, interpret_answer, reconcile_facts


@pytest.mark.parametrize(
    "slot, text, intent, expected",
    [
        ("has_overdue", "有", "affirm", Answer("value", True)),
        ("has_overdue", "有过", "affirm", Answer("value", True)),
        ("has_overdue", "没有", "deny", Answer("value", False)),
        ("has_overdue", "从来没有", "deny", Answer("value", False)),
        ("has_overdue", "嗯", "affirm", Answer("value", True)),
        ("has_overdue", "不清楚", "dont_know", Answer("unknown")),
        ("has_overdue", "忘了", "dont_know", Answer("unknown")),
        ("security_issue", "没有", "deny", Answer("value", False)),
        ("account_inactive", "是的", "affirm", Answer("value", True)),
        ("overdue_days", "一个月", "inform", Answer("value", 30.0)),
        ("overdue_days", "半个月", "inform", Answer("value", 15.0)),
        ("overdue_days", "两个多月", "inform", Answer("value", 60.0)),
        ("overdue_days", "三十多天", "inform", Answer("value", 30.0)),
        ("overdue_days", "-3天", "inform", Answer("invalid", -3.0)),
        ("overdue_days", "不记得了", "dont_know", Answer("unknown")),
        ("debt_ratio", "七成", "inform", Answer("value", 70.0)),
        ("debt_ratio", "一半", "inform", Answer("value", 50.0)),
        ("debt_ratio", "百分之八十", "inform", Answer("value", 80.0)),
        ("debt_ratio", "月收入一万月供六千", "inform", Answer("value", 60.0)),
        ("debt_ratio", "500%", "inform", Answer("invalid", 500.0)),
        ("debt_ratio", "没有", "deny", Answer("value", 0.0)),
        # A question of its own interrupts the form instead of answering it.
        ("debt_ratio", "负债率是什么意思", "ask_debt_ratio", Answer("interruption")),
        ("has_overdue", "怎么查征信", "ask_credit_report", Answer("interruption")),
        ("has_overdue", "有没有别的借钱渠道呢", "ask_alternatives", Answer("interruption")),
        ("has_overdue", "转人工", "request_human", Answer("interruption")),
        # Gibberish, or a yes where a number is needed, is unclear.
        ("debt_ratio", "asdfgh", "nlu_fallback", Answer("unclear")),
        ("overdue_days", "是的", "affirm", Answer("unclear")),
        ("has_overdue", "😀😀😀", "out_of_scope", Answer("unclear")),
        ("has_overdue", "", "nlu_fallback", Answer("unclear")),
    ],
)
def test_interpret_answer(slot, text, intent, expected):
    assert interpret_answer(slot, text, intent) == expected


@pytest.mark.parametrize(
    "slot, value, ok",
    [
        ("debt_ratio", 100, True),
        ("debt_ratio", 100.5, False),
        ("debt_ratio", -1, False),
        ("overdue_days", 0, True),
        ("overdue_days", -3, False),
        ("has_overdue", True, True),
    ],
)
def test_check_range(slot, value, ok):
    assert check_range(slot, value) is ok


@pytest.mark.parametrize(
    "facts, changes",
    [
        ({"has_overdue": False, "overdue_days": 10.0}, {"overdue_days": None}),
        ({"has_overdue": None, "overdue_days": 10.0}, {"has_overdue": True}),
        ({"has_overdue": True, "overdue_days": 10.0}, {}),
        ({"has_overdue": False, "overdue_days": None}, {}),
    ],
)
def test_reconcile_facts(facts, changes):
    assert reconcile_facts(facts) == changes


OPTIONS = [
    {"slot": "account_inactive"},
    {"slot": "abnormal_transactions"},
    {"slot": "security_issue"},
    {"slot": "security_issue"},
    {"slot": "credit_report_issue"},
]


@pytest.mark.parametrize(
    "text, intent, kind, facts",
    [
        ("3 4", "inform", "value", {"security_issue": True}),
        (
            "以上都没有",
            "deny",
            "value",
            {
                "account_inactive": False,
                "abnormal_transactions": False,
                "security_issue": False,
                "credit_report_issue": False,
            },
        ),
        (
            "没有",
            "deny",
            "value",
            {
                "account_inactive": False,
                "abnormal_transactions": False,
                "security_issue": False,
                "credit_report_issue": False,
            },
        ),
        ("不清楚", "dont_know", "unknown", {}),
        ("怎么查征信", "ask_credit_report", "interruption", {}),
        ("有", "affirm", "unclear", {}),  # which one? asked again
    ],
)
def test_interpret_choices(text, intent, kind, facts):
    from advisor.answers import interpret_choices

    choices = interpret_choices(OPTIONS, text, intent)
    assert (choices.kind, choices.facts) == (kind, facts)


def test_symptom_days_answers_are_durations():
    assert interpret_answer("symptom_days", "就这几天", "inform") == Answer("value", 3.0)
    assert interpret_answer("symptom_days", "一个多月了", "inform") == Answer("value", 30.0)


@pytest.mark.parametrize(
    "text, answered, expected",
    [
        ("不对，有四成", ["recent_applications", "debt_ratio", "has_overdue"], ("debt_ratio", 40.0)),
        ("我说错了，逾期了半个月", ["debt_ratio", "overdue_days"], ("overdue_days", 15.0)),
        ("不是，是五天", ["symptom_days", "overdue_days"], ("symptom_days", 5.0)),  # the latest answer it fits
        ("有四成", ["debt_ratio"], None),  # not a correction: an answer
        ("不对", ["debt_ratio"], None),  # no new value to take
        ("不对，有四成", ["overdue_days"], None),  # fits no answered question
        ("不对，有300成", ["debt_ratio"], None),  # out of range
    ],
)
def test_a_correction_restates_an_earlier_numeric_answer(text, answered, expected) -> None:
    from advisor.answers import read_correction

    assert read_correction(text, answered) == expected


@pytest.mark.parametrize(
    "text, facts, expected",
    [
        ("两成", {"has_overdue": True, "overdue_days": 2.0}, ("debt_ratio", 20.0)),
        ("两成", {"debt_ratio": 60.0}, ("debt_ratio", 20.0)),  # the one share asked about
        ("就这两天", {"has_overdue": True, "overdue_days": 2.0}, ("symptom_days", 3.0)),
        ("三个月", {"has_overdue": True}, ("overdue_days", 90.0)),  # the overdue's length first
        ("三个月", {"has_overdue": False}, ("symptom_days", 90.0)),
        ("三个月", {"has_overdue": True, "overdue_days": "unknown"}, ("overdue_days", 90.0)),
        ("就这两天", {"symptom_days": 5.0, "has_overdue": False}, None),  # nothing open it fits
        ("没有", {}, None),  # not a number
        ("300成", {}, None),  # out of range
    ],
)
def test_a_late_bare_number_answers_the_open_question_it_fits(text, facts, expected) -> None:
    from advisor.answers import read_late_answer

    assert read_late_answer(text, facts) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "七成", None])
@pytest.mark.parametrize("slot", ["debt_ratio", "overdue_days", "symptom_days"])
def test_a_number_that_is_not_finite_is_never_in_range(slot, value):
    assert check_range(slot, value) is False
