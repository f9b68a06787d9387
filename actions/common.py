"""Small helpers shared by the actions: reading the tracker, sending knowledge entries."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Set

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from advisor.answers import DIAGNOSIS_SLOTS
from advisor.contract import RECENT_EVENTS, STATED_SLOTS, UNKNOWN
from advisor.followup import Shown, paragraphs
from advisor.normalize import NORMALIZED_TEXT, Normalized, normalized

DEFAULT_TOPIC = "cannot_borrow"


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message or {}).get("intent", {}).get("name")


def latest_text(tracker: Tracker) -> Normalized:
    """The latest message as the NLU pipeline normalised it (`normalized_text` in its parse
    data), so the parsers do not normalise it again; a message parsed without that attribute
    (a conversation stored before it existed) is normalised here."""
    latest = tracker.latest_message or {}
    value = latest.get(NORMALIZED_TEXT)
    return Normalized(value) if isinstance(value, str) else normalized(latest.get("text") or "")


def diagnosis_facts(tracker: Tracker) -> Dict[str, Any]:
    """The fact slots (and whether the multiple-choice question was answered) as plain values."""
    facts = {slot: tracker.get_slot(slot) for slot in sorted(DIAGNOSIS_SLOTS)}
    facts[RECENT_EVENTS] = tracker.get_slot(RECENT_EVENTS)
    for slot in STATED_SLOTS:
        facts[slot] = tracker.get_slot(slot)
    return facts


def unknown_facts(tracker: Tracker) -> List[str]:
    return list(tracker.get_slot("unknown_facts") or [])


def facts_with_unknowns(tracker: Tracker) -> Dict[str, Any]:
    """diagnosis_facts, with "unknown" for the facts the user said they do not know."""
    facts = diagnosis_facts(tracker)
    for slot in unknown_facts(tracker):
        if facts.get(slot) is None:
            facts[slot] = UNKNOWN
    return facts


def send_entry(dispatcher: CollectingDispatcher, entry: Mapping[str, Any]) -> None:
    """Sends one knowledge entry (text plus optional quick-reply buttons)."""
    buttons = [{"title": button["title"], "payload": button["payload"]} for button in entry.get("buttons") or []]
    dispatcher.utter_message(text=str(entry["text"]).strip(), buttons=buttons)


def last_shown(tracker: Tracker) -> Optional[Shown]:
    """What the latest advice in this conversation showed (None before the first)."""
    return Shown.from_value(tracker.get_slot("last_advice"))


def events_since_start(tracker: Tracker) -> List[Dict[str, Any]]:
    """The events since this conversation's session started or the user started over."""
    events = list(tracker.events)
    starts = [i for i, event in enumerate(events) if event.get("event") in ("session_started", "restart")]
    return events[starts[-1] + 1 :] if starts else events


def limit_closed_earlier(tracker: Tracker) -> bool:
    """Whether this conversation (since its session or a restart) was about a closed limit: a
    later 「还能恢复吗」 or 「多久可以再试」 is still about that limit."""
    closed = any(
        event.get("event") == "slot" and event.get("name") == "diagnosis_topic" and event.get("value") == "limit_closed"
        for event in events_since_start(tracker)
    )
    return closed or tracker.get_slot("diagnosis_topic") == "limit_closed"


def sent_paragraphs(tracker: Tracker) -> Set[str]:
    """The paragraphs the bot has sent since this conversation's session started (or the user
    started over)."""
    return paragraphs(
        str(event["text"]) for event in events_since_start(tracker) if event.get("event") == "bot" and event.get("text")
    )
