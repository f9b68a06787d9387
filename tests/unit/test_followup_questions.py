"""「那我现在该先做什么」 and 「为什么是我」 by rule (advisor/followup_questions.py): every training
example of the two intents is read so, and no training example of another intent is."""

from __future__ import annotations

from typing import List, Tuple

import pytest
import yaml

from advisor.followup_questions import NEXT_STEP, REASON, RULE_INTENTS, followup_question
from advisor.normalize import normalized
from runtime.paths import ROOT


def training_examples() -> List[Tuple[str, str]]:
    examples = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip()[2:] if line.strip().startswith("- ") else ""
                if text:
                    examples.append((block["intent"], text))
    return examples


EXAMPLES = training_examples()


def test_every_example_of_the_rule_intents_is_read_by_the_rule() -> None:
    mine = [(intent, text) for intent, text in EXAMPLES if intent in RULE_INTENTS]
    assert len(mine) >= 40
    missed = [(intent, text) for intent, text in mine if followup_question(normalized(text)) != intent]
    assert not missed


def test_no_example_of_another_intent_is_read_by_the_rule() -> None:
    others = [(intent, text) for intent, text in EXAMPLES if intent not in RULE_INTENTS]
    assert len(others) > 1000
    taken = [(intent, text, followup_question(normalized(text))) for intent, text in others]
    assert not [row for row in taken if row[2]]


@pytest.mark.parametrize(
    "text, intent",
    [
        ("那我现在该先做什么", NEXT_STEP),
        ("我该怎么办呢", NEXT_STEP),
        ("为啥偏偏是我呢", REASON),
        ("这到底是啥原因", REASON),
        ("失眠怎么办", None),  # something else named
        ("借呗降额了怎么办", None),  # the problem named: the classifier's
        ("为什么借呗借不出来", None),
        ("是啊怎么了", None),
        ("好的", None),
        ("那我现在到底应该先做什么才能让这件事情好起来呢", None),  # long: the classifier's
    ],
)
def test_short_questions_that_name_nothing_else(text: str, intent: object) -> None:
    assert followup_question(normalized(text)) == intent


def test_a_product_named_leaves_it_to_the_classifier() -> None:
    assert followup_question("怎么办", products=["花呗"]) is None
