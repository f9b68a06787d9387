"""Limit questions about another product (花呗, 网商贷 …), requests to close or lower one's own
Jiebei, and messages the classifier was unsure about with out_of_scope among its best readings
(`advisor.scope.unsure_means_out_of_scope`), become `out_of_scope`.

Runs after the classifiers and the FallbackClassifier; the products are the `product` entities
that SituationExtractor found. The rules themselves are in `advisor.scope`.
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from advisor.scope import scoped_intent, unsure_means_out_of_scope
from components.rule_intent import RuleGuard, products, set_rule_intent

OUT_OF_SCOPE = "out_of_scope"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ScopeGuard(RuleGuard):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            ranking = message.get(INTENT_RANKING_KEY) or []
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if intent == DEFAULT_NLU_FALLBACK_INTENT_NAME:
                readings = [
                    r[INTENT_NAME_KEY] for r in ranking if r.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME
                ]
                if unsure_means_out_of_scope(readings):
                    set_rule_intent(message, OUT_OF_SCOPE)
                    continue
                # unsure which limit question it is, but sure it is not the bot's
                intent = readings[0] if readings else None
            if (
                intent is None
                or scoped_intent(intent, products(message), text) != OUT_OF_SCOPE
                or intent == OUT_OF_SCOPE
            ):
                continue
            set_rule_intent(message, OUT_OF_SCOPE)
        return messages
