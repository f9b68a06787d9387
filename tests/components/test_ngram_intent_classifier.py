"""The char-n-gram intent classifier (components/ngram_intent_classifier.py): trained, persisted
and loaded through Rasa's model storage, deciding when confident and deferring to an earlier classifier
otherwise, with the sentence encoder's features appended when the pipeline has them."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.ngram_intent_classifier import NgramIntentClassifier

EXAMPLES = {
    "ask_limit_dropped": ["借呗额度降了", "借呗额度怎么变少了", "额度被下调了", "借呗降额了为什么"],
    "ask_limit_closed": ["借呗被关闭了", "借呗没有了", "借呗额度清零了", "借呗入口不见了"],
    "greet": ["你好", "您好", "哈喽", "早上好"],
}


def training_data() -> TrainingData:
    return TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage.create(tmp_path)


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def trained(storage: LocalModelStorage, **config) -> NgramIntentClassifier:
    component = NgramIntentClassifier.create(
        {**NgramIntentClassifier.get_default_config(), **config}, storage, Resource("ngram"), context()
    )
    component.train(training_data())
    return component


def diet_says(text: str, intent: str, confidence: float) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence})
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}])
    return message


def test_a_confident_reading_replaces_diet_s(storage):
    component = trained(storage, min_confidence=0.4)
    message = diet_says("借呗額度降了", "greet", 0.99)  # traditional 額: normalised first
    component.process([message])
    assert message.get("intent")["name"] == "ask_limit_dropped"
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking][0] == "ask_limit_dropped"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)


def test_an_unsure_reading_leaves_diet_s(storage):
    component = trained(storage, min_confidence=0.99)
    message = diet_says("借呗额度降了", "ask_limit_closed", 0.8)
    component.process([message])
    assert message.get("intent") == {"name": "ask_limit_closed", "confidence": 0.8}


def test_persisted_and_loaded_from_the_model_storage(storage):
    trained(storage, min_confidence=0.4)
    loaded = NgramIntentClassifier.load(
        {**NgramIntentClassifier.get_default_config(), "min_confidence": 0.4}, storage, Resource("ngram"), context()
    )
    message = diet_says("你好呀", "ask_limit_closed", 0.9)
    loaded.process([message])
    assert message.get("intent")["name"] == "greet"


def test_loading_refuses_unexpected_types(storage, monkeypatch):
    trained(storage)
    import skops.io as sio

    monkeypatch.setattr(sio, "get_untrusted_types", lambda file: ["os.system"])
    with pytest.raises(ValueError, match="os.system"):
        NgramIntentClassifier.load(NgramIntentClassifier.get_default_config(), storage, Resource("ngram"), context())


def test_one_intent_is_not_enough_to_train(storage):
    component = NgramIntentClassifier.create(
        NgramIntentClassifier.get_default_config(), storage, Resource("ngram"), context()
    )
    component.train(TrainingData([Message(data={"text": "你好", "intent": "greet"})]))
    message = diet_says("你好", "greet", 0.9)
    component.process([message])
    assert message.get("intent") == {"name": "greet", "confidence": 0.9}


# --- with the sentence encoder's features --------------------------------------------------


def featurized(messages):
    from components.sentence_encoder import SentenceEncoderFeaturizer

    SentenceEncoderFeaturizer.create({}, None, None, context()).process(messages)
    return messages


def trained_with_embeddings(storage) -> NgramIntentClassifier:
    data = training_data()
    featurized(data.training_examples)
    component = NgramIntentClassifier.create(
        {**NgramIntentClassifier.get_default_config(), "min_confidence": 0.0}, storage, Resource("ngram"), context()
    )
    component.train(data)
    return component


def test_trained_with_embeddings_it_keeps_their_size_and_reads_paraphrases(storage):
    component = trained_with_embeddings(storage)
    assert component._model["embedding_dimension"] == 512
    loaded = NgramIntentClassifier.load(
        {**NgramIntentClassifier.get_default_config(), "min_confidence": 0.0}, storage, Resource("ngram"), context()
    )
    [message] = featurized([Message(data={"text": "借呗的可用额度下降了"})])
    loaded.process([message])
    assert message.get("intent")["name"] == "ask_limit_dropped"


def test_a_message_without_the_embedding_is_still_classified(storage):
    component = trained_with_embeddings(storage)
    message = Message(data={"text": "您好"})  # no dense features: zeros in their place
    component.process([message])
    assert message.get("intent")["name"] == "greet"


def test_without_an_embedding_featurizer_configured_only_n_grams_are_used(storage):
    data = training_data()
    featurized(data.training_examples)
    component = trained(storage, embedding_featurizer=None)
    assert component._model["embedding_dimension"] == 0
