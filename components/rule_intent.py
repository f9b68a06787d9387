"""How a rule overrides the statistical classifiers' intent: the rule's intent goes first with
confidence 1.0, and the classifiers' other guesses stay in the ranking behind it."""

from __future__ import annotations

from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def set_rule_intent(message: Message, name: str) -> None:
    chosen = {INTENT_NAME_KEY: name, "confidence": 1.0}
    rest = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
    message.set(INTENT, chosen, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [chosen] + rest, add_to_output=True)
