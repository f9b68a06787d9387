"""The bot's intent classifier: character 1–3-gram and pinyin 1–2-gram TF-IDF plus the sentence
encoder's embedding (components/sentence_encoder.py), into one logistic regression.

A plain DIET pipeline made more errors on real users' phrasing than a character-n-gram logistic
regression trained on the same data: with a few thousand short examples DIET fits the training
set perfectly and is confidently wrong, while the regression is calibrated, so the
FallbackClassifier after it can judge its confidence. DIET was its second opinion until grouped
cross-validation showed it no longer helped once the embedding was in (README, "Quality and
review"). Should another classifier run before this one, its reading stands wherever this one's
probability is under `min_confidence`.

Pinyin syllables (without tones) are the second feature set: users type by pinyin, so their
typos are homophones (借贝, 额渡, 冻洁) that the character n-grams miss and the syllables keep.
The embedding (weight 2, dense, appended) carries paraphrases the n-grams never saw. Classes are
weighted by their size, so the few examples of a rare intent are not outvoted. Each of these,
and C, was chosen by cross-validation on the training data grouped by source (not on the test
sets).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
from pypinyin import lazy_pinyin
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.text_normalizer import normalized_text

logger = logging.getLogger(__name__)

# What a fitted TF-IDF + logistic-regression pipeline is made of; loading refuses anything else.
_TRUSTED_TYPES = frozenset(
    {
        "sklearn.feature_extraction.text.TfidfVectorizer",
        "sklearn.feature_extraction.text.TfidfTransformer",
        "sklearn.linear_model._logistic.LogisticRegression",
        "numpy.float64",
        "numpy.int64",
        "builtins.int",
        "scipy.sparse._csr.csr_matrix",
        "sklearn.pipeline.FeatureUnion",
        "components.ngram_intent_classifier.pinyin_text",
    }
)


def pinyin_text(text: str) -> str:
    """The text as toneless pinyin syllables separated by spaces (「借呗额度」 → "jie bei e du")."""
    return " ".join(lazy_pinyin(text)).lower()


def build_features() -> Any:
    """Character 1–3-grams and pinyin 1–2-grams, both TF-IDF."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
            # token_pattern keeps one-letter syllables (额 → "e"); the default would drop them
            (
                "pinyin",
                TfidfVectorizer(
                    preprocessor=pinyin_text, token_pattern=r"[a-z0-9]+", ngram_range=(1, 2), sublinear_tf=True
                ),
            ),
        ]
    )


def build_classifier(c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)


def feature_matrix(features: Any, texts: List[str], embeddings: Optional[np.ndarray], weight: float) -> Any:
    """The n-gram TF-IDF of `texts`, with the sentence embeddings (× weight) appended when given."""
    from scipy.sparse import csr_matrix, hstack

    sparse = features.transform(texts)
    if embeddings is None:
        return sparse
    return hstack([sparse, csr_matrix(embeddings * weight)]).tocsr()


def fit(
    texts: List[str], embeddings: Optional[np.ndarray], intents: List[str], c: float, seed: int, weight: float
) -> Dict[str, Any]:
    """The fitted model (features, classifier, embedding dimension) for normalised texts.

    Plain values in, plain values out: the component trains through this, and so does the
    blocked cross-validation (quality/blocked_cv.py), so both measure the same model.
    """
    features = build_features().fit(texts)
    classifier = build_classifier(c, seed)
    classifier.fit(feature_matrix(features, texts, embeddings, weight), intents)
    return {
        "features": features,
        "classifier": classifier,
        "embedding_dimension": 0 if embeddings is None else int(embeddings.shape[1]),
    }


def probabilities(model: Dict[str, Any], texts: List[str], embeddings: Optional[np.ndarray], weight: float) -> Any:
    """One row of class probabilities per text, columns in `model["classifier"].classes_` order."""
    return model["classifier"].predict_proba(feature_matrix(model["features"], texts, embeddings, weight))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class NgramIntentClassifier(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 100.0,
            "min_confidence": 0.5,
            "random_seed": 42,
            "ranking_length": 10,
            # Dense sentence features of this featurizer (alias) are appended to the n-grams;
            # None: n-grams only.
            "embedding_featurizer": "sentence_encoder",
            "embedding_weight": 2.0,
            # Intents read by rule (components/followup_guard.py), left out of training: as
            # classes of their own they would draw probability from the others.
            "rule_intents": [],
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> NgramIntentClassifier:
        return cls(config, model_storage, resource)

    def _embeddings(self, messages: List[Message], dimension: Optional[int]) -> Optional[np.ndarray]:
        """One row per message (zeros where a message has none), or None when not configured."""
        featurizer = self._config["embedding_featurizer"]
        if not featurizer:
            return None
        rows: List[Optional[np.ndarray]] = []
        for message in messages:
            _, sentence = message.get_dense_features(TEXT, [featurizer])
            rows.append(None if sentence is None else np.asarray(sentence.features, dtype=np.float32).reshape(-1))
        size = dimension or next((len(r) for r in rows if r is not None), 0)
        if not size:
            return None
        return np.vstack([r if r is not None and len(r) == size else np.zeros(size, np.float32) for r in rows])

    def train(self, training_data: TrainingData) -> Resource:
        rule_intents = set(self._config["rule_intents"])
        examples = [
            m
            for m in training_data.intent_examples
            if m.get(TEXT) and m.get(INTENT) and m.get(INTENT) not in rule_intents
        ]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning("NgramIntentClassifier needs at least two intents; not trained.")
            return self._resource
        texts = [normalized_text(m) for m in examples]
        self._model = fit(
            texts,
            self._embeddings(examples, None),
            [m.get(INTENT) for m in examples],
            self._config["C"],
            self._config["random_seed"],
            self._config["embedding_weight"],
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as directory:
            sio.dump(self._model, directory / "ngram_intent.skops")

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> NgramIntentClassifier:
        import skops.io as sio

        # A model this project trained always loads; anything else is a bug to see, not to hide.
        with model_storage.read_from(resource) as directory:
            path = directory / "ngram_intent.skops"
            untrusted = set(sio.get_untrusted_types(file=path))
            if untrusted - _TRUSTED_TYPES:
                raise ValueError(f"unexpected types in {path}: {sorted(untrusted - _TRUSTED_TYPES)}")
            model = sio.load(path, trusted=sorted(untrusted))
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._model is None:
            return messages
        todo = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT)]
        if not todo:
            return messages
        dimension = self._model["embedding_dimension"]
        embeddings = self._embeddings(todo, dimension) if dimension else None
        texts = [normalized_text(m) for m in todo]
        rows = probabilities(self._model, texts, embeddings, self._config["embedding_weight"])
        intents = list(self._model["classifier"].classes_)
        for message, row in zip(todo, rows):
            ranking = sorted(
                ({INTENT_NAME_KEY: name, "confidence": float(p)} for name, p in zip(intents, row)),
                key=lambda r: -r["confidence"],
            )
            if ranking[0]["confidence"] < self._config["min_confidence"] and message.get(INTENT):
                continue  # unsure: the earlier classifier's intent and ranking stand
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking[: self._config["ranking_length"]], add_to_output=True)
        return messages
