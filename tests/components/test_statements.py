"""Statements of the user's own facts are `inform` (advisor/statements.py, components/statement_guard.py)."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from advisor.facts import extract_facts
from advisor.normalize import normalize_text
from advisor.statements import only_states_facts
from components.statement_guard import StatementGuard


@pytest.mark.parametrize(
    "text, statement",
    [
        ("我借呗逾期了四天", True),
        ("我借呗没有逾期", True),
        ("我有蚂蚁借呗的逾期还款记录", True),
        ("借呗逾期两天 不过现在还上了", True),
        ("我花呗逾期了三天", True),
        ("前几天账号被盗过，刚改了密码", True),
        ("上周有人往我账户转了十几万，又马上转走了", True),
        ("月收入一万月供六千", True),
        ("我征信有不良记录", True),
        # asks something
        ("借呗逾期了四天会影响征信吗", False),
        ("借呗最多可以逾期几天", False),
        ("蚂蚁借呗当日最晚还款是几点", False),
        ("有逾期记录会怎样", False),
        # names the limit problem: that problem's question
        ("借呗为什么正常还款 还降低额度", False),
        ("我没逾期却被降额了", False),
        ("账号被盗之后借呗就被关闭了", False),
        # no fact at all
        ("借呗额度降了", False),
        ("没有", False),
    ],
)
def test_only_states_facts(text: str, statement: bool) -> None:
    normalized = normalize_text(text)
    assert only_states_facts(normalized, extract_facts(normalized)) is statement


def _message(text: str, intent: str, entities: list) -> Message:
    return Message(
        data={
            "text": text,
            "intent": {"name": intent, "confidence": 0.8},
            "intent_ranking": [{"name": intent, "confidence": 0.8}],
            "entities": entities,
        }
    )


def test_guard_makes_a_statement_inform_and_keeps_the_classifiers_guess_behind_it() -> None:
    entities = [{"entity": "has_overdue", "value": True}, {"entity": "overdue_days", "value": 4.0}]
    message = _message("我借呗逾期了四天", "ask_cannot_borrow", entities)
    StatementGuard().process([message])
    assert message.get("intent") == {"name": "inform", "confidence": 1.0}
    assert [r["name"] for r in message.get("intent_ranking")] == ["inform", "ask_cannot_borrow"]
    assert message.get("entities") == entities


@pytest.mark.parametrize(
    "text, intent, entities",
    [
        ("借呗逾期了会影响征信吗", "ask_credit_report", [{"entity": "has_overdue", "value": True}]),
        ("借呗额度降了", "ask_limit_dropped", [{"entity": "product", "value": "借呗"}]),
        ("3万", "inform", [{"entity": "amount", "value": 30000.0}]),
    ],
)
def test_guard_leaves_questions_and_other_entities_alone(text: str, intent: str, entities: list) -> None:
    message = _message(text, intent, entities)
    StatementGuard().process([message])
    assert message.get("intent")["name"] == intent
