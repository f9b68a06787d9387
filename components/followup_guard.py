"""「那我现在该先做什么」 → ask_next_step and 「为什么是我」 → ask_reason, by rule
(advisor.followup_questions): short questions that name no problem, product or fact.

Runs after the classifiers, the FallbackClassifier and ScopeGuard, before StatementGuard. The
classifier is not trained on these two intents (config.yml, `rule_intents`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from advisor.followup_questions import followup_question
from components.rule_intent import set_rule_intent
from components.text_normalizer import normalized_text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FollowupGuard(GraphComponent):
    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FollowupGuard:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            products = [e.get("value") for e in message.get(ENTITIES) or [] if e.get("entity") == "product"]
            intent = followup_question(normalized_text(message), products)
            if intent:
                set_rule_intent(message, intent)
        return messages
