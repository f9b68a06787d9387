"""Whether the user found an advice helpful: from the 👍 / 👎 buttons' ``helpful`` entity, or,
typed, from the message itself."""

from __future__ import annotations

from typing import Optional

# Typed feedback ("建议没什么用", "回答不准") is negative when it negates; 不错 is praise.
NEGATIONS = ("没", "不", "无", "白", "错", "差")
PRAISE_WITH_A_NEGATION = ("不错", "没错", "错不了")


def is_helpful(entity_value: object, text: str) -> bool:
    """True for 👍 ("yes") or typed praise, False for 👎 ("no") or a typed complaint."""
    if isinstance(entity_value, bool):
        return entity_value
    if isinstance(entity_value, str) and entity_value.strip().lower() in ("yes", "no"):
        return entity_value.strip().lower() == "yes"
    plain = text
    for praise in PRAISE_WITH_A_NEGATION:
        plain = plain.replace(praise, "")
    return not any(negation in plain for negation in NEGATIONS)


def feedback_record(helpful: bool, topic: Optional[str]) -> dict[str, object]:
    """The advice_feedback slot's value: what the user judged and about which topic."""
    return {"helpful": helpful, "topic": topic}
