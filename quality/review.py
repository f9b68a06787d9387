"""The conversation-review loop, step 1: find the user messages the bot probably got wrong.

Reads every conversation in the tracker store configured in endpoints.yml (the embedded SQLite
default, PostgreSQL, or any other Rasa tracker store) through Rasa's own TrackerStore API, and
writes review/candidates.yml with the user messages that

- fell to fallback (intent nlu_fallback, or the bot answered with the two-stage fallback or
  the default fallback action),
- had an intent confidence below --threshold (default 0.6), or
- were followed by the user correcting or rephrasing: the next message of the same
  conversation came within --window seconds (default 120) and either starts like a
  correction (不是, 不对, 我是说, 我问的是 …) or says much the same again
  (char-bigram Jaccard or edit similarity >= 0.5), or the user turned down / replaced the
  bot's 「您是想问…吗？」 guess, or
- led to an advice the user marked 👎 (``advice_unhelpful``): every message typed since the
  previous 👍 / 👎. A 👍 adds ``advice_helpful`` to the candidates it follows, so the
  maintainer sees that the user was content with how they were read.

Each candidate has the message (PII-masked by the channels and again here), the predicted intent and
its confidence, the conversation (sender id), the time, the reasons, and — when the user
picked an intent from the fallback buttons — that intent as a hint. Newest first; the same
message (after normalisation) appears once, with how often and in which conversations.

    python -m quality.review [--endpoints endpoints.yml] [--out review/candidates.yml]

A maintainer then fills in `label:` for the candidates worth learning from and runs
`make review-accept` (quality/review_accept.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml  # noqa: E402

from advisor.answers import CORRECTION_STARTS  # noqa: E402
from channels.guard import mask_pii, safe_sender  # noqa: E402
from devtools.processes import open_private
from quality.overlap import comparable, edit_similarity  # noqa: E402
from runtime.paths import ROOT

DEFAULT_THRESHOLD = 0.6
DEFAULT_WINDOW_S = 120.0
SIMILAR = 0.5
FALLBACK_INTENT = "nlu_fallback"
FEEDBACK_SLOT = "advice_feedback"
UNHELPFUL = "advice_unhelpful"
HELPFUL = "advice_helpful"
FALLBACK_ACTIONS = {
    "action_two_stage_fallback",
    "action_default_fallback",
    "action_default_ask_affirmation",
    "action_default_ask_rephrase",
}


@dataclass
class Turn:
    text: str
    intent: Optional[str]
    confidence: Optional[float]
    timestamp: float
    sender_id: str
    bot_actions: list[str] = field(default_factory=list)
    # The 👍 (True) / 👎 (False) this message gave (the advice_feedback slot it set).
    feedback: Optional[bool] = None


@dataclass
class Candidate:
    message: str
    predicted_intent: Optional[str]
    confidence: Optional[float]
    sender_id: str
    timestamp: float
    reasons: list[str]
    next_message: Optional[str] = None
    user_chose_intent: Optional[str] = None
    occurrences: int = 1
    conversations: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "message": self.message,
            "predicted_intent": self.predicted_intent,
            "confidence": None if self.confidence is None else round(float(self.confidence), 4),
            "conversation": self.sender_id,
            "timestamp": datetime.fromtimestamp(self.timestamp, timezone.utc).isoformat(timespec="seconds"),
            "reasons": self.reasons,
        }
        if self.next_message is not None:
            item["next_message"] = self.next_message
        if self.user_chose_intent:
            item["user_chose_intent"] = self.user_chose_intent
        if self.occurrences > 1:
            item["occurrences"] = self.occurrences
            item["conversations"] = self.conversations
        item["label"] = None  # filled in by the maintainer, read by make review-accept
        return item


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def similar(a: str, b: str) -> bool:
    ca, cb = comparable(a), comparable(b)
    if not ca or not cb or ca == cb:
        return bool(ca) and ca == cb
    ga, gb = _bigrams(ca), _bigrams(cb)
    jaccard = len(ga & gb) / len(ga | gb)
    return jaccard >= SIMILAR or edit_similarity(ca, cb) >= SIMILAR


def is_correction(text: str) -> bool:
    stripped = text.strip().lstrip("，,。. ")
    return stripped.startswith(CORRECTION_STARTS)


def turns_from_events(sender_id: str, events: Iterable[Any]) -> list[Turn]:
    """User messages of one conversation, each with the actions the bot ran after it."""
    turns: list[Turn] = []
    for event in events:
        kind = getattr(event, "type_name", None)
        if kind == "user":
            parse = getattr(event, "parse_data", None) or {}
            intent = (parse.get("intent") or {}) if isinstance(parse, dict) else {}
            name = intent.get("name") or (getattr(event, "intent", None) or {}).get("name")
            confidence = intent.get("confidence")
            turns.append(
                Turn(
                    # Masked again: stores written before the guard knew a form, or by a
                    # channel without it, must not reach a file people pass around.
                    text=mask_pii(event.text or "")[0],
                    intent=name,
                    confidence=None if confidence is None else float(confidence),
                    timestamp=float(event.timestamp or 0.0),
                    sender_id=sender_id,
                )
            )
        elif kind == "action" and turns:
            name = getattr(event, "action_name", None)
            if name and name != "action_listen":
                turns[-1].bot_actions.append(name)
        elif kind == "slot" and turns and getattr(event, "key", None) == FEEDBACK_SLOT:
            value = getattr(event, "value", None)
            if isinstance(value, dict) and isinstance(value.get("helpful"), bool):
                turns[-1].feedback = value["helpful"]
    return turns


def candidates_from_turns(
    turns: list[Turn], threshold: float = DEFAULT_THRESHOLD, window_s: float = DEFAULT_WINDOW_S
) -> list[Candidate]:
    found: dict[int, Candidate] = {}
    for index, turn in enumerate(turns):
        if not _typed(turn):
            continue  # button payloads are not words anyone typed
        reasons: list[str] = []
        fell_back = turn.intent == FALLBACK_INTENT or any(a in FALLBACK_ACTIONS for a in turn.bot_actions)
        if fell_back:
            reasons.append("fallback")
        if turn.confidence is not None and turn.confidence < threshold and turn.intent != FALLBACK_INTENT:
            reasons.append(f"low_confidence<{threshold:g}")
        following = turns[index + 1] if index + 1 < len(turns) else None
        next_message = None
        chosen = None
        if following is not None and following.timestamp - turn.timestamp <= window_s:
            if following.text.startswith("/"):
                # A button of the 「您是想问…吗？」 question: the user's own label for this message.
                if fell_back:
                    chosen = following.text[1:].split("{", 1)[0].strip() or None
                    if chosen == "out_of_scope":
                        reasons.append("user_rejected_guess")
                        chosen = None
            elif is_correction(following.text):
                reasons.append("user_corrected")
                next_message = following.text
            elif similar(turn.text, following.text):
                reasons.append("user_rephrased")
                next_message = following.text
        if reasons:
            found[index] = _candidate(turn, reasons, next_message, chosen)
    _add_feedback(turns, found)
    return [found[index] for index in sorted(found)]


def _typed(turn: Turn) -> bool:
    return bool(turn.text) and not turn.text.startswith("/")


def _candidate(
    turn: Turn, reasons: list[str], next_message: Optional[str] = None, chosen: Optional[str] = None
) -> Candidate:
    return Candidate(
        message=turn.text,
        predicted_intent=turn.intent,
        confidence=turn.confidence,
        sender_id=turn.sender_id,
        timestamp=turn.timestamp,
        reasons=reasons,
        next_message=next_message,
        user_chose_intent=chosen,
        conversations=[turn.sender_id],
    )


def _add_feedback(turns: list[Turn], found: dict[int, Candidate]) -> None:
    """A 👎 makes every message typed since the previous 👍 / 👎 a candidate; a 👍 marks those
    already found."""
    span_start = 0
    for index, turn in enumerate(turns):
        if turn.feedback is None:
            continue
        for earlier in range(span_start, index):
            if not _typed(turns[earlier]) or turns[earlier].feedback is not None:
                continue
            reason = HELPFUL if turn.feedback else UNHELPFUL
            if earlier in found:
                if reason not in found[earlier].reasons:
                    found[earlier].reasons.append(reason)
            elif not turn.feedback:
                found[earlier] = _candidate(turns[earlier], [UNHELPFUL])
        span_start = index + 1


def deduplicate(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Newest first; one entry per message (after normalisation), the newest kept."""
    merged: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: c.timestamp, reverse=True):
        key = comparable(candidate.message) or candidate.message
        kept = merged.get(key)
        if kept is None:
            merged[key] = candidate
            continue
        kept.occurrences += 1
        if candidate.sender_id not in kept.conversations:
            kept.conversations.append(candidate.sender_id)
        kept.reasons.extend(r for r in candidate.reasons if r not in kept.reasons)
        kept.user_chose_intent = kept.user_chose_intent or candidate.user_chose_intent
    return list(merged.values())


def tracker_store_from_endpoints(endpoints: Path):
    import rasa.shared.utils.io
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import EndpointConfig

    # Only the tracker store's section has its ${VARIABLES} expanded: the review needs the
    # database's password, not the action server's secret.
    section = (yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}).get("tracker_store")
    config = None
    if section is not None:
        config = EndpointConfig.from_dict(rasa.shared.utils.io.read_yaml(yaml.safe_dump(section)))
    # No configuration means Rasa's in-memory store, which keeps nothing between processes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy 1.4 deprecation notices from inside Rasa
        return TrackerStore.create(config)


async def collect(store, threshold: float, window_s: float) -> tuple[list[Candidate], int]:
    found: list[Candidate] = []
    conversations = 0
    for sender_id in sorted(await store.keys()):
        tracker = await store.retrieve_full_tracker(sender_id) if hasattr(store, "retrieve_full_tracker") else None
        if tracker is None:
            tracker = await store.retrieve(sender_id)
        if tracker is None:
            continue
        conversations += 1
        found.extend(
            candidates_from_turns(turns_from_events(safe_sender(sender_id), tracker.events), threshold, window_s)
        )
    return deduplicate(found), conversations


def write_candidates(path: Path, candidates: list[Candidate], meta: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Conversation review candidates (make review). Newest first, one entry per message.\n"
        "# Set `label:` to the intent the user meant (see ../shared/CONTRACT.md; domain.yml lists\n"
        "# them all), or leave it empty to skip the message, then run `make review-accept`.\n"
        "# Messages are PII-masked (by the channels, and again here). Do not commit this file.\n"
    )
    body = {**meta, "candidates": [c.as_dict() for c in candidates]}
    text = header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=120)
    with open_private(path, "w") as out:  # it quotes users
        out.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=Path, default=ROOT / "endpoints.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "review" / "candidates.yml")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="low intent confidence")
    parser.add_argument("--window", type=float, default=DEFAULT_WINDOW_S, help="seconds for a rephrase")
    args = parser.parse_args(argv)

    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    store = tracker_store_from_endpoints(args.endpoints)
    candidates, conversations = asyncio.run(collect(store, args.threshold, args.window))
    write_candidates(
        args.out,
        candidates,
        {
            "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "tracker_store": type(store).__name__,
            "conversations_read": conversations,
            "low_confidence_threshold": args.threshold,
        },
    )
    print(f"{len(candidates)} review candidates from {conversations} conversations: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
