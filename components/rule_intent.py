"""How a rule overrides the statistical classifiers' intent: the rule's intent goes first with
confidence 1.0, and the classifiers' other guesses stay in the ranking behind it. `RuleGuard`
is what the rule components (ScopeGuard, FollowupGuard, StatementGuard, LanguageGuard) share."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def set_rule_intent(message: Message, name: str) -> None:
    chosen = {INTENT_NAME_KEY: name, "confidence": 1.0}
    rest = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen] + rest, add_to_output=True)


def products(message: Message) -> List[str]:
    """The products SituationExtractor found in the message (its `product` entities)."""
    return [e.get("value") for e in message.get(ENTITIES) or [] if e.get("entity") == "product"]


class RuleGuard(GraphComponent):
    """A component that sets intents by rule: nothing to train, configure or persist. Each
    subclass is registered with DefaultV1Recipe and defines `process`."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RuleGuard:
        return cls()
