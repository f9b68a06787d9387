"""Rasa graph component that normalises user text before tokenisation.

Registered as a MESSAGE_FEATURIZER: the default recipe runs tokenizers and
featurizers in pipeline order during both training (`process_training_data`)
and inference (`process`), so listing it first in config.yml makes every later
component, JiebaTokenizer included, see the normalised text.

Each message is normalised once: the text is replaced by its normalised form and also kept
as the `normalized_text` attribute (in the parse result, so the actions read it from the
tracker), which later components read through `normalized_text(message)` and hand to the
parsers as `Normalized` text that they do not normalise again.

Rasa's training cache keys a node on its own class source, config and inputs. The
normalisation rules (advisor/normalize.py, advisor/typos.yml) and the jieba
dictionary live elsewhere, so `fingerprint_addon` hashes them, and every training
example is stamped with that hash: a dictionary edit then changes the input of
JiebaTokenizer and everything after it, which Rasa would otherwise reuse from cache.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from advisor import normalize
from advisor.normalize import NORMALIZED_TEXT, Normalized, normalize_text, normalized
from runtime.paths import ROOT

STAMP = "text_normalizer_fingerprint"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TextNormalizer(GraphComponent):
    """Traditional → simplified, full-width → half-width, domain typo fixes."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # The jieba dictionary JiebaTokenizer loads (a file or a directory).
        return {"dictionary_path": "lexicon/jieba"}

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        return rules_fingerprint(config.get("dictionary_path"))

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize_message(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        stamp = rules_fingerprint(self._config.get("dictionary_path"))
        for message in training_data.training_examples:
            self._normalize_message(message)
            message.set(STAMP, stamp)
        return training_data

    @staticmethod
    def _normalize_message(message: Message) -> None:
        text = message.get(TEXT)
        # "/intent{...}" payloads from buttons are parsed by Rasa itself.
        if not isinstance(text, str) or not text or text.startswith("/"):
            return
        entities = message.get(ENTITIES)
        if entities:
            normalized = _normalize_keeping_entities(text, entities)
            if normalized is None:
                return
            new_text, new_entities = normalized
            message.set(ENTITIES, new_entities)
        else:
            new_text = normalize_text(text)
        message.set(TEXT, new_text)
        message.set(NORMALIZED_TEXT, new_text, add_to_output=True)


def normalized_text(message: Message) -> Normalized:
    """The message's normalised text: TextNormalizer's attribute, else normalised here (a
    pipeline without TextNormalizer, a button payload)."""
    value = message.get(NORMALIZED_TEXT)
    if isinstance(value, str):
        return Normalized(value)
    return normalized(message.get(TEXT))


def _normalize_keeping_entities(
    text: str, entities: List[Dict[Text, Any]]
) -> Optional[tuple[str, List[Dict[Text, Any]]]]:
    """Normalises the text around and inside annotated entities, moving their offsets.

    Returns None (leave the example alone) when the annotations do not fit the text.
    """
    try:
        ordered = sorted(entities, key=lambda e: (int(e[ENTITY_ATTRIBUTE_START]), int(e[ENTITY_ATTRIBUTE_END])))
    except (KeyError, TypeError, ValueError):
        return None
    pieces: List[str] = []
    new_entities: List[Dict[Text, Any]] = []
    cursor = 0
    length = 0
    for entity in ordered:
        start, end = int(entity[ENTITY_ATTRIBUTE_START]), int(entity[ENTITY_ATTRIBUTE_END])
        if start < cursor or end < start or end > len(text):
            return None  # overlapping or out-of-range annotations
        before = _piece(text[cursor:start], at_start=cursor == 0, at_end=False)
        inside = normalize_text(text[start:end])
        pieces.extend([before, inside])
        length += len(before)
        new_entities.append({**entity, ENTITY_ATTRIBUTE_START: length, ENTITY_ATTRIBUTE_END: length + len(inside)})
        length += len(inside)
        cursor = end
    pieces.append(_piece(text[cursor:], at_start=cursor == 0, at_end=True))
    return "".join(pieces), new_entities


def _piece(segment: str, at_start: bool, at_end: bool) -> str:
    # Between two annotated parts a separating space is meaningful; keep one.
    core = normalize_text(segment)
    if segment[:1].isspace() and not at_start:
        core = " " + core if core else " "
    if segment[-1:].isspace() and not at_end and not core.endswith(" "):
        core += " "
    return core


def rules_fingerprint(dictionary_path: Optional[str]) -> str:
    """A hash of everything outside this class that decides the training text and tokens."""
    digest = hashlib.sha256()
    for path in [Path(normalize.__file__), normalize.TYPOS_PATH, *_dictionary_files(dictionary_path)]:
        digest.update(str(path.name).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<missing>")
    try:
        digest.update(metadata.version("opencc-python-reimplemented").encode())
    except metadata.PackageNotFoundError:
        digest.update(b"<no opencc>")
    return digest.hexdigest()


def _dictionary_files(dictionary_path: Optional[str]) -> List[Path]:
    if not dictionary_path:
        return []
    path = Path(dictionary_path)
    if not path.is_absolute() and not path.exists():
        path = ROOT / path
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path] if path.is_file() else []
