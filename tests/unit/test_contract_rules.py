"""data/rules/ and advisor/contract.py name the same intent groups (one owner: the contract)."""

from __future__ import annotations

from typing import Dict, Set

import yaml

from advisor.contract import DIAGNOSIS_INTENTS, FAQ_INTENTS, QUESTION_INTENTS, TOPIC_BY_INTENT, TOPICS
from advisor.scope import JIEBEI_LIMIT_INTENTS
from runtime import paths

RULES = paths.DATA / "rules"


def intents_by_rule() -> Dict[str, Set[str]]:
    rules = [
        rule
        for path in sorted(RULES.glob("*.yml"))
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
    ]
    found: Dict[str, Set[str]] = {}
    for rule in rules:
        for step in rule["steps"]:
            if "or" in step:
                found[rule["rule"]] = {item["intent"] for item in step["or"] if "intent" in item}
    return found


def test_the_rules_use_the_contract_s_intent_groups() -> None:
    groups = intents_by_rule()
    assert groups["a limit question starts the diagnosis"] == set(DIAGNOSIS_INTENTS)
    assert groups["answer a general question"] == set(FAQ_INTENTS)
    assert groups["a question in the middle of the diagnosis is answered, then the form goes on"] == set(
        QUESTION_INTENTS
    )


def test_every_diagnosis_intent_has_a_topic_and_every_topic_an_intent() -> None:
    assert set(TOPIC_BY_INTENT.values()) == set(TOPICS)
    assert set(DIAGNOSIS_INTENTS) <= JIEBEI_LIMIT_INTENTS
    assert not set(DIAGNOSIS_INTENTS) & set(FAQ_INTENTS)
