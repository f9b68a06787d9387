"""Marks messages that are not Chinese with the intent `non_chinese`.

DIET sees character n-grams of Chinese training data; an English sentence shares almost none
of them, so its prediction is arbitrary. A rule is more honest: no Han characters (or any
kana / hangul) means the user is not writing Chinese, and the bot says it speaks Chinese.
"""

from __future__ import annotations

import re
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.rule_intent import RuleGuard, set_rule_intent

NON_CHINESE_INTENT = "non_chinese"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]{3,}")
# Latin words Chinese users mix into Chinese chat (hello, bye, thx, ok); alone they are not
# "another language", and the training data teaches DIET what they mean.
_ALLOWED_LATIN = frozenset(
    {
        "ok",
        "okay",
        "yes",
        "no",
        "emm",
        "hmm",
        "hi",
        "hello",
        "hey",
        "bye",
        "byebye",
        "thx",
        "thanks",
        "thank",
    }
)


def is_non_chinese(text: str) -> bool:
    """True for text written in another language (not for numbers, emoji or payloads)."""
    if not text or text.startswith("/"):
        return False
    if _KANA_HANGUL.search(text):
        return True
    if _HAN.search(text):
        return False
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    return any(word not in _ALLOWED_LATIN for word in words)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageGuard(RuleGuard):
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if isinstance(text, str) and is_non_chinese(text):
                set_rule_intent(message, NON_CHINESE_INTENT)
        return messages
