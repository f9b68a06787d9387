"""Later replies in one conversation: say only what is new, never a paragraph twice.

An advice after an earlier one (a follow-up question such as 「还能恢复吗」, or a corrected fact)
starts with its answer sentence, then shows only the reasons and steps that are new or worded
differently now, and the new order when it changed; when nothing changed it refers to the
advice above. `Shown` is what an advice reply showed, kept in the `last_advice` slot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Mapping, Optional

from advisor.engine import Advice
from advisor.knowledge import load_advice_knowledge, load_conversation_texts, load_diagnosis_config
from advisor.render import (
    answer_parts,
    reason_line,
    render_advice,
    shown_reasons,
    step_line,
    step_text,
)

# Shorter lines (headers such as 「建议您这样做：」, 「好的。」) may come back; longer ones are
# the paragraphs a user would notice reading twice.
PARAGRAPH_CHARS = 12


@dataclass(frozen=True)
class Shown:
    """The topic, situation, reasons and steps an advice reply showed."""

    topic: str
    situation: str
    reasons: tuple[str, ...]
    steps: tuple[str, ...]
    wording: Mapping[str, str] = field(default_factory=dict)  # Advice.wording

    @classmethod
    def of(cls, advice: Advice) -> Shown:
        return cls(advice.topic, advice.situation, shown_reasons(advice), advice.steps, dict(advice.wording))

    def variant(self, step: str) -> str:
        return self.wording.get(step, self.situation)

    @classmethod
    def from_value(cls, value: object) -> Optional[Shown]:
        """From the slot's value; None for anything else (no advice yet, an old conversation)."""
        if not isinstance(value, dict):
            return None
        try:
            return cls(
                str(value["topic"]),
                str(value["situation"]),
                tuple(str(code) for code in value["reasons"]),
                tuple(str(code) for code in value["steps"]),
                {str(k): str(v) for k, v in (value.get("wording") or {}).items()},
            )
        except (KeyError, TypeError):
            return None

    def value(self) -> dict[str, object]:
        return {
            "topic": self.topic,
            "situation": self.situation,
            "reasons": list(self.reasons),
            "steps": list(self.steps),
            "wording": dict(self.wording),
        }


# Questions about the limit an advice was about, not a new problem: 「还能恢复吗」 after the
# advice on a lowered limit keeps that advice's reasons and steps; only its answer is new.
SAME_LIMIT_TOPICS = frozenset({"restore_limit"})


def ranking_topic(topic: str, previous: Optional[Shown]) -> str:
    """The topic whose ranking an advice on `topic` uses, given the advice shown before."""
    return previous.topic if previous is not None and topic in SAME_LIMIT_TOPICS else topic


def is_paragraph(line: str) -> bool:
    return len(line.strip()) >= PARAGRAPH_CHARS


def paragraphs(texts: Iterable[str]) -> set[str]:
    """The paragraphs (lines of PARAGRAPH_CHARS or more) of texts the bot sent."""
    return {line.strip() for text in texts for line in text.splitlines() if is_paragraph(line)}


def new_lines(text: str, sent: Collection[str]) -> list[str]:
    """The lines of `text` that are not a paragraph already sent."""
    return [line for line in text.splitlines() if not (is_paragraph(line) and line.strip() in sent)]


def _changed_steps(advice: Advice, previous: Shown) -> list[str]:
    return [
        code
        for code in advice.steps
        if code not in previous.steps
        or step_text(code, advice.variant(code)) != step_text(code, previous.variant(code))
    ]


def unchanged(advice: Advice, previous: Shown) -> bool:
    """Whether `advice` shows the same situation, reasons and steps, in the same wording, as `previous`."""
    return (
        advice.situation == previous.situation
        and shown_reasons(advice) == previous.reasons
        and advice.steps == previous.steps
        and not _changed_steps(advice, previous)
    )


def update_unchanged_sentence(
    advice: Advice, previous: Optional[Shown], said: str, slots: Collection[str]
) -> Optional[str]:
    """The one sentence for a fact given after the advice that changes none of it (「好的，按「…」
    记，这个负债比例不算高，原因和建议的步骤都不变…」); None when there is no advice yet or it
    changed (then the changes are shown)."""
    if previous is None or not unchanged(advice, previous):
        return None
    texts = load_diagnosis_config()["texts"]
    assessment = ""
    if "debt_ratio" in slots:
        assessment = texts["assessment_debt_high" if "high_debt" in advice.reasons else "assessment_debt_ok"]
    return str(texts["updated_unchanged"].format(facts=said, assessment=assessment))


def already_answered() -> str:
    return str(load_conversation_texts()["already_answered"]["text"]).strip()


def first_line(parts: tuple[str, str], sent: Collection[str]) -> str:
    """An answer and its outlook (render.answer_parts, render.when_retry_parts) as the first
    line: the outlook only if not said yet; the short answer as a reminder if all was said,
    and nothing once the reminder was sent too."""
    answer, outlook = parts
    if answer + outlook in sent or answer in sent:
        reminder = str(load_advice_knowledge()["render"]["as_said"].format(answer=answer))
        return "" if reminder in sent else reminder
    if any(outlook in paragraph for paragraph in sent):
        return answer
    return answer + outlook


def render_followup(advice: Advice, previous: Optional[Shown], sent: Collection[str] = (), how: str = "") -> str:
    """The whole advice the first time; after that the answer sentence and what changed.
    `sent`: the paragraphs the bot already sent in this conversation (none is sent again);
    `how`: for a question of how (「要怎么做才能恢复」), where to start, after the answer."""
    if previous is None:
        return "\n".join(new_lines(render_advice(advice), sent)) if sent else render_advice(advice)
    texts = load_advice_knowledge()["render"]
    lines = [first_line(answer_parts(advice), sent)] + ([how] if how else [])
    reasons = shown_reasons(advice)
    new_reasons = [code for code in reasons if code not in previous.reasons]
    changed = _changed_steps(advice, previous)
    reordered = advice.steps != previous.steps
    if not new_reasons and not changed and not reordered:
        rest = new_lines("\n".join(lines[1:] or [texts["unchanged"]]), sent)
        # The same question a third time: all of it was said above (knowledge/conversation.yml).
        return "\n".join([line for line in lines[:1] if line] + rest) or already_answered()
    if new_reasons:
        lines.append(texts["new_reasons_header"])
        lines += [reason_line(advice, reasons.index(code) + 1, code) for code in new_reasons]
    if changed:
        lines.append(texts["new_steps_header"])
        lines += [step_line(advice, advice.steps.index(code) + 1, code) for code in changed]
    if reordered:
        titles = [step_text(code, advice.variant(code))["title"] for code in advice.steps]
        lines.append(texts["order"].format(titles=texts["order_separator"].join(titles)))
    if len(new_reasons) < len(reasons) or len(changed) < len(advice.steps):
        lines.append(texts["rest_same"])
    return "\n".join([line for line in lines[:1] if line] + new_lines("\n".join(lines[1:]), sent))
