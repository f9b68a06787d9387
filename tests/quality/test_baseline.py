"""The baselines of quality/baseline.py: the plain one is what issue 8 names (scikit-learn's
defaults on the text as typed); the tuned one has the bot's normalisation and C."""

from __future__ import annotations

import pytest

from quality.baseline import build_model, train
from quality.overlap import Example

EXAMPLES = [
    Example(t, i, "test")
    for i, texts in {
        "ask_limit_closed": ["借唄被關閉了", "借呗没有了", "借呗额度清零了"],
        "greet": ["你好", "您好", "早上好"],
    }.items()
    for t in texts
]


def test_plain_is_scikit_learn_s_defaults():
    model = build_model("plain")
    assert model.named_steps["clf"].C == 1.0
    assert model.named_steps["tfidf"].sublinear_tf is False
    assert model.named_steps["tfidf"].ngram_range == (1, 3) and model.named_steps["tfidf"].analyzer == "char"


def test_only_the_tuned_baseline_sees_normalised_text():
    plain, tuned = train(EXAMPLES, "plain"), train(EXAMPLES, "tuned")
    plain_vocabulary = set(plain.named_steps["tfidf"].vocabulary_)
    tuned_vocabulary = set(tuned.named_steps["tfidf"].vocabulary_)
    assert "關" in plain_vocabulary and "关" not in plain_vocabulary
    assert "关" in tuned_vocabulary and "關" not in tuned_vocabulary
    assert tuned.named_steps["clf"].C == 10.0


def test_an_unknown_variant_is_refused():
    with pytest.raises(ValueError):
        build_model("fancy")
