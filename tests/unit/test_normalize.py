"""normalize_text: script, width, whitespace, invisible characters and domain typos."""

from __future__ import annotations

import pytest

from advisor.normalize import TYPOS, normalize_text


@pytest.mark.parametrize(
    "text, expected",
    [
        # traditional → simplified
        ("借唄額度為什麼降了", "借呗额度为什么降了"),
        ("花唄逾期會影響徵信嗎", "花呗逾期会影响征信吗"),
        # full-width → half-width; Chinese punctuation kept
        ("８０％", "80%"),
        ("ＡＢＣ１２３", "ABC123"),
        ("１．５万", "1.5万"),
        ("借呗，额度？！", "借呗，额度？！"),
        ("还款（每月）：三千；", "还款（每月）：三千；"),
        ("\u3000借呗\u3000额度", "借呗 额度"),
        # whitespace and invisible characters
        ("  借呗   额度 \n\t降了  ", "借呗 额度 降了"),
        ("借\u200b呗", "借呗"),
        ("\ufeff借呗", "借呗"),
        ("\x00借呗\x07额度", "借呗额度"),
        ("借呗\x1c额度", "借呗 额度"),
        # unconditional domain typos
        ("借贝额度", "借呗额度"),
        ("花贝逾期了", "花呗逾期了"),
        ("征心不好", "征信不好"),
        ("正信报告", "征信报告"),
        ("负债律多少算高", "负债率多少算高"),
        ("额渡没了", "额度没了"),
        ("为撒降额", "为啥降额"),
        ("为啥子降额", "为啥降额"),
        ("逾其了三天", "逾期了三天"),
        # 借吧 / 借被 / 接呗 only where the product is meant
        ("蚂蚁借吧", "蚂蚁借呗"),
        ("支付宝的借吧额度", "支付宝的借呗额度"),
        ("借吧额度突然降了", "借呗额度突然降了"),
        ("借吧被关了", "借呗被关了"),
        ("借吧有额度但借不出来", "借呗有额度但借不出来"),
        ("接呗额度没了", "借呗额度没了"),
        ("借被冻结了怎么办", "借呗冻结了怎么办"),
        ("你借吧", "你借吧"),
        ("想借就借吧，没事", "想借就借吧，没事"),
        ("借吧，反正利息不高", "借吧，反正利息不高"),
        ("借被拒了", "借被拒了"),
        ("电话来了你接呗", "电话来了你接呗"),
        # nothing to do
        ("借呗额度怎么突然降了", "借呗额度怎么突然降了"),
        ("😀😀", "😀😀"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "😀😀",
        "\x00\x01",
        "\ud800借呗",
        "<script>alert(1)</script>",
        "DROP TABLE users;",
        "借唄" * 5000,
        "额" * 10000,
        "\u202e反转\u202c",
    ],
)
def test_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert isinstance(once, str)
    assert normalize_text(once) == once
    assert len(once) <= len(text)


def test_lone_surrogate_removed() -> None:
    assert normalize_text("\ud800借呗") == "借呗"


def test_non_string_input_gives_empty_string() -> None:
    assert normalize_text(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("wrong, right", sorted(TYPOS.plain.items()))
def test_every_plain_fix_applies(wrong: str, right: str) -> None:
    assert normalize_text(f"我的{wrong}") == f"我的{right}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("借呗借不出来" + "。" * 500, "借呗借不出来。"),
        ("为什么？？？？", "为什么？"),
        ("怎么办!!!!!!", "怎么办!"),
        ("等等……", "等等……"),  # a two-mark ellipsis stays
        ("额度***", "额度几"),  # masked digits first
    ],
)
def test_runs_of_one_punctuation_mark_collapse(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["借呗有什么年龄限制吗", "借呗关闭会收到通知吗", "会影响信用值吗", "是限制嘛", "还有什么限制呢"],
)
def test_a_question_particle_never_becomes_part_of_a_term(text: str) -> None:
    # 制吗 / 知吗 / 值吗 read zhi-ma, like 芝麻: the particle must survive.
    assert "芝麻" not in normalize_text(text)
    assert normalize_text(text)[-1] == text[-1]


def test_a_typed_homophone_of_a_term_is_still_fixed_before_a_particle() -> None:
    assert normalize_text("支麻分够吗") == "芝麻分够吗"
