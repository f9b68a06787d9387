"""The TextNormalizer graph component, at inference and on training data."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.text_normalizer import TextNormalizer
from runtime.paths import ROOT


@pytest.fixture
def normalizer(tmp_path: Path) -> TextNormalizer:
    return TextNormalizer.create(
        TextNormalizer.get_default_config(),
        LocalModelStorage.create(tmp_path),
        Resource("text_normalizer"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _message(text: Optional[str], **extra: Any) -> Message:
    data: Dict[str, Any] = dict(extra)
    if text is not None:
        data["text"] = text
    return Message(data=data)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("借唄額度為什麼降了", "借呗额度为什么降了"),
        ("借吧额度没了", "借呗额度没了"),
        ("你借吧", "你借吧"),
        ("  负债律８０％  ", "负债率80%"),
        ("征心\u200b有问题", "征信有问题"),
        ("/greet", "/greet"),
        ('/inform{"has_overdue": true}', '/inform{"has_overdue": true}'),
        ("", ""),
        ("😀", "😀"),
    ],
)
def test_process_normalises_text(normalizer: TextNormalizer, text: str, expected: str) -> None:
    (message,) = normalizer.process([_message(text)])
    assert message.get("text") == expected


def test_process_leaves_messages_without_text(normalizer: TextNormalizer) -> None:
    message = _message(None, intent="greet")
    normalizer.process([message])
    assert message.get("text") is None
    assert message.get("intent") == "greet"


def test_process_training_data(normalizer: TextNormalizer) -> None:
    examples = [
        _message("借唄借不出來", intent="ask_cannot_borrow"),
        _message("正信怎么查", intent="ask_credit_report"),
        _message(None, intent="greet"),
    ]
    training_data = TrainingData(training_examples=examples)
    result = normalizer.process_training_data(training_data)
    assert [m.get("text") for m in result.training_examples] == ["借呗借不出来", "征信怎么查", None]


@pytest.mark.parametrize(
    "text, entities, expected_text, expected_spans",
    [
        (
            "我借唄逾期了 十天",
            [{"entity": "overdue_days", "value": "十天", "start": 7, "end": 9}],
            "我借呗逾期了 十天",
            ["十天"],
        ),
        (
            "借唄  借了 三萬 ，花唄也逾期了",
            [
                {"entity": "product", "value": "借呗", "start": 0, "end": 2},
                {"entity": "amount", "value": "30000", "start": 7, "end": 9},
                {"entity": "product", "value": "花呗", "start": 11, "end": 13},
            ],
            "借呗 借了 三万 ，花呗也逾期了",
            ["借呗", "三万", "花呗"],
        ),
    ],
)
def test_training_entities_follow_the_text(
    normalizer: TextNormalizer,
    text: str,
    entities: List[Dict[str, Any]],
    expected_text: str,
    expected_spans: List[str],
) -> None:
    message = _message(text, intent="inform", entities=entities)
    normalizer.process_training_data(TrainingData(training_examples=[message]))
    assert message.get("text") == expected_text
    new_text = message.get("text")
    assert [new_text[e["start"] : e["end"]] for e in message.get("entities")] == expected_spans
    assert [e["value"] for e in message.get("entities")] == [e["value"] for e in entities]


def test_broken_entity_annotation_leaves_example_alone(normalizer: TextNormalizer) -> None:
    entities = [{"entity": "amount", "value": "3", "start": 5, "end": 99}]
    message = _message("借唄 三萬", entities=entities)
    normalizer.process([message])
    assert message.get("text") == "借唄 三萬"
    assert message.get("entities") == entities


def test_registered_to_run_before_the_tokenizer() -> None:
    registered = DefaultV1Recipe._registered_components["TextNormalizer"]
    assert registered.types == {DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER}
    assert registered.is_trainable is False


def test_pipeline_config_puts_normalizer_first() -> None:
    import yaml

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    names = [step["name"] for step in config["pipeline"]]
    assert names[0] == "components.text_normalizer.TextNormalizer"
    assert names.index("JiebaTokenizer") < names.index("components.situation_extractor.SituationExtractor")


def test_recipe_graph_runs_normalizer_before_tokenizer() -> None:
    import copy

    import yaml
    from rasa.shared.data import TrainingType

    import components.situation_extractor  # noqa: F401  (registers the component)

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    graph = DefaultV1Recipe().graph_config_for_recipe(copy.deepcopy(config), {}, training_type=TrainingType.NLU)

    def node(schema: Any, prefix: str) -> str:
        (name,) = [n for n in schema.nodes if n.startswith(prefix)]
        return name

    train, predict = graph.train_schema, graph.predict_schema
    normalizer = node(train, "run_components.text_normalizer.TextNormalizer")
    tokenizer = node(train, "run_JiebaTokenizer")
    assert train.nodes[normalizer].fn == "process_training_data"
    assert train.nodes[tokenizer].needs["training_data"] == normalizer
    assert predict.nodes[tokenizer].needs["messages"] == normalizer
    extractor = node(predict, "run_components.situation_extractor.SituationExtractor")
    assert predict.nodes[extractor].needs["messages"] == tokenizer


def test_training_examples_carry_the_rules_fingerprint(normalizer: TextNormalizer) -> None:
    from components.text_normalizer import STAMP, rules_fingerprint

    message = _message("借呗", intent="greet")
    normalizer.process_training_data(TrainingData(training_examples=[message]))
    assert message.get(STAMP) == rules_fingerprint("lexicon/jieba")


def test_fingerprint_follows_the_jieba_dictionary(tmp_path: Path) -> None:
    from components.text_normalizer import rules_fingerprint

    (tmp_path / "domain.txt").write_text("借呗 100 nz\n", encoding="utf-8")
    before = rules_fingerprint(str(tmp_path))
    assert TextNormalizer.fingerprint_addon({"dictionary_path": str(tmp_path)}) == before
    (tmp_path / "domain.txt").write_text("借呗 100 nz\n花呗 100 nz\n", encoding="utf-8")
    assert rules_fingerprint(str(tmp_path)) != before
    assert rules_fingerprint(None) != before
