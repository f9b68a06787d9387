"""parse_days / parse_percentage / parse_amount / parse_answer on colloquial Chinese."""

from __future__ import annotations

from typing import Callable, Optional

import pytest

from advisor.parsing import (
    is_bare_number,
    parse_amount,
    parse_answer,
    parse_days,
    parse_percentage,
)

BAD_INPUTS = [
    "",
    "   ",
    "😀😀",
    "\x00\x01",
    "<script>alert(1)</script>",
    "DROP TABLE users;",
    "123456789012345678",
    "额" * 10000,
    "十" * 10000,
    "1" * 10000,
    "\ud800",
]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("一个月", 30.0),
        ("半个月", 15.0),
        ("两个多月", 60.0),
        ("三十多天", 30.0),
        ("十天", 10.0),
        ("3天", 3.0),
        ("3 天", 3.0),
        ("一周", 7.0),
        ("一个星期", 7.0),
        ("两个礼拜", 14.0),
        ("两周", 14.0),
        ("半年", 180.0),
        ("一年", 365.0),
        ("一年半", 545.0),
        ("一天", 1.0),
        ("一个半月", 45.0),
        ("1.5个月", 45.0),
        ("10", 10.0),
        ("十", 10.0),
        ("大概三十五", 35.0),
        ("-3天", -3.0),
        ("负三天", -3.0),
        ("逾期了三十五天", 35.0),
        ("上个月逾期了十天", 10.0),
        ("三天前逾期了五天", 5.0),
        ("借了一年，逾期十天", 10.0),
        ("3月10日逾期了5天", 5.0),
        ("一个多月", 30.0),
        ("两三天", 3.0),
        ("一两个月", 60.0),
        ("3-5天", 5.0),
        ("十几天", 10.0),
        ("十来天", 10.0),
        ("逾期１０天", 10.0),
        ("逾期了兩個月", 60.0),
        # nothing usable
        ("几天", None),
        ("好几个月", None),
        ("逾期两次", None),
        ("三年前逾期过", None),
        ("这个月逾期了", None),
        ("今天", None),
        ("三月", None),
        ("去年", None),
    ],
)
def test_parse_days(text: str, expected: Optional[float]) -> None:
    assert parse_days(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("七成", 70.0),
        ("7成", 70.0),
        ("三成五", 35.0),
        ("一半", 50.0),
        ("百分之八十", 80.0),
        ("百分之七八十", 80.0),
        ("80%", 80.0),
        ("80％", 80.0),
        ("12.5%", 12.5),
        ("0.6", 60.0),
        ("80", 80.0),
        ("八十", 80.0),
        ("六七成", 70.0),
        ("三分之一", 33.3),
        ("四分之三", 75.0),
        ("一大半", 60.0),
        ("大半", 60.0),
        ("一半多", 60.0),
        ("一小半", 30.0),
        ("月收入一万月供六千", 60.0),
        ("工资8000每月还4000", 50.0),
        ("收入2万，每个月要还1.5万", 75.0),
        ("每个月还款占工资一半", 50.0),
        ("负债率0.6", 60.0),
        ("负债率是80", 80.0),
        ("500%", 500.0),
        ("-20%", -20.0),
        ("其实负债只有三成", 30.0),
        # nothing usable
        ("大半年没用了", None),
        ("每个月还4000", None),
        ("负债率多少算高", None),
        ("申请成功了", None),
        ("负债20万", None),
    ],
)
def test_parse_percentage(text: str, expected: Optional[float]) -> None:
    assert parse_percentage(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("3万", 30000.0),
        ("三万", 30000.0),
        ("三万五", 35000.0),
        ("3万5", 35000.0),
        ("30000", 30000.0),
        ("5w", 50000.0),
        ("5W", 50000.0),
        ("1.5万", 15000.0),
        ("1.5w", 15000.0),
        ("一点五万", 15000.0),
        ("八千", 8000.0),
        ("两千五", 2500.0),
        ("2千5", 2500.0),
        ("3k", 3000.0),
        ("三万多", 30000.0),
        ("1,000元", 1000.0),
        ("我借了5000块", 5000.0),
        ("十万块", 100000.0),
        ("月收入一万月供六千", 10000.0),
        ("３万", 30000.0),
        # nothing usable
        ("逾期了十天", None),
        ("七成", None),
        ("2023年逾期过", None),
        ("借了两次", None),
    ],
)
def test_parse_amount(text: str, expected: Optional[float]) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("有", "yes"),
        ("有过", "yes"),
        ("是", "yes"),
        ("是的", "yes"),
        ("对", "yes"),
        ("嗯", "yes"),
        ("嗯嗯", "yes"),
        ("有的", "yes"),
        ("逾期过", "yes"),
        ("好像有", "yes"),
        ("没错", "yes"),
        ("不是没有", "yes"),
        ("有的，上个月逾期过一次", "yes"),
        ("yes", "yes"),
        ("没有", "no"),
        ("没有过", "no"),
        ("从来没有", "no"),
        ("没", "no"),
        ("无", "no"),
        ("不是", "no"),
        ("不对", "no"),
        ("没逾期过", "no"),
        ("一次都没有", "no"),
        ("我没有", "no"),
        ("应该没有", "no"),
        ("没有负债", "no"),
        ("No", "no"),
        ("不清楚", "unknown"),
        ("不知道", "unknown"),
        ("忘了", "unknown"),
        ("记不得", "unknown"),
        ("不确定", "unknown"),
        ("不记得", "unknown"),
        ("这个我不太清楚", "unknown"),
        ("有没有", None),
        ("是不是", None),
        ("很少用", None),
        ("借呗有额度但借不出来", None),
    ],
)
def test_parse_answer(text: str, expected: Optional[str]) -> None:
    assert parse_answer(text) == expected


@pytest.mark.parametrize("parse", [parse_days, parse_percentage, parse_amount, parse_answer])
@pytest.mark.parametrize("text", BAD_INPUTS, ids=lambda t: repr(t[:12]) + f"x{len(t)}")
def test_bad_input_gives_none(parse: Callable[[str], object], text: str) -> None:
    assert parse(text) is None


@pytest.mark.parametrize("parse", [parse_days, parse_percentage, parse_amount, parse_answer])
def test_non_string_gives_none(parse: Callable[[str], object]) -> None:
    assert parse(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, expected",
    [("10", True), ("八十", True), ("大概三十", True), ("0.6", True), ("十天", False), ("七成", False), ("", False)],
)
def test_is_bare_number(text: str, expected: bool) -> None:
    assert is_bare_number(text) is expected


@pytest.mark.parametrize(
    "text, days",
    [
        ("就这几天", 3.0),
        ("刚刚开始的", 3.0),
        ("昨天开始的", 3.0),
        ("两周", 14.0),
        ("一个多月了", 30.0),
        ("好几个月", 60.0),
        ("半年了", 180.0),
        ("不清楚", None),
        ("", None),
    ],
)
def test_parse_since(text, days):
    from advisor.parsing import parse_since

    assert parse_since(text) == days


@pytest.mark.parametrize(
    "text, picked",
    [
        ("2", [2]),
        ("1 3", [1, 3]),
        ("1和3", [1, 3]),
        ("选2、4", [2, 4]),
        ("第二个", [2]),
        ("第一项和第三项", [1, 3]),
        ("3，3", [3]),
        ("7", None),
        ("2个月", None),
        ("我账号被盗过", None),
        ("都没有", None),
        ("", None),
    ],
)
def test_parse_choices(text, picked):
    from advisor.parsing import parse_choices

    assert parse_choices(text, 5) == picked
