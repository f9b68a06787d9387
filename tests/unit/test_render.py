"""Rendering advice as Chinese text and follow-up buttons."""

from __future__ import annotations

import re

import pytest

from advisor.contract import BOOL_SLOTS, INTENTS
from advisor.engine import rank_advice
from advisor.knowledge import load_advice_knowledge
from advisor.render import answer_sentence, followup_buttons, render_advice, step_text

CASES = [
    ("cannot_borrow", {}),
    ("cannot_borrow", {"has_overdue": True, "overdue_days": 45.0, "debt_ratio": 90.0}),
    ("cannot_borrow", {"has_overdue": True, "recent_applications": True, "debt_ratio": 60.0}),
    ("limit_closed", {"security_issue": True}),
    ("limit_closed", {"abnormal_transactions": True}),
    ("increase_limit", {}),
    ("restore_limit", {slot: True for slot in BOOL_SLOTS}),
    ("limit_dropped", {"has_overdue": "unknown", "debt_ratio": "unknown"}),
]


def _numbered(section: str) -> list[str]:
    return re.findall(r"^\d+\. .+$", section, flags=re.MULTILINE)


def _sections(text: str) -> tuple[str, str]:
    texts = load_advice_knowledge()["render"]
    before, steps = text.split(texts["steps_header"])
    reasons = before.split(texts["reasons_header"])[1] if texts["reasons_header"] in before else ""
    return reasons, steps


@pytest.mark.parametrize("topic, facts", CASES)
def test_render_lists_reasons_and_numbered_steps(topic: str, facts: dict) -> None:
    advice = rank_advice(topic, facts)
    text = render_advice(advice)
    knowledge = load_advice_knowledge()
    assert text.splitlines()[0] == answer_sentence(advice)
    reasons, steps = _sections(text)
    reason_lines, step_lines = _numbered(reasons), _numbered(steps)
    assert 1 <= len(reason_lines) <= 3
    assert len(reason_lines) == min(3, len(advice.reasons))
    assert [line.split(". ")[0] for line in step_lines] == [str(n) for n in range(1, len(advice.steps) + 1)]
    for line, code in zip(reason_lines, advice.reasons):
        assert knowledge["reasons"][code]["title"] in line
    for line, code in zip(step_lines, advice.steps):
        assert step_text(code, advice.variant(code))["title"] in line


def test_fourth_reason_is_not_rendered() -> None:
    advice = rank_advice("restore_limit", {slot: True for slot in BOOL_SLOTS})
    assert len(advice.reasons) == 4
    fourth = load_advice_knowledge()["reasons"][advice.reasons[3]]["title"]
    assert fourth not in render_advice(advice)


@pytest.mark.parametrize("topic, facts", CASES)
def test_in_app_path_shown_for_steps_with_one(topic: str, facts: dict) -> None:
    advice = rank_advice(topic, facts)
    _, steps = _sections(render_advice(advice))
    knowledge = load_advice_knowledge()
    for line, code in zip(_numbered(steps), advice.steps):
        path = knowledge["steps"][code].get("path")
        assert (path is not None and path in line) or (path is None and "路径" not in line)


def test_some_case_shows_a_path() -> None:
    shown = [render_advice(rank_advice(topic, facts)) for topic, facts in CASES]
    assert any("支付宝 → 我的 → 借呗" in text for text in shown)


@pytest.mark.parametrize("topic, facts", CASES)
def test_followups_are_valid(topic: str, facts: dict) -> None:
    buttons = followup_buttons(rank_advice(topic, facts))
    assert 2 <= len(buttons) <= 3
    payloads = [button["payload"] for button in buttons]
    assert len(set(payloads)) == len(payloads)
    for button in buttons:
        assert button["title"].strip()
        assert button["payload"].startswith("/") and button["payload"][1:] in INTENTS


@pytest.mark.parametrize(
    "facts, payload",
    [
        ({"debt_ratio": 80.0}, "/ask_debt_ratio"),
        ({"recent_applications": True}, "/ask_credit_report"),
        ({"security_issue": True}, "/request_human"),
    ],
)
def test_followups_follow_top_reasons(facts: dict, payload: str) -> None:
    payloads = [button["payload"] for button in followup_buttons(rank_advice("cannot_borrow", facts))]
    assert payload in payloads


def test_describe_facts_says_back_what_was_understood():
    from advisor.render import describe_facts

    assert describe_facts({"has_overdue": True, "overdue_days": 4.0}) == "近期有过逾期，逾期约4天"
    assert describe_facts({"debt_ratio": 0.0}) == "没有负债"
    assert describe_facts({"debt_ratio": 62.5, "security_issue": False}) == "每月还款约占收入的62.5%，账户安全没有问题"
    assert describe_facts({"amount": 30000.0, "has_overdue": None}) == ""
