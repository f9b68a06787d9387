"""The diagnosis form's questions: Rasa runs `action_ask_<slot>` when it requests a slot.

The texts and buttons are in knowledge/diagnosis.yml (`questions`), next to the re-ask texts.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import SafeAction
from actions.common import send_entry
from advisor.contract import SLOTS
from advisor.knowledge import load_diagnosis_config


class ActionAskSlot(SafeAction, Action, ABC):
    """Asks the question for `slot`; abstract so the action server registers only the subclasses."""

    slot = ""

    @abstractmethod
    def name(self) -> Text:
        ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        send_entry(dispatcher, load_diagnosis_config()["questions"][self.slot])
        return []


# One action class per slot, so the action server registers each name.
def _ask_action(slot: str) -> type:
    return type(f"ActionAsk_{slot}", (ActionAskSlot,), {"slot": slot, "name": lambda self: f"action_ask_{slot}"})


ASK_ACTIONS = {slot: _ask_action(slot) for slot in SLOTS}
