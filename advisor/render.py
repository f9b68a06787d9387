"""Readable Chinese text and follow-up buttons for an advice reply."""

from __future__ import annotations

from typing import Mapping

from advisor.engine import Advice
from advisor.knowledge import load_advice_knowledge, load_conversation_texts, load_diagnosis_config

MAX_RENDERED_REASONS = 3
MAX_FOLLOWUPS = 3


def answer_parts(advice: Advice) -> tuple[str, str]:
    """(answer, outlook): the answer to what was asked (can it come back / the likeliest
    reason), and the outlook of the user's situation (how long, on what it depends)."""
    knowledge = load_advice_knowledge()
    answers = knowledge["answers"]
    reason = knowledge["reasons"][advice.reasons[0]]["title"] if advice.reasons else ""
    if advice.topic == "restore_limit":
        answer = answers["restore_limit"][advice.situation]
    elif advice.topic in ("increase_limit", "not_opened"):
        # Nothing personal: the answer that says so (not the baseline reason's title).
        personal = reason and advice.situation != "not_offered"
        answer = answers[advice.topic] if personal else answers[f"{advice.topic}_none"]
    else:
        answer = answers["cause"] if reason else answers["cause_none"]
    return str(answer.format(reason=reason)), outlook(advice)


def outlook(advice: Advice) -> str:
    """How long the user's situation usually takes and on what it depends; with the article's
    own case when that case is about the likeliest reason (`case_for`)."""
    entry = load_advice_knowledge()["situations"][advice.situation]
    case = entry.get("case") if advice.reasons and advice.reasons[0] in (entry.get("case_for") or []) else None
    return str(entry["outlook"]) + (str(case) if case else "")


def answer_sentence(advice: Advice) -> str:
    """The first line of an advice reply: the answer, then the outlook."""
    return "".join(answer_parts(advice))


def when_retry_parts(advice: Advice) -> tuple[str, str]:
    """(answer, outlook) of 「多久可以再试？」 in this user's situation."""
    knowledge = load_advice_knowledge()
    reason = knowledge["reasons"][advice.reasons[0]]["title"] if advice.reasons else ""
    answer = knowledge["answers"]["when_retry"][advice.situation].format(reason=reason)
    return str(answer), outlook(advice)


def step_text(code: str, variant_name: str) -> dict[str, str]:
    """{title, detail, path} of a step in its variant `variant_name` (a situation, or a wording a
    fact chose: Advice.variant); the step's own text when it has no such variant."""
    step = load_advice_knowledge()["steps"][code]
    variant = (step.get("variants") or {}).get(variant_name) or {}
    return {
        "title": str(variant.get("title", step["title"])),
        "detail": str(variant.get("detail", step["detail"])),
        "path": str(variant.get("path", step.get("path")) or ""),
    }


def reason_line(advice: Advice, number: int, code: str) -> str:
    reason = load_advice_knowledge()["reasons"][code]
    return f"{number}. {reason['title']}：{advice.explanations.get(code, reason['why'])}"


def step_line(advice: Advice, number: int, code: str) -> str:
    step = step_text(code, advice.variant(code))
    path = load_advice_knowledge()["render"]["path"].format(path=step["path"]) if step["path"] else ""
    return f"{number}. {step['title']}：{step['detail']}{path}"


def shown_reasons(advice: Advice) -> tuple[str, ...]:
    return advice.reasons[:MAX_RENDERED_REASONS]


def render_advice(advice: Advice) -> str:
    """The answer sentence, the top ≤ 3 reasons with why, then numbered steps with in-app paths."""
    texts = load_advice_knowledge()["render"]
    lines = [answer_sentence(advice)]
    reasons = shown_reasons(advice)
    if reasons:
        lines.append(texts["reasons_header"])
        lines += [reason_line(advice, number, code) for number, code in enumerate(reasons, start=1)]
    if advice.steps:
        lines.append(texts["steps_header"])
        lines += [step_line(advice, number, code) for number, code in enumerate(advice.steps, start=1)]
    return "\n".join(lines)


def render_card_summary(advice: Advice) -> str:
    """The text that goes with the advice card on the web: the card carries the rest."""
    return f"{answer_sentence(advice)}{load_advice_knowledge()['render']['card_hint']}"


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
