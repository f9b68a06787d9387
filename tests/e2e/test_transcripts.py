"""Conversations that read like transcripts (tests/e2e/transcripts.yml), over REST against the
running bot: each key reply's first sentence, what it must and must not say, the question
left open, and that no paragraph is sent twice in one conversation."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any, Dict, List

import pytest
import yaml

from advisor.followup import is_paragraph
from advisor.knowledge import load_conversation_texts
from devtools.local_bot import Bot
from runtime.paths import ROOT
from tests.replies import texts

TRANSCRIPTS: List[Dict[str, Any]] = yaml.safe_load((ROOT / "tests" / "e2e" / "transcripts.yml").read_text("utf-8"))
TURN_KEYS = {"user", "starts", "has", "lacks", "asks"}


def without_disclaimer(reply: str) -> str:
    disclaimer = str(load_conversation_texts()["disclaimer"]["text"]).strip()
    return reply.replace(disclaimer, "", 1).strip() if reply.startswith(disclaimer) else reply


def test_the_transcripts_are_many_and_well_formed() -> None:
    assert len(TRANSCRIPTS) >= 20
    for transcript in TRANSCRIPTS:
        assert len(transcript["turns"]) >= 1 and transcript["name"]
        for turn in transcript["turns"]:
            assert set(turn) <= TURN_KEYS and isinstance(turn["user"], str), (transcript["name"], turn)
            assert set(turn) - {"user"}, f"{transcript['name']}: a turn that checks nothing: {turn}"
    # Together they open, answer, ask their own questions, correct an answer and say goodbye.
    users = [turn["user"] for transcript in TRANSCRIPTS for turn in transcript["turns"]]
    assert {"还能恢复吗", "多久可以再试", "不对，有四成", "不对，有六成", "再见", "谢谢"} <= set(users)


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=[t["name"] for t in TRANSCRIPTS])
def test_transcript(bot: Bot, transcript: Dict[str, Any]) -> None:
    sender = f"transcript-{uuid.uuid4().hex[:12]}"
    said: List[str] = []
    for number, turn in enumerate(transcript["turns"], start=1):
        reply = without_disclaimer(texts(bot.send(sender, turn["user"])))
        where = f"turn {number} 「{turn['user']}」 got:\n{reply}"
        if "starts" in turn:
            assert reply.startswith(turn["starts"]), where
        for text in turn.get("has") or []:
            assert text in reply, f"missing 「{text}」 in {where}"
        for text in turn.get("lacks") or []:
            assert text not in reply, f"「{text}」 should not be in {where}"
        if "asks" in turn:
            assert bot.tracker(sender)["slots"]["requested_slot"] == turn["asks"], where
        if turn["user"] == "/restart":  # starting over is a new conversation
            assert_no_paragraph_twice(said)
            said = []
        said.append(reply)
    assert_no_paragraph_twice(said)


def assert_no_paragraph_twice(replies: List[str]) -> None:
    paragraphs = Counter(line.strip() for reply in replies for line in reply.splitlines() if is_paragraph(line))
    repeated = [line for line, count in paragraphs.items() if count > 1]
    assert not repeated, f"sent more than once: {repeated}"
