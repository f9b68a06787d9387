"""The report `make eval` writes (issue 8): checked right after `make test-nlu` has produced it
with quality/evaluate.py, so one evaluation run serves both the thresholds and this check.

Marked `eval` (deselected in the plain pytest run, which comes before the report exists).
"""

from __future__ import annotations

import csv
import json

import pytest

from devtools.local_bot import ROOT
from quality.overlap import read_nlu_examples

REPORT = ROOT / "reports" / "eval"
SETS = {
    "heldout": ROOT / "tests" / "nlu_heldout.yml",
    "real_phrasing": ROOT / "tests" / "nlu_real_phrasing.yml",
    "unseen": ROOT / "tests" / "nlu_unseen.yml",
}

pytestmark = pytest.mark.eval


@pytest.fixture(scope="module")
def metrics() -> dict:
    path = REPORT / "metrics.json"
    assert path.exists(), "run `make eval` (or `make test-nlu`) first"
    return json.loads(path.read_text(encoding="utf-8"))


def test_figures_are_rasa_s_own_for_every_message(metrics):
    for name in SETS:
        figures = metrics["sets"][name]
        rasa_report = json.loads((REPORT / "rasa" / name / "intent_report.json").read_text(encoding="utf-8"))
        assert figures["accuracy"] == pytest.approx(rasa_report["accuracy"])
        assert figures["messages"] == len(read_nlu_examples(SETS[name]))
        assert figures["errors"] == round((1 - figures["accuracy"]) * figures["messages"])
        assert 0 < figures["baseline_accuracy"] <= 1
        assert 0 < figures["tuned_baseline_accuracy"] <= 1
        assert figures["tuned_baseline_errors"] == round((1 - figures["tuned_baseline_accuracy"]) * figures["messages"])


def test_per_intent_table_has_bot_and_baseline_side_by_side(metrics):
    with (REPORT / "per_intent.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert list(rows[0]) == [
        "test_set",
        "intent",
        "support",
        "precision",
        "recall",
        "f1",
        "baseline_precision",
        "baseline_recall",
        "baseline_f1",
    ]
    for name in SETS:
        labelled = {example.intent for example in read_nlu_examples(SETS[name])}
        listed = {row["intent"] for row in rows if row["test_set"] == name}
        assert labelled <= listed, (name, labelled - listed)


def test_a_confusion_picture_per_test_set():
    for name in SETS:
        picture = REPORT / f"confusion_{name}.png"
        head = picture.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert width >= 400 and height >= 300


def test_confused_pairs_come_with_example_messages(metrics):
    text = (REPORT / "confused_pairs.md").read_text(encoding="utf-8")
    if any(metrics["sets"][name]["errors"] for name in SETS):
        assert "→" in text and "「" in text


def test_summary_and_story_results(metrics):
    summary = (REPORT / "summary.md").read_text(encoding="utf-8")
    for figures in metrics["sets"].values():
        assert f"**{figures['accuracy']:.3f}**" in summary
    assert metrics["core"]["available"]
    # every test story right, as `rasa test core --fail-on-prediction-errors` demands
    assert metrics["core"]["stories_correct"] == metrics["core"]["stories_total"] > 0, metrics["core"]["failed_stories"]
    assert f"{metrics['core']['stories_correct']}/{metrics['core']['stories_total']}" in summary
    assert (REPORT / "core.md").exists()


def test_parse_time_is_measured_and_reported(metrics):
    parse = metrics["parse"]
    assert parse["messages"] == len(read_nlu_examples(SETS["heldout"]))
    assert 0 < parse["mean_ms"] <= parse["p95_ms"]
    assert f"**{parse['mean_ms']:.1f} ms**" in (REPORT / "summary.md").read_text(encoding="utf-8")
