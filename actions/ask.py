"""The diagnosis form's questions: Rasa runs `action_ask_<slot>` when it requests a slot.

The texts and buttons are in knowledge/diagnosis.yml (`questions`, and `recent_events` for the
multiple-choice question), next to the re-ask texts.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import SafeAction
from actions.common import diagnosis_facts, send_entry, unknown_facts
from advisor.contract import QUESTIONS, RECENT_EVENTS
from advisor.knowledge import load_diagnosis_config
from advisor.planner import open_options


class ActionAskSlot(SafeAction, Action, ABC):
    """Asks the question for `slot`; abstract so the action server registers only the subclasses."""

    slot = ""

    @abstractmethod
    def name(self) -> Text:
        ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        config = load_diagnosis_config()
        if self.slot == RECENT_EVENTS:
            send_entry(dispatcher, recent_events_entry(open_options(diagnosis_facts(tracker), unknown_facts(tracker))))
        else:
            send_entry(dispatcher, config["questions"][self.slot])
        return []


def recent_events_entry(options: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The multiple-choice question: numbered options in the text (for typed and text-only
    channels), one button per option, then 「以上都没有」 and 「不清楚」."""
    config = load_diagnosis_config()[RECENT_EVENTS]
    lines = [config["text"]] + [f"{n}. {option['title']}" for n, option in enumerate(options, 1)]
    buttons = [
        {"title": option["title"], "payload": f'/inform{{"{option["slot"]}": true}}'} for option in options
    ] + [config["none"], config["unknown"]]
    return {"text": "\n".join(lines), "buttons": buttons}


# One action class per slot, so the action server registers each name.
def _ask_action(slot: str) -> type:
    return type(f"ActionAsk_{slot}", (ActionAskSlot,), {"slot": slot, "name": lambda self: f"action_ask_{slot}"})


ASK_ACTIONS = {slot: _ask_action(slot) for slot in QUESTIONS}
