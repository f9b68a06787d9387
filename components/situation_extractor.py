"""Rasa graph component that turns stated facts into entities named after the contract slots.

Besides the diagnosis slots it adds `product` entities (花呗, 网商贷 … for the scope guard).
One spaCy doc per message serves both (advisor.facts.analyse). Generic amounts,
durations and percentages are not produced: nothing reads them, and what a bare "10"
means depends on the question the form asked, which the form validator knows.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from advisor.facts import analyse, warm_up
from components.text_normalizer import normalized_text

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class SituationExtractor(GraphComponent, EntityExtractorMixin):
    """Rule-based facts (overdue, debt ratio, …) with normalised values."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {}

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SituationExtractor:
        try:
            warm_up()
        except Exception:  # extraction is best effort: the bot must still load
            logger.exception("Could not build the situation rules; they will be retried per message")
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip() or text.startswith("/"):
                continue
            try:
                extracted = self._extract(text, normalized_text(message))
            except Exception:  # rules are best effort; never fail a user message
                logger.exception("SituationExtractor failed on %r", text[:80])
                continue
            if extracted:
                message.set(
                    ENTITIES,
                    (message.get(ENTITIES) or []) + self.add_extractor_name(extracted),
                    add_to_output=True,
                )
        return messages

    def _extract(self, text: str, normalized: str) -> List[Dict[Text, Any]]:
        # Offsets from the rules index the normalised text; when TextNormalizer ran
        # first that is the message text itself, otherwise fall back to the whole text.
        same_offsets = normalized == text
        facts, products = analyse(normalized)
        entities = [_entity(fact.slot, fact.value, fact.start, fact.end, text, same_offsets) for fact in facts]
        entities += [_entity("product", name, start, end, text, same_offsets) for name, start, end in products]
        return entities


def _entity(name: str, value: Any, start: int, end: int, text: str, same_offsets: bool) -> Dict[Text, Any]:
    span: Optional[tuple[int, int]] = (start, end) if same_offsets else None
    if span is None or not 0 <= span[0] <= span[1] <= len(text):
        span = (0, len(text))
    return {
        "entity": name,
        "value": value,
        "start": span[0],
        "end": span[1],
        "confidence": 1.0,
    }
