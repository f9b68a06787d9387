"""The real-phrasing test set (issue 8): real users' messages, sourced, labelled with domain
intents, and never trained on — neither they nor the held-out set may have a near copy in data/.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from quality.overlap import (
    THRESHOLD,
    Example,
    comparable,
    edit_similarity,
    find_near_copies,
    jaccard,
    read_nlu_examples,
    training_examples,
    trigrams,
)
from runtime.paths import ROOT

REAL = ROOT / "tests" / "nlu_real_phrasing.yml"
SOURCES = ROOT / "tests" / "nlu_real_phrasing_sources.yml"
HELDOUT = ROOT / "tests" / "nlu_heldout.yml"
REAL_TRAINING = ROOT / "data" / "nlu" / "real_phrasing.yml"
# The second real-users set (issue 14): other source lines, never tuned on.
UNSEEN = ROOT / "tests" / "nlu_unseen.yml"
UNSEEN_SOURCES = ROOT / "tests" / "nlu_unseen_sources.yml"
ATEC_LINE = re.compile(r"atec_nlp_sim_train\.csv, line (\d+),")


@pytest.fixture(scope="module")
def real() -> list[Example]:
    return read_nlu_examples(REAL)


@pytest.fixture(scope="module")
def training() -> list[Example]:
    return training_examples()


def _domain_intents() -> set[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}


def _report(copies) -> str:
    return "\n".join(
        f"{c.test.text!r} ({c.test.intent}) ~ {c.training.text!r} in {Path(c.training.path).name} "
        f"(edit {c.edit_similarity:.2f}, 3-gram {c.trigram_jaccard:.2f})"
        for c in copies
    )


def test_at_least_150_real_messages_without_duplicates(real):
    assert len(real) >= 150
    keys = Counter(comparable(e.text) for e in real)
    assert [k for k, n in keys.items() if n > 1] == []


def test_labels_are_domain_intents(real):
    assert {e.intent for e in real} <= _domain_intents()
    counts = Counter(e.intent for e in real)
    # The limit questions real users ask most, and near-domain out_of_scope, are covered.
    for intent in (
        "ask_limit_dropped",
        "ask_restore_limit",
        "ask_cannot_borrow",
        "ask_limit_closed",
        "ask_increase_limit",
        "out_of_scope",
    ):
        assert counts[intent] >= 5, intent


def test_every_message_has_its_source(real):
    sources = yaml.safe_load(SOURCES.read_text(encoding="utf-8"))
    entries = sources["messages"]
    assert sorted((e["text"], e["intent"]) for e in entries) == sorted((e.text, e.intent) for e in real)
    for entry in entries:
        assert entry["source"].startswith("https://"), entry
        assert entry["where"].strip(), entry


def test_no_real_phrasing_message_or_near_copy_in_training_data(real, training):
    copies = find_near_copies(real, training)
    assert not copies, "real-phrasing messages trained on:\n" + _report(copies)


def test_unseen_set_is_large_sourced_and_labelled_with_domain_intents():
    unseen = read_nlu_examples(UNSEEN)
    assert len(unseen) >= 300
    assert {e.intent for e in unseen} <= _domain_intents()
    keys = Counter(comparable(e.text) for e in unseen)
    assert [k for k, n in keys.items() if n > 1] == []
    entries = yaml.safe_load(UNSEEN_SOURCES.read_text(encoding="utf-8"))["messages"]
    assert sorted((e["text"], e["intent"]) for e in entries) == sorted((e.text, e.intent) for e in unseen)


def _atec_lines(entries) -> set[int]:
    return {int(m.group(1)) for m in (ATEC_LINE.search(e) for e in entries) if m}


def test_unseen_set_comes_from_lines_nothing_else_was_taken_from():
    unseen_lines = _atec_lines(
        e["where"] for e in yaml.safe_load(UNSEEN_SOURCES.read_text(encoding="utf-8"))["messages"]
    )
    first_lines = _atec_lines(e["where"] for e in yaml.safe_load(SOURCES.read_text(encoding="utf-8"))["messages"])
    training = yaml.safe_load(REAL_TRAINING.read_text(encoding="utf-8"))
    training_lines = {
        int(re.search(r"line (\d+)", item["metadata"]["source"]).group(1))
        for block in training["nlu"]
        for item in block["examples"]
    }
    low, high = min(unseen_lines), max(unseen_lines)
    assert not {line for line in training_lines | first_lines if low <= line <= high}


def test_no_unseen_message_or_near_copy_in_training_data(training):
    copies = find_near_copies(read_nlu_examples(UNSEEN), training)
    assert not copies, "unseen messages trained on:\n" + _report(copies)


def test_no_heldout_message_or_near_copy_in_training_data(training):
    copies = find_near_copies(read_nlu_examples(HELDOUT), training)
    assert not copies, "held-out messages trained on:\n" + _report(copies)


def test_real_training_phrasing_is_sourced():
    data = yaml.safe_load(REAL_TRAINING.read_text(encoding="utf-8"))
    count = 0
    for block in data["nlu"]:
        for item in block["examples"]:
            assert item["metadata"]["source"].startswith("ATEC atec_nlp_sim_train.csv line "), item
            count += 1
    assert count >= 100


# --- the near-copy measure itself -----------------------------------------------------------


def test_similarity_measures():
    assert edit_similarity("借呗额度降了", "借呗额度降了") == 1.0
    assert edit_similarity("abcde", "abcdx") == pytest.approx(0.8)
    assert jaccard(trigrams("借呗额度降了"), trigrams("借呗额度降了吗")) == pytest.approx(4 / 5)
    # Normalisation first: traditional characters, punctuation and known typos do not hide a copy.
    assert comparable("借唄額度，降了！") == comparable("借呗额度降了")


@pytest.mark.parametrize(
    "test_text, training_text, near",
    [
        ("借呗额度为什么降了", "借呗额度为什么降了", True),
        ("借唄額度為什麼降了？", "借呗额度为什么降了", True),  # traditional + punctuation
        ("借呗额度为什么降了呢", "借呗额度为什么降了", True),  # one character added
        ("借呗额度为什么降了", "花呗额度为什么降了", True),  # one character changed: still a copy
        ("借呗额度为什么降了", "借呗怎么提额", False),
    ],
)
def test_near_copy_detection(test_text, training_text, near):
    copies = find_near_copies([Example(test_text, "x", "test")], [Example(training_text, "y", "train")], THRESHOLD)
    assert bool(copies) is near
