"""The conversation-review loop: `make review` (quality/review.py) finds the messages the bot
probably got wrong in a real tracker store, `make review-accept` (quality/review_accept.py)
merges the labelled ones into data/.

The first tests fill a SQLite tracker store of their own through Rasa's TrackerStore API; the
last one reads the store of a running bot after talking to it over REST.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from devtools.local_bot import conversation_key
from quality import review, review_accept

T0 = 1_790_000_000.0  # a fixed point in time (2026)


def user(text: str, intent: str, confidence: float, at: float) -> UserUttered:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    return UserUttered(text, intent={"name": intent, "confidence": confidence}, parse_data=parse, timestamp=at)


def action(name: str, at: float) -> ActionExecuted:
    return ActionExecuted(name, timestamp=at)


CONVERSATIONS = {
    # fell to fallback, then the user picked an intent from 「您是想问…吗？」
    "conv-fallback": [
        action("action_session_start", T0),
        action("action_listen", T0),
        user("借呗咋整没了", "nlu_fallback", 0.31, T0 + 1),
        action("action_two_stage_fallback", T0 + 1.1),
        BotUttered("您是想问「借呗额度没了」吗？", timestamp=T0 + 1.2),
        action("action_listen", T0 + 1.3),
        user("/ask_limit_closed", "ask_limit_closed", 1.0, T0 + 5),
    ],
    # understood with low confidence
    "conv-low": [
        action("action_listen", T0 + 100),
        user("额度那个事儿能不能搞一下", "ask_increase_limit", 0.42, T0 + 101),
        action("action_answer_faq", T0 + 101.5),
        action("action_listen", T0 + 102),
    ],
    # confidently wrong, then corrected by the user
    "conv-corrected": [
        action("action_listen", T0 + 200),
        user("我想把借呗关了", "ask_limit_closed", 0.93, T0 + 201),
        action("action_start_diagnosis", T0 + 201.5),
        action("action_listen", T0 + 202),
        user("不是，我是说我自己想关闭借呗", "out_of_scope", 0.81, T0 + 230),
        action("utter_out_of_scope", T0 + 230.5),
    ],
    # confidently wrong, then rephrased
    "conv-rephrased": [
        action("action_listen", T0 + 300),
        user("借呗还款了怎么还是用不成", "out_of_scope", 0.88, T0 + 301),
        action("utter_out_of_scope", T0 + 301.5),
        action("action_listen", T0 + 302),
        user("借呗还款了怎么还是用不了", "ask_cannot_borrow", 0.97, T0 + 320),
    ],
    # fine: confident, no correction (a later message, but not similar and too late anyway)
    "conv-fine": [
        action("action_listen", T0 + 400),
        user("借呗额度怎么突然降了", "ask_limit_dropped", 0.99, T0 + 401),
        action("action_start_diagnosis", T0 + 401.5),
        user("没有", "deny", 0.98, T0 + 900),
    ],
    # the same fallback message again, newest of all: one entry, two conversations
    "conv-again": [
        action("action_listen", T0 + 500),
        user("借呗咋整没了", "nlu_fallback", 0.28, T0 + 501),
        action("action_two_stage_fallback", T0 + 501.1),
    ],
}


@pytest.fixture
def filled_store(tmp_path: Path) -> Path:
    """A SQLite tracker store file with the conversations above, and an endpoints.yml for it."""
    db = tmp_path / "tracker.db"
    store = SQLTrackerStore(dialect="sqlite", db=str(db))

    async def fill() -> None:
        for sender, events in CONVERSATIONS.items():
            await store.save(DialogueStateTracker.from_events(sender, events))

    asyncio.run(fill())
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(db)}}), encoding="utf-8"
    )
    return endpoints


def run_review(endpoints: Path, out: Path) -> list[dict]:
    assert review.main(["--endpoints", str(endpoints), "--out", str(out)]) == 0
    return yaml.safe_load(out.read_text(encoding="utf-8"))["candidates"]


def test_review_finds_fallback_low_confidence_corrections_and_rephrasings(filled_store, tmp_path, capsys):
    candidates = run_review(filled_store, tmp_path / "review" / "candidates.yml")
    out = capsys.readouterr().out
    assert "4 review candidates from 6 conversations" in out
    assert str(tmp_path / "review" / "candidates.yml") in out

    by_message = {c["message"]: c for c in candidates}
    assert set(by_message) == {"借呗咋整没了", "额度那个事儿能不能搞一下", "我想把借呗关了", "借呗还款了怎么还是用不成"}

    fallback = by_message["借呗咋整没了"]
    assert "fallback" in fallback["reasons"]
    assert fallback["occurrences"] == 2 and set(fallback["conversations"]) == {"conv-again", "conv-fallback"}
    assert fallback["conversation"] == "conv-again"  # the newest kept
    assert fallback["user_chose_intent"] == "ask_limit_closed"

    low = by_message["额度那个事儿能不能搞一下"]
    assert low["predicted_intent"] == "ask_increase_limit" and low["confidence"] == pytest.approx(0.42)
    assert low["reasons"] == ["low_confidence<0.6"] and low["conversation"] == "conv-low"

    corrected = by_message["我想把借呗关了"]
    assert corrected["reasons"] == ["user_corrected"] and corrected["next_message"].startswith("不是")

    rephrased = by_message["借呗还款了怎么还是用不成"]
    assert rephrased["reasons"] == ["user_rephrased"] and rephrased["predicted_intent"] == "out_of_scope"

    # newest first, every entry with the fields a maintainer needs
    times = [c["timestamp"] for c in candidates]
    assert times == sorted(times, reverse=True)
    for candidate in candidates:
        assert {"message", "predicted_intent", "confidence", "conversation", "timestamp", "reasons", "label"} <= set(
            candidate
        )
        assert candidate["label"] is None


def test_threshold_and_window_are_options(filled_store, tmp_path):
    out = tmp_path / "c.yml"
    assert (
        review.main(["--endpoints", str(filled_store), "--out", str(out), "--threshold", "0.3", "--window", "5"]) == 0
    )
    messages = {c["message"] for c in yaml.safe_load(out.read_text(encoding="utf-8"))["candidates"]}
    # 0.42 is no longer low; the correction (29 s later) and the rephrasing (19 s) are outside 5 s
    assert messages == {"借呗咋整没了"}


def test_correction_and_similarity_rules():
    assert review.is_correction("不对，我问的是花呗")
    assert review.is_correction("我是说借呗")
    assert not review.is_correction("借呗不能用了")
    assert review.similar("借呗还款了怎么还是用不成", "借呗还款了怎么还是用不了")
    assert not review.similar("借呗额度怎么突然降了", "没有")


def feedback(helpful: bool, at: float) -> list:
    payload = f'/feedback{{"helpful": "{"yes" if helpful else "no"}"}}'
    return [
        user(payload, "feedback", 1.0, at),
        action("action_record_feedback", at + 0.1),
        SlotSet("advice_feedback", {"helpful": helpful, "topic": "limit_dropped"}, timestamp=at + 0.1),
    ]


def test_a_thumbs_down_makes_the_messages_behind_that_advice_candidates(tmp_path):
    turns = review.turns_from_events(
        "conv-feedback",
        [
            user("额度少了好多", "ask_limit_dropped", 0.95, T0),  # behind a 👍: not a candidate
            action("action_give_advice", T0 + 0.5),
            *feedback(True, T0 + 10),
            user("借呗又借不出来", "ask_cannot_borrow", 0.97, T0 + 400),  # behind the 👎
            user("没有", "deny", 0.99, T0 + 800),
            user('/inform{"debt_ratio": 20}', "inform", 1.0, T0 + 1200),  # a button: never a candidate
            action("action_give_advice", T0 + 1200.5),
            *feedback(False, T0 + 1300),
            user("额度那个事儿能不能搞一下", "ask_increase_limit", 0.42, T0 + 2000),  # low, then 👍
            *feedback(True, T0 + 2010),
        ],
    )
    found = {c.message: c.reasons for c in review.candidates_from_turns(turns)}
    assert found == {
        "借呗又借不出来": [review.UNHELPFUL],
        "没有": [review.UNHELPFUL],
        "额度那个事儿能不能搞一下": ["low_confidence<0.6", review.HELPFUL],
    }


# --- review-accept -----------------------------------------------------------------------------


def _labelled(tmp_path: Path, labels: dict[str, str]) -> Path:
    path = tmp_path / "candidates.yml"
    candidates = [
        {
            "message": m,
            "predicted_intent": "nlu_fallback",
            "confidence": 0.3,
            "conversation": "c1",
            "timestamp": "2026-11-23T10:00:00+00:00",
            "reasons": ["fallback"],
            "label": label,
        }
        for m, label in labels.items()
    ]
    path.write_text(yaml.safe_dump({"candidates": candidates}, allow_unicode=True), encoding="utf-8")
    return path


def test_accept_merges_labelled_messages_once_with_their_origin(tmp_path):
    out = tmp_path / "reviewed.yml"
    candidates = _labelled(
        tmp_path,
        {
            "借呗咋整没了": "ask_limit_closed",
            "额度那个事儿能不能搞一下": "",  # not labelled: skipped
            "借呗额度降了": "ask_limit_dropped",  # already in data/
            "借呗为什么不能用": "ask_cannot_borrow",  # a real-phrasing test message
        },
    )
    report = review_accept.accept(candidates, out, today="2026-11-23")
    assert report["added"] == ["'借呗咋整没了' → ask_limit_closed"]
    reasons = " ".join(report["skipped"])
    assert "already in data/" in reasons and "near copy of a test message" in reasons

    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["nlu"] == [
        {
            "intent": "ask_limit_closed",
            "examples": [
                {
                    "text": "借呗咋整没了",
                    "metadata": {
                        "source": "conversation review: conversation c1, 2026-11-23T10:00:00+00:00",
                        "predicted": "nlu_fallback (0.3)",
                        "accepted": "2026-11-23",
                    },
                }
            ],
        }
    ]
    # a second run adds nothing
    again = review_accept.accept(candidates, out, today="2026-11-23")
    assert again["added"] == []


def test_accept_rejects_labels_outside_the_domain(tmp_path):
    out = tmp_path / "reviewed.yml"
    candidates = _labelled(tmp_path, {"借呗咋整没了": "ask_limit_gone", "借呗怎么提额度呀": "ask_increase_limit"})
    with pytest.raises(review_accept.LabelError, match="ask_limit_gone"):
        review_accept.accept(candidates, out)
    assert not out.exists()  # nothing written
    assert review_accept.main(["--candidates", str(candidates), "--out", str(out)]) == 1


def test_accepted_file_is_valid_training_data(tmp_path):
    from rasa.shared.nlu.training_data.loading import load_data

    out = tmp_path / "reviewed.yml"
    review_accept.accept(_labelled(tmp_path, {"借呗咋整没了": "ask_limit_closed"}), out)
    data = load_data(str(out))
    assert [(m.get("text"), m.get("intent")) for m in data.intent_examples] == [("借呗咋整没了", "ask_limit_closed")]


# --- against a running bot ----------------------------------------------------------------------


def test_review_reads_the_store_of_a_running_bot(bot, tmp_path):
    """Talk to the bot over REST; its SQLite tracker store then yields the misunderstood message."""
    sender = f"review-{uuid.uuid4().hex[:10]}"
    gibberish = "嗯嗯啊啊那个那个呃"
    bot.send(sender, gibberish)
    bot.send(sender, "不是，我是说借呗额度没了")
    endpoints = bot.workdir / "endpoints.yml"
    out = tmp_path / "candidates.yml"
    candidates = run_review(endpoints, out)
    mine = {c["message"]: c for c in candidates if c["conversation"] == conversation_key(sender)}
    assert gibberish in mine, candidates
    assert "user_corrected" in mine[gibberish]["reasons"]
    assert mine[gibberish]["next_message"] == "不是，我是说借呗额度没了"

    # label it and accept it into a data file of its own
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    for candidate in data["candidates"]:
        candidate["label"] = "ask_limit_closed" if candidate["message"] == gibberish else None
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    reviewed = tmp_path / "reviewed.yml"
    report = review_accept.accept(out, reviewed)
    assert report["added"] == [f"{gibberish!r} → ask_limit_closed"]
    assert "conversation " + conversation_key(sender) in reviewed.read_text(encoding="utf-8")


def test_a_thumbs_down_over_rest_is_kept_in_the_tracker_and_reviewed(bot, tmp_path):
    """👎 under a real advice: the advice_feedback slot in the tracker, the reply polite, and
    make review lists what the user typed before it."""
    sender = f"review-{uuid.uuid4().hex[:10]}"
    replies = bot.send(sender, "借呗被关了，以前逾期过两个月")
    for answer in ("不清楚", "不清楚", "不清楚", "不清楚", "不清楚", "不清楚"):
        if any(isinstance(r.get("custom"), dict) and "advice" in r["custom"] for r in replies):
            break
        replies = bot.send(sender, answer)
    buttons = {b["title"]: b["payload"] for r in replies for b in r.get("buttons") or []}
    assert "👎 没帮助" in buttons and "👍 有帮助" in buttons, replies
    answer = bot.send(sender, buttons["👎 没帮助"])
    assert "抱歉没能帮上您" in answer[0]["text"]
    slots = bot.tracker(sender)["slots"]
    assert slots["advice_feedback"] == {"helpful": False, "topic": "limit_closed"}

    candidates = run_review(bot.workdir / "endpoints.yml", tmp_path / "candidates.yml")
    mine = {c["message"]: c for c in candidates if c["conversation"] == conversation_key(sender)}
    assert "借呗被关了，以前逾期过两个月" in mine, candidates
    assert review.UNHELPFUL in mine["借呗被关了，以前逾期过两个月"]["reasons"]


def test_review_masks_pii_that_reached_the_store_unmasked(tmp_path):
    """A store written by a channel without the guard (or before it knew a form) still gives a
    candidates file without the numbers, owner-readable only."""
    db = tmp_path / "tracker.db"
    store = SQLTrackerStore(dialect="sqlite", db=str(db))
    events = [action("action_listen", T0), user("我手机138 1111 2222，借呗咋整没了", "nlu_fallback", 0.3, T0 + 1)]
    asyncio.run(store.save(DialogueStateTracker.from_events("13811112222", events)))
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"tracker_store": {"type": "SQL", "dialect": "sqlite", "db": str(db)}}), encoding="utf-8"
    )
    out = tmp_path / "candidates.yml"
    [candidate] = run_review(endpoints, out)
    assert candidate["message"] == "我手机〔手机号〕，借呗咋整没了"
    assert "1111" not in out.read_text(encoding="utf-8")
    assert candidate["conversation"].startswith("anon-")
    assert out.stat().st_mode & 0o777 == 0o600
