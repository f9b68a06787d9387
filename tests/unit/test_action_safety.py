"""No action crashes or hangs on user input: failures become a polite 「系统繁忙」 reply."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil

from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from rasa_sdk.utils import all_subclasses

import actions
from actions import safety
from actions.safety import SafeAction
from advisor.knowledge import busy_text
from tests.unit.test_actions import DOMAIN, make_tracker

BUSY = busy_text()


class Exploding(SafeAction, Action):
    def name(self):
        return "test_exploding"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="half an answer")
        raise KeyError("boom")


class Slow(SafeAction, Action):
    def name(self):
        return "test_slow"

    async def run(self, dispatcher, tracker, domain):
        await asyncio.Event().wait()  # never finishes on its own
        return []


def run(action):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, make_tracker(), DOMAIN))
    return dispatcher.messages, events


def test_an_exception_becomes_a_polite_reply():
    messages, events = run(Exploding())
    assert [m["text"] for m in messages] == [BUSY] and events == []


def test_a_slow_action_times_out(monkeypatch):
    monkeypatch.setattr(safety, "ACTION_TIME_LIMIT", 0.05)
    messages, events = run(Slow())
    assert [m["text"] for m in messages] == [BUSY] and events == []


def test_every_action_of_the_bot_is_guarded():
    for module in pkgutil.iter_modules(actions.__path__):
        importlib.import_module(f"actions.{module.name}")
    ours = [cls for cls in all_subclasses(Action) if cls.__module__.startswith("actions.")]
    assert len(ours) >= 10
    for cls in ours:
        assert getattr(cls.run, "__guarded__", False), cls


def test_the_action_server_answers_a_corrupt_state_politely():
    executor = ActionExecutor()
    executor.register_package("actions")
    tracker = make_tracker(
        "deny",
        "没有",
        {
            "requested_slot": "has_overdue",
            "answer_failures": "not a number",
            "unknown_facts": 42,
            "diagnosis_topic": "no_such_topic",
        },
    )
    call = {
        "next_action": "validate_diagnosis_form",
        "sender_id": "t",
        "domain": DOMAIN,
        "tracker": {
            "sender_id": "t",
            "slots": tracker.slots,
            "latest_message": tracker.latest_message,
            "events": tracker.events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }
    response = asyncio.run(executor.run(call))
    assert [r.get("text") for r in response["responses"]] == [BUSY]
    assert response["events"] == []
