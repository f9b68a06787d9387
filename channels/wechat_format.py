"""Pure functions turning the bot's collected messages into one WeChat text reply."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from advisor.knowledge import load_conversation_texts

# WeChat rejects text replies whose Content exceeds 2048 bytes (UTF-8), not characters.
TEXT_LIMIT_BYTES = 2048
_TEXTS = load_conversation_texts()["text_channel"]  # knowledge/conversation.yml
TRUNCATION_NOTICE = _TEXTS["truncated"]

Button = Dict[str, Any]

# 「回复 0」 starts over in every text channel (WeChat, the shell): Rasa's /restart forgets
# the conversation's facts and answers utter_restart (domain.yml).
RESTART_NUMBER = "0"
RESTART_PAYLOAD = "/restart"
RESTART_OPTION = _TEXTS["option"].format(number=RESTART_NUMBER, title=_TEXTS["restart"])


@dataclass(frozen=True)
class RenderedReply:
    """One plain-text reply, plus the buttons it offers as numbered options."""

    text: str
    buttons: List[Button] = field(default_factory=list)


def render_buttons(buttons: Sequence[Mapping[str, Any]], start: int = 1) -> str:
    """Renders buttons as numbered options, one "回复 1：标题" line each."""
    return "\n".join(
        _TEXTS["option"].format(number=number, title=_button_title(button))
        for number, button in enumerate(buttons, start)
    )


def render_reply(messages: Sequence[Mapping[str, Any]], limit_bytes: int = TEXT_LIMIT_BYTES) -> RenderedReply:
    """Joins the bot's messages into one reply, numbering buttons across messages.

    Custom payloads (e.g. ``{"advice": {...}}``) are skipped: the bot always sends
    the same content as readable text alongside them.
    """
    blocks: List[str] = []
    texts: List[str] = []
    options: List[str] = []
    offered: List[Button] = []
    for message in messages:
        lines = [str(message[key]).strip() for key in ("text", "image", "attachment") if message.get(key)]
        texts.extend(lines)
        buttons = [dict(b) for b in message.get("buttons") or [] if isinstance(b, Mapping)]
        if buttons:
            start = len(offered) + 1
            listed = _already_numbered(lines, buttons, start)
            rest = buttons[len(listed) :]
            if rest:
                options.append(render_buttons(rest, start=start + len(listed)))
                lines.append(options[-1])
            offered.extend(buttons)
        if lines:
            blocks.append("\n".join(lines))
    if offered:
        # Once, after the last options: the way out of any question.
        options.append(RESTART_OPTION)
        blocks.append(RESTART_OPTION)

    # CollectingOutputChannel splits texts at blank lines, so blank lines rejoin them.
    text = "\n\n".join(blocks)
    if _utf8_len(text) > limit_bytes and options:
        # Keep every numbered option visible so the numbers the user may answer stay valid.
        option_text = "\n\n".join(options)
        body_budget = limit_bytes - _utf8_len(option_text) - len("\n\n")
        body = truncate_text("\n\n".join(texts), body_budget)
        text = f"{body}\n\n{option_text}" if body else option_text
    return RenderedReply(text=truncate_text(text, limit_bytes), buttons=offered)


def _already_numbered(lines: List[str], buttons: List[Button], start: int) -> List[Button]:
    """The leading buttons the text already lists as 「1. 标题」 with the same numbers (the
    multiple-choice question does): they are still offered for a numeric reply, not listed twice."""
    text = "\n".join(lines)
    listed: List[Button] = []
    for number, button in enumerate(buttons, start):
        if f"{number}. {_button_title(button)}" not in text:
            break
        listed.append(button)
    return listed


def truncate_text(text: str, limit_bytes: int = TEXT_LIMIT_BYTES, notice: str = TRUNCATION_NOTICE) -> str:
    """Shortens ``text`` to at most ``limit_bytes`` UTF-8 bytes, ending with ``notice``."""
    if _utf8_len(text) <= limit_bytes:
        return text
    budget = limit_bytes - _utf8_len(notice)
    if budget <= 0:
        return _cut_utf8(text, max(limit_bytes, 0))
    cut = _cut_utf8(text, budget)
    # Prefer ending at a line break so a sentence or a numbered step is not cut in half.
    newline = cut.rfind("\n")
    if newline >= len(cut) // 2:
        cut = cut[:newline]
    return cut.rstrip() + notice


def match_button(text: Optional[str], buttons: Optional[Sequence[Mapping[str, Any]]]) -> Optional[str]:
    """Maps a numeric answer ("1", "１", " 2 ") to the payload of the offered button, and
    「0」 to starting over."""
    if not text:
        return None
    number = unicodedata.normalize("NFKC", text).strip()
    if number == RESTART_NUMBER:
        return RESTART_PAYLOAD
    if not buttons:
        return None
    # The length cap keeps int() away from huge digit strings (Python limits their size).
    if not number.isdecimal() or len(number) > 4:
        return None
    index = int(number)
    if not 1 <= index <= len(buttons):
        return None
    button = buttons[index - 1]
    payload = button.get("payload") or button.get("title")
    return str(payload) if payload else None


def _button_title(button: Mapping[str, Any]) -> str:
    return str(button.get("title") or button.get("payload") or "").strip()


def _utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut_utf8(text: str, limit_bytes: int) -> str:
    return text.encode("utf-8")[:limit_bytes].decode("utf-8", "ignore")
