"""Readable Chinese text and follow-up buttons for an advice reply."""
from __future__ import annotations

from advisor.engine import Advice
from advisor.knowledge import load_advice_knowledge

MAX_RENDERED_REASONS = 3
MAX_FOLLOWUPS = 3


def render_advice(advice: Advice) -> str:
    """Heading, the top ≤ 3 reasons with why, then numbered steps with in-app paths."""
    knowledge = load_advice_knowledge()
    texts = knowledge["render"]
    lines = [texts["heading"].format(topic=knowledge["topics"][advice.topic])]
    reasons = advice.reasons[:MAX_RENDERED_REASONS]
    if reasons:
        lines.append(texts["reasons_header"])
        for number, code in enumerate(reasons, start=1):
            reason = knowledge["reasons"][code]
            why = advice.explanations.get(code, reason["why"])
            lines.append(f"{number}. {reason['title']}：{why}")
    if advice.steps:
        lines.append(texts["steps_header"])
        for number, code in enumerate(advice.steps, start=1):
            step = knowledge["steps"][code]
            path = texts["path"].format(path=step["path"]) if step.get("path") else ""
            lines.append(f"{number}. {step['title']}：{step['detail']}{path}")
    return "\n".join(lines)


def followup_buttons(advice: Advice) -> list[dict[str, str]]:
    """2–3 quick replies {title, payload}: those of the top reasons, then the defaults."""
    knowledge = load_advice_knowledge()
    candidates = [knowledge["reasons"][code]["followup"] for code in advice.reasons[:MAX_RENDERED_REASONS]]
    candidates += knowledge.get("default_followups") or []
    buttons: list[dict[str, str]] = []
    for button in candidates:
        if button["payload"] not in {b["payload"] for b in buttons}:
            buttons.append({"title": button["title"], "payload": button["payload"]})
    return buttons[:MAX_FOLLOWUPS]
