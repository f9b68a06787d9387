"""A message that only states the user's own facts becomes `inform` (rules in `advisor.statements`).

Runs after the classifiers, the FallbackClassifier and ScopeGuard; the facts are the entities
SituationExtractor found. An `inform` keeps its entities, so the facts fill their slots in the
form and at the very start of a conversation alike.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from advisor.statements import INFORM, only_states_facts
from components.rule_intent import RuleGuard, set_rule_intent


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class StatementGuard(RuleGuard):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == INFORM:
                continue
            names = [e.get("entity") for e in message.get(ENTITIES) or []]
            if only_states_facts(message.get(TEXT) or "", names):
                set_rule_intent(message, INFORM)
        return messages
