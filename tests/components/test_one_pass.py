"""Each message is normalised once (issue 16): TextNormalizer keeps the normalised text as the
`normalized_text` attribute; later components, the parsers and the actions take it as it is."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.shared.nlu.training_data.message import Message

from advisor import normalize
from advisor.answers import interpret_answer
from advisor.facts import analyse
from advisor.normalize import NORMALIZED_TEXT, Normalized, normalized
from advisor.parsing import parse_days, parse_percentage


@pytest.fixture
def normalisations(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Every text that really gets normalised (not answered by the recent-texts memory either)."""
    seen: List[str] = []
    original = normalize._normalize_cached

    def counting(text: str) -> str:
        seen.append(text)
        return original.__wrapped__(text)

    monkeypatch.setattr(normalize, "_normalize_cached", counting)
    return seen


def test_normalized_text_is_not_normalised_again_by_the_parsers_or_the_fact_layer(normalisations: List[str]) -> None:
    text = normalized("我上個月逾期了十天，還款佔收入三成")
    assert normalisations == ["我上個月逾期了十天，還款佔收入三成"]
    normalisations.clear()
    assert parse_days(text) == 10.0
    assert parse_percentage(Normalized("三成")) == 30.0
    facts, _ = analyse(text)
    assert {fact.slot for fact in facts} >= {"has_overdue", "overdue_days"}
    assert interpret_answer("overdue_days", Normalized("十天"), "inform").value == 10.0
    assert normalisations == []


def test_raw_text_is_still_normalised_once(normalisations: List[str]) -> None:
    assert parse_days("逾期十天") == 10.0
    assert normalisations == ["逾期十天"]


def test_the_normaliser_keeps_the_normalised_text_as_an_output_attribute() -> None:
    from components.text_normalizer import TextNormalizer, normalized_text

    message = Message(data={"text": "借唄額度沒了"})
    TextNormalizer({}).process([message])
    assert message.get("text") == message.get(NORMALIZED_TEXT) == "借呗额度没了"
    assert message.as_dict(only_output_properties=True)[NORMALIZED_TEXT] == "借呗额度没了"
    assert isinstance(normalized_text(message), Normalized)


def test_components_read_the_attribute_instead_of_normalising(normalisations: List[str]) -> None:
    from components.situation_extractor import SituationExtractor

    message = Message(data={"text": "我逾期了十天", NORMALIZED_TEXT: "我逾期了十天"})
    normalisations.clear()
    SituationExtractor({}).process([message])
    assert {e["entity"] for e in message.get("entities")} >= {"has_overdue", "overdue_days"}
    assert normalisations == []


def test_the_actions_read_the_normalised_text_from_the_parse_data() -> None:
    from rasa_sdk import Tracker

    from actions.common import latest_text

    def tracker(parse_data: Dict[str, Any]) -> Tracker:
        return Tracker("t", {}, parse_data, [], False, None, {}, "action_listen")

    given = latest_text(tracker({"text": "借呗额度没了", NORMALIZED_TEXT: "借呗额度没了"}))
    assert given == "借呗额度没了" and isinstance(given, Normalized)
    # A message stored before the attribute existed is normalised here.
    assert latest_text(tracker({"text": "借唄額度沒了"})) == "借呗额度没了"
