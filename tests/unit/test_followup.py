"""Later advice in one conversation (advisor/followup.py): the answer first, then only what is
new; never a paragraph the bot already sent."""

from __future__ import annotations

from advisor.contract import BOOL_SLOTS
from advisor.engine import rank_advice
from advisor.followup import Shown, already_answered, first_line, new_lines, paragraphs, render_followup
from advisor.knowledge import load_advice_knowledge
from advisor.render import answer_parts, answer_sentence, render_advice, render_card_summary

CLEAN = {slot: False for slot in BOOL_SLOTS} | {"debt_ratio": 10.0}
RENDER = load_advice_knowledge()["render"]
CLOSED_AFTER_OVERDUE = CLEAN | {"has_overdue": True, "overdue_days": 60.0}


def _lines(text: str) -> list[str]:
    return text.splitlines()


def test_the_first_advice_is_the_whole_advice() -> None:
    advice = rank_advice("limit_closed", CLOSED_AFTER_OVERDUE)
    assert render_followup(advice, None) == render_advice(advice)


def test_the_first_advice_leaves_out_a_paragraph_already_sent() -> None:
    advice = rank_advice("limit_closed", CLOSED_AFTER_OVERDUE)
    whole = _lines(render_advice(advice))
    sent = paragraphs([whole[2]])  # the first reason line, sent before in another reply
    text = render_followup(advice, None, sent)
    assert whole[2] not in _lines(text)
    assert len(_lines(text)) == len(whole) - 1


def test_the_same_advice_again_answers_then_refers_to_the_one_above() -> None:
    """「还能恢复吗」 after the advice: the answer first, not the reasons word for word."""
    first = rank_advice("limit_closed", CLOSED_AFTER_OVERDUE)
    sent = paragraphs([render_advice(first)])
    again = rank_advice("restore_limit", CLOSED_AFTER_OVERDUE)
    text = render_followup(again, Shown.of(first), sent)
    answer, outlook = answer_parts(again)
    assert _lines(text)[0] == answer == "有机会恢复，但一般要几个月。"
    assert outlook not in text  # said in the advice above
    assert RENDER["unchanged"] in text or RENDER["rest_same"] in text
    assert not paragraphs([text]) & sent


def test_a_changed_advice_shows_only_the_new_reasons_and_steps_under_their_headers() -> None:
    before = rank_advice("cannot_borrow", CLEAN | {"debt_ratio": 0.0})
    sent = paragraphs([render_advice(before)])
    after = rank_advice("cannot_borrow", CLEAN | {"debt_ratio": 60.0})
    text = render_followup(after, Shown.of(before), sent)
    lines = _lines(text)
    assert lines[0] == answer_sentence(after) or lines[0] == answer_parts(after)[0]
    assert RENDER["new_reasons_header"] in lines
    following = lines[lines.index(RENDER["new_reasons_header"]) + 1]
    assert following.startswith("1. ") and "负债" in following  # the header has its items
    if RENDER["new_steps_header"] in lines:
        assert lines[lines.index(RENDER["new_steps_header"]) + 1][0].isdigit()
    assert not paragraphs([text]) & sent


def test_a_reordering_alone_says_the_new_order() -> None:
    before = rank_advice("cannot_borrow", CLEAN)
    moved = Shown(before.topic, before.situation, before.reasons, tuple(reversed(before.steps)))
    text = render_followup(before, moved, set())
    assert RENDER["order"].split("{")[0] in text
    assert RENDER["new_steps_header"] not in text


def test_first_line_drops_an_outlook_already_said_and_reminds_when_all_was_said() -> None:
    parts = ("大概率能恢复，一般几天到一周。", "没有明显的个人原因，多半是平台的短暂波动。")
    assert first_line(parts, set()) == "".join(parts)
    assert first_line(parts, {"前面的话" + parts[1]}) == parts[0]
    assert first_line(parts, {"".join(parts)}) == RENDER["as_said"].format(answer=parts[0])


def test_new_lines_keeps_short_lines_and_drops_sent_paragraphs() -> None:
    sent = paragraphs(["好的。\n这是一段已经发过的足够长的说明文字。"])
    assert "好的。" not in sent
    text = "好的。\n这是一段已经发过的足够长的说明文字。\n这是一段还没有发过的新的说明文字。"
    assert new_lines(text, sent) == ["好的。", "这是一段还没有发过的新的说明文字。"]


def test_shown_survives_the_slot_and_rejects_anything_else() -> None:
    shown = Shown.of(rank_advice("limit_closed", CLOSED_AFTER_OVERDUE))
    assert Shown.from_value(shown.value()) == shown
    for value in (None, "x", {"topic": "limit_closed"}, [1, 2]):
        assert Shown.from_value(value) is None


def test_the_card_summary_is_the_answer_sentence_and_the_hint() -> None:
    advice = rank_advice("limit_closed", CLOSED_AFTER_OVERDUE)
    assert render_card_summary(advice) == answer_sentence(advice) + RENDER["card_hint"]


def test_a_how_question_after_the_advice_gets_where_to_start_instead_of_same_as_above() -> None:
    first = rank_advice("limit_closed", CLOSED_AFTER_OVERDUE)
    sent = paragraphs([render_advice(first)])
    again = rank_advice("restore_limit", CLOSED_AFTER_OVERDUE)
    how = "先做上面建议的第 1 步：「先还清逾期，之后按时还款」。"
    lines = _lines(render_followup(again, Shown.of(first), sent, how=how))
    assert lines[1] == how and RENDER["unchanged"] not in lines
    # said once already: not again, and no "same as above" either
    assert _lines(render_followup(again, Shown.of(first), sent | {how}, how=how)) == lines[:1]


def test_an_answer_already_sent_alone_comes_back_as_a_reminder_then_not_at_all() -> None:
    first = rank_advice("cannot_borrow", CLEAN | {"symptom_days": 2.0})
    again = rank_advice("restore_limit", CLEAN | {"symptom_days": 2.0})
    answer, _ = answer_parts(again)
    sent = paragraphs([render_advice(first), answer, RENDER["unchanged"]])
    reminder = RENDER["as_said"].format(answer=answer)
    assert _lines(render_followup(again, Shown.of(first), sent))[0] == reminder
    assert render_followup(again, Shown.of(first), sent | {reminder}) == already_answered()
