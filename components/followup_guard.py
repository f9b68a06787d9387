"""「那我现在该先做什么」 → ask_next_step and 「为什么是我」 → ask_reason, by rule
(advisor.followup_questions): short questions that name no problem, product or fact.

Runs after the classifiers, the FallbackClassifier and ScopeGuard, before StatementGuard. The
classifier is not trained on these two intents (config.yml, `rule_intents`).
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.training_data.message import Message

from advisor.followup_questions import followup_question
from components.rule_intent import RuleGuard, products, set_rule_intent
from components.text_normalizer import normalized_text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class FollowupGuard(RuleGuard):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = followup_question(normalized_text(message), products(message))
            if intent:
                set_rule_intent(message, intent)
        return messages
