"""Readable Chinese text and follow-up buttons for an advice reply."""

from __future__ import annotations

from typing import Mapping

from advisor.engine import Advice
from advisor.knowledge import load_advice_knowledge, load_conversation_texts, load_diagnosis_config

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


def render_card_summary(advice: Advice) -> str:
    """The one line that goes with the advice card on the web: the card carries the rest."""
    knowledge = load_advice_knowledge()
    texts = knowledge["render"]
    topic = knowledge["topics"][advice.topic]
    if advice.reasons:
        return str(texts["card_summary"].format(topic=topic, reason=knowledge["reasons"][advice.reasons[0]]["title"]))
    return str(texts["card_summary_no_reason"].format(topic=topic))


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


def feedback_buttons() -> list[dict[str, str]]:
    """👍 / 👎 (knowledge/conversation.yml), offered after the follow-ups of every advice."""
    return [{"title": b["title"], "payload": b["payload"]} for b in load_conversation_texts()["feedback_buttons"]]


def describe_facts(facts: Mapping[str, object]) -> str:
    """The stated facts as the user can check them: 「近期有过逾期，逾期约4天」 ("" for none)."""
    templates = load_diagnosis_config()["understood"]
    said = []
    for slot, value in facts.items():
        template = templates.get(slot)
        if template is None or value is None:
            continue
        if isinstance(value, bool):
            said.append(template["true" if value else "false"])
        elif isinstance(value, (int, float)):
            if value == 0 and "zero" in template:
                said.append(template["zero"])
            else:
                said.append(template["value"].format(value=_number(value)))
    return "，".join(said)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
