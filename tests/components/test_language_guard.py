"""Messages in other languages are marked non_chinese; Chinese, numbers and payloads are not."""

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.language_guard import LanguageGuard, is_non_chinese


@pytest.mark.parametrize(
    "text, expected",
    [
        ("why was my credit limit reduced", True),
        ("hello", False),
        ("bye", False),
        ("thx", False),
        ("hello, how are you", True),
        ("Bonjour", True),
        ("こんにちは", True),
        ("안녕하세요", True),
        ("借りられません", True),
        ("借呗额度为什么降了", False),
        ("借呗 limit 降了", False),
        ("ok", False),
        ("OK", False),
        ("yes", False),
        ("12345", False),
        ("😀😀", False),
        ("", False),
        ("/affirm", False),
        ("3万", False),
        ("5w", False),
    ],
)
def test_is_non_chinese(text, expected):
    assert is_non_chinese(text) is expected


def test_component_overrides_the_intent_only_for_other_languages():
    english = Message(
        data={
            TEXT: "my account was closed",
            INTENT: {"name": "out_of_scope", "confidence": 0.6},
            INTENT_RANKING_KEY: [{"name": "out_of_scope", "confidence": 0.6}],
        }
    )
    chinese = Message(data={TEXT: "借呗被关了", INTENT: {"name": "ask_limit_closed", "confidence": 0.9}})
    LanguageGuard().process([english, chinese])
    assert english.get(INTENT) == {"name": "non_chinese", "confidence": 1.0}
    assert [r["name"] for r in english.get(INTENT_RANKING_KEY)] == ["non_chinese", "out_of_scope"]
    assert chinese.get(INTENT)["name"] == "ask_limit_closed"
