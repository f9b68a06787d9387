"""quality/check.py: the regression floors, read from `make eval`'s metrics.json — accuracy per
set, at most 0.6 of the plain baseline's errors on the two real-users sets, the parse time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quality import check as check_quality


def figures(accuracy: float, messages: int, baseline_errors: int) -> dict:
    return {
        "accuracy": accuracy,
        "errors": round((1 - accuracy) * messages),
        "messages": messages,
        "baseline_errors": baseline_errors,
        "tuned_baseline_errors": baseline_errors - 1,
    }


def write(tmp_path: Path, parse_ms: float = 10.0, **sets: dict) -> str:
    metrics = {
        "sets": {
            "heldout": figures(0.97, 200, 50),
            "real_phrasing": figures(0.95, 400, 60),
            "unseen": figures(0.95, 400, 60),
            **sets,
        },
        "parse": {"mean_ms": parse_ms, "p95_ms": parse_ms * 1.5, "messages": 200},
    }
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(metrics), encoding="utf-8")
    return str(path)


def test_all_targets_met(tmp_path):
    assert check_quality.main(["--metrics", write(tmp_path)]) == 0


@pytest.mark.parametrize("name", ["real_phrasing", "unseen"])
@pytest.mark.parametrize("bot_errors, baseline, expected", [(24, 40, 0), (25, 40, 1), (24, 41, 0)])
def test_at_most_six_tenths_of_the_baseline_s_errors(tmp_path, name, bot_errors, baseline, expected):
    messages = 1000  # accuracy stays above every minimum; only the error count decides
    assert (
        check_quality.main(
            ["--metrics", write(tmp_path, **{name: figures(1 - bot_errors / messages, messages, baseline)})]
        )
        == expected
    )


@pytest.mark.parametrize(
    "name, low, high", [("heldout", 0.945, 0.955), ("real_phrasing", 0.905, 0.915), ("unseen", 0.885, 0.895)]
)
def test_accuracy_minimums(tmp_path, name, low, high):
    assert check_quality.main(["--metrics", write(tmp_path, **{name: figures(high, 1000, 500)})]) == 0
    assert check_quality.main(["--metrics", write(tmp_path, **{name: figures(low, 1000, 500)})]) == 1


def test_parse_time(tmp_path):
    assert check_quality.main(["--metrics", write(tmp_path, parse_ms=19.9)]) == 0
    assert check_quality.main(["--metrics", write(tmp_path, parse_ms=20.1)]) == 1


def test_a_missing_set_fails(tmp_path):
    path = Path(write(tmp_path))
    metrics = json.loads(path.read_text(encoding="utf-8"))
    del metrics["sets"]["unseen"]
    path.write_text(json.dumps(metrics), encoding="utf-8")
    assert check_quality.main(["--metrics", str(path)]) == 1
