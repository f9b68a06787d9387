"""Base class for form validators that re-ask politely and never loop forever.

Like RasaHQ/financial-demo's custom form validation base: a bad answer gets a re-ask
with an example; after `max_failures` bad answers in a row the question is skipped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions.safety import SafeAction
from advisor.knowledge import load_diagnosis_config

FAILURES_SLOT = "answer_failures"
UNKNOWN_SLOT = "unknown_facts"


class RetryingFormValidationAction(SafeAction, FormValidationAction, ABC):
    max_failures = 2

    @abstractmethod
    def name(self) -> str: ...

    def failures(self, tracker: Tracker) -> int:
        return int(tracker.get_slot(FAILURES_SLOT) or 0)

    def reask(self, dispatcher: CollectingDispatcher, slot: str, invalid: bool = False) -> None:
        """Explains what kind of answer is expected; the form then repeats its question."""
        config = load_diagnosis_config()
        if invalid and slot in config["invalid"]:
            dispatcher.utter_message(text=config["invalid"][slot]["text"])
        elif slot in config["reask"]:
            dispatcher.utter_message(text=config["reask"][slot])
        else:  # the multiple-choice question keeps its re-ask beside its options
            dispatcher.utter_message(text=config[slot]["reask"])

    def record_failure(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, unknown: List[str], invalid: bool = False
    ) -> Dict[str, Any]:
        """Counts a bad answer to `slot` (slot values, as `extract_`/`validate_` methods return
        them); at the limit the slot is treated as unknown and the form moves on."""
        failures = self.failures(tracker) + 1
        if failures >= self.max_failures:
            dispatcher.utter_message(text=load_diagnosis_config()["texts"]["skip"])
            return {FAILURES_SLOT: 0.0, UNKNOWN_SLOT: unknown + [slot] * (slot not in unknown)}
        self.reask(dispatcher, slot, invalid=invalid)
        return {FAILURES_SLOT: float(failures)}
