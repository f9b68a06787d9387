"""Which product a limit question is about.

The bot advises on Jiebei (借呗) limits only; the contract makes questions about 花呗, 网商贷,
credit cards or other lenders `out_of_scope`. A statistical classifier learns the limit
vocabulary (冻结, 降额, 用不了 …) from Jiebei questions and then reads 「花呗被冻结了」 as a
Jiebei question too, since the words are the same. The product a message names is a fact the
situation extractor already finds, so the line is drawn here, by rule.
"""
from __future__ import annotations

from typing import Iterable

JIEBEI = "借呗"

# Named as the user's situation far more often than as the subject of a question
# (「我信用卡上个月逾期了五天」 explains a Jiebei problem), so they do not move a message out.
CONTEXT_PRODUCTS = frozenset({"信用卡"})

# Intents that mean "my Jiebei limit …": the diagnosis starts on them.
JIEBEI_LIMIT_INTENTS = frozenset({
    "ask_limit_dropped",
    "ask_restore_limit",
    "ask_cannot_borrow",
    "ask_limit_closed",
    "ask_increase_limit",
    "ask_when_retry",
})


def about_another_product(products: Iterable[str]) -> bool:
    """True when the message names products and Jiebei is not among them.

    A message naming no product is taken to be about Jiebei (the bot's subject); one naming
    Jiebei and another (「花呗还清了借呗还是用不了」) is about Jiebei too.
    """
    named = set(products) - CONTEXT_PRODUCTS
    return bool(named) and JIEBEI not in named


def scoped_intent(intent: str, products: Iterable[str]) -> str:
    """`out_of_scope` for a Jiebei-limit intent on a message about another product only."""
    if intent in JIEBEI_LIMIT_INTENTS and about_another_product(products):
        return "out_of_scope"
    return intent
