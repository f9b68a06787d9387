"""The blocked cross-validation's plan and arithmetic (issue 33), on made-up examples: no model."""

from __future__ import annotations

import pytest

from quality.blocked_cv import make_folds, summarise, suspects, verdicts
from quality.overlap import Example


def _real(text: str, intent: str, line: int) -> Example:
    return Example(text, intent, "data/nlu/real_phrasing.yml", f"ATEC atec_nlp_sim_train.csv line {line}, sentence 1")


def _examples() -> list[Example]:
    examples = [Example(f"内部例句{i}", "greet", "data/nlu/chitchat.yml") for i in range(5)]
    for block in (0, 3000, 12000, 13000, 31000):
        examples += [_real(f"借呗问题{block}-{i}", "ask_limit_closed", block + i * 7) for i in range(10)]
    # the same question asked again in another block
    examples.append(_real("借呗问题0-1", "ask_limit_closed", 14005))
    return examples


def test_every_real_user_example_is_held_out_exactly_once_and_blocks_stay_whole():
    examples = _examples()
    folds = make_folds(examples, folds=3)
    held = [i for f in folds for i in f.test]
    assert sorted(held) == [i for i, e in enumerate(examples) if e.source]
    for fold in folds:
        blocks = {int(examples[i].source.split("line ")[1].split(",")[0]) // 1000 for i in fold.test}
        others = {
            int(examples[i].source.split("line ")[1].split(",")[0]) // 1000
            for f in folds
            if f is not fold
            for i in f.test
        }
        assert blocks.isdisjoint(others)


def test_in_house_examples_always_train_and_held_out_questions_never_do():
    examples = _examples()
    for fold in make_folds(examples, folds=3):
        assert set(range(5)) <= set(fold.train)
        assert set(fold.test).isdisjoint(fold.train)
        held_texts = {examples[i].text for i in fold.test}
        assert held_texts.isdisjoint(examples[i].text for i in fold.train)


def test_folds_are_about_equal_and_in_line_order():
    folds = make_folds(_examples(), folds=3)
    assert len(folds) == 3
    starts = [f.blocks[0] for f in folds]
    assert starts == sorted(starts)
    assert max(len(f.test) for f in folds) <= 2 * min(len(f.test) for f in folds)


def test_a_reserved_line_stops_the_evaluation():
    with pytest.raises(ValueError, match="reserved"):
        make_folds([_real("借呗没额度", "ask_limit_closed", 26010)], folds=2)


def _row(intent: str, bot: str, baseline: str, p_label: float = 0.5, confidence: float = 0.5) -> dict:
    return {
        "text": "x",
        "intent": intent,
        "bot": bot,
        "classifier": bot,
        "baseline": baseline,
        "given_label_probability": p_label,
        "classifier_confidence": confidence,
    }


def test_summary_and_targets_count_errors_per_intent():
    rows = [_row("out_of_scope", "out_of_scope", "out_of_scope") for _ in range(25)]
    rows += [_row("ask_limit_closed", "ask_limit_closed", "out_of_scope") for _ in range(18)]
    rows += [_row("ask_limit_closed", "nlu_fallback", "out_of_scope") for _ in range(2)]
    result = summarise(rows)
    assert result["bot"]["errors"] == 2
    assert result["baseline"]["errors"] == 20
    assert result["bot"]["per_intent"]["ask_limit_closed"] == pytest.approx(0.9)
    checks = dict(verdicts(result))
    assert all(checks.values())
    # two more errors in that 20-example intent: 16 of 20 is under 0.85
    rows[25] = _row("ask_limit_closed", "ask_cannot_borrow", "out_of_scope")
    rows[26] = _row("ask_limit_closed", "ask_cannot_borrow", "out_of_scope")
    checks = verdicts(summarise(rows))
    assert [ok for text, ok in checks if text.startswith("ask_limit_closed")] == [False]


def test_suspects_are_the_confident_disagreements_first():
    rows = [
        _row("out_of_scope", "ask_restore_limit", "x", p_label=0.01, confidence=0.95),
        _row("out_of_scope", "ask_restore_limit", "x", p_label=0.30, confidence=0.40),
        _row("out_of_scope", "out_of_scope", "x", p_label=0.99, confidence=0.99),
    ]
    assert [r["given_label_probability"] for r in suspects(rows, 5)] == [0.01, 0.30]
