"""Questions asked after the advice, answered for this user: 「那我现在该先做什么」 from the
steps the advice showed, 「为什么是我」 from its reasons, 「影响征信吗」 from whether the user
was overdue. The answer is the first sentence; the advice above is referred to by its numbers,
never sent again. Texts in knowledge/advice.yml → `followups`; None means "no situational
answer", and the caller sends the general one (knowledge/faq.yml).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from advisor.followup import Shown
from advisor.knowledge import load_advice_knowledge
from advisor.render import step_text

# 「影响征信吗」「会上征信吗」 ask about the effect on the credit record; 「怎么查征信」 does not.
EFFECT_CUES: tuple[str, ...] = (
    "影响",
    "上征信",
    "进征信",
    "记入征信",
    "计入征信",
    "留下记录",
    "留记录",
    "有记录",
    "不良记录",
    "黑名单",
    "会不会上",
    "会上",
)


def _texts(kind: str) -> Mapping[str, str]:
    texts: Mapping[str, str] = load_advice_knowledge()["followups"][kind]
    return texts


def next_step_answer(shown: Optional[Shown], in_diagnosis: bool) -> Optional[str]:
    """「先做什么？」: the first step of the advice shown, then which comes next; during the
    questions, the one step that holds for everyone and that the rest depends on the answers."""
    texts = _texts("next_step")
    if shown is None or not shown.steps:
        return str(texts["before_advice"]) if in_diagnosis else None
    lines = [texts["first"].format(title=step_text(shown.steps[0], shown.variant(shown.steps[0]))["title"])]
    if len(shown.steps) > 1:
        lines.append(
            texts["then"].format(number=2, title=step_text(shown.steps[1], shown.variant(shown.steps[1]))["title"])
        )
    return "\n".join(lines)


# Situations in which nothing personal explains the problem (advisor/situation.py).
NOT_PERSONAL = frozenset({"transient", "suspended"})


def reason_answer(shown: Optional[Shown], in_diagnosis: bool) -> Optional[str]:
    """「为什么是我？」: the likeliest reason shown, as the advice numbered it, and the others by
    name; when nothing personal explains it, that first. During the questions: after them."""
    texts = _texts("reason")
    if shown is None or not shown.reasons:
        return str(texts["before_advice"]) if in_diagnosis else None
    reasons = load_advice_knowledge()["reasons"]
    titles = [f"「{reasons[code]['title']}」" for code in shown.reasons]
    others = texts["others_list"].format(titles="、".join(titles[1:])) if len(titles) > 1 else ""
    template = texts["not_personal" if shown.situation in NOT_PERSONAL else "personal"]
    return str(template.format(reason=reasons[shown.reasons[0]]["title"], others=others))


# 「要怎么做才能恢复」 asks how, 「还能恢复吗」 whether.
HOW_CUES: tuple[str, ...] = (
    "怎么做",
    "怎样做",
    "如何",
    "怎么办",
    "咋办",
    "方法",
    "办法",
    "该做什么",
    "要做什么",
    "怎么才能",
    "怎样才能",
)


def asks_how(text: str) -> bool:
    return any(cue in text for cue in HOW_CUES)


def asks_about_effect(text: str) -> bool:
    """Whether a credit-report question asks what something does to the record."""
    return any(cue in text for cue in EFFECT_CUES)


def credit_report_answer(text: str, facts: Mapping[str, object], shown: Optional[Shown]) -> Optional[str]:
    """「影响征信吗」 once the user said whether they were overdue: yes, an overdue is the kind of
    record that shows there; no overdue, an adjusted limit is not one. Then how to make sure:
    the advice's own step when it has one."""
    overdue = facts.get("has_overdue")
    if not asks_about_effect(text) or not isinstance(overdue, bool):
        return None
    texts = _texts("credit_report_effect")
    steps = shown.steps if shown else ()
    check = (
        texts["check_step"].format(number=steps.index("check_credit_report") + 1)
        if "check_credit_report" in steps
        else texts["check"]
    )
    return "\n".join([texts["overdue" if overdue else "clean"], check])


# What a yes / no / don't-know that answers no question gets (actions/conversation.py).
STRAY_REPLIES = ("offer", "goodbye", "ack")


def stray_reply(intent: str, offered: bool, last_was_offer: bool, said_goodbye: bool) -> str:
    """One of STRAY_REPLIES: the offer of what else the bot answers, the first time; a no or yes
    right after that offer is the reply to it, so goodbye; after a goodbye, or a second stray
    answer, a short acknowledgement (the offer is never sent twice)."""
    if said_goodbye:
        return "ack"
    if last_was_offer and intent in ("affirm", "deny"):
        return "goodbye"
    return "ack" if offered else "offer"
