"""A message that only states the user's own facts is `inform`, whatever it names.

「我借呗逾期了四天」「我借呗没有逾期」「前几天账号被盗过」 tell the bot about the user; they ask
nothing and name no limit problem. The classifiers learn 借呗 + 逾期 from questions
(「借呗逾期了还能借吗」) and read such statements as questions, so the line is drawn by rule
(docs/LABELLING.md, rule 2), from the facts the situation extractor found in the message.
"""

from __future__ import annotations

import re
from typing import Iterable

from advisor.contract import FACT_SLOTS
from advisor.fact_patterns import QUESTION_PATTERN

INFORM = "inform"

# Asking, beyond the extractor's own question markers: 「会影响吗」「几天算逾期」「是否」.
_QUESTION = re.compile(
    QUESTION_PATTERN + r"|是否|(?<![前这好])几[天次个号点期]|影响|怎样|算不算|还能|行不行|有用|么$|嘛$|呢$"
)
# Naming the limit problem makes it that problem's question (「没逾期却被降额了」).
_LIMIT_PROBLEM = re.compile(
    r"额度|降|关闭|关了|冻结|封|停用|停了|用不了|不能用|借不|不能借|不给借|没通过|提额|恢复|开通|注销|没了|不见|取消"
)


def only_states_facts(text: str, entity_names: Iterable[str]) -> bool:
    """True when the (normalised) `text` states diagnosis facts (entities named after fact
    slots) and neither asks anything nor names a limit problem."""
    if not set(entity_names) & set(FACT_SLOTS):
        return False
    return not _QUESTION.search(text) and not _LIMIT_PROBLEM.search(text)
