"""scripts/check_quality.py: the thresholds of issue 8, including at most half the plain
baseline's errors on the real-phrasing set."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import baseline, check_quality


def report(path: Path, accuracy: float, support: int) -> Path:
    path.write_text(json.dumps({"accuracy": accuracy, "weighted avg": {"support": support}}), encoding="utf-8")
    return path


@pytest.fixture
def baseline_errors(monkeypatch):
    def set_errors(errors: int) -> None:
        monkeypatch.setattr(baseline, "run", lambda *a, **k: {"real_phrasing": {"errors": errors, "accuracy": 0.8}})
    return set_errors


@pytest.mark.parametrize("bot_errors, baseline_count, expected", [(20, 40, 0), (21, 40, 1), (20, 41, 0)])
def test_at_most_half_the_baseline_s_errors(tmp_path, baseline_errors, bot_errors, baseline_count, expected):
    baseline_errors(baseline_count)
    heldout = report(tmp_path / "heldout.json", 0.95, 200)
    real = report(tmp_path / "real.json", 1 - bot_errors / 400, 400)
    assert check_quality.main(["--heldout", str(heldout), "--real-phrasing", str(real)]) == expected
    # the report-only flag prints the comparison without failing on it
    assert check_quality.main(["--heldout", str(heldout), "--real-phrasing", str(real), "--baseline-report-only"]) == 0


def test_accuracy_thresholds(tmp_path, baseline_errors):
    baseline_errors(400)
    good_heldout, bad_heldout = report(tmp_path / "a.json", 0.93, 100), report(tmp_path / "b.json", 0.91, 100)
    good_real, bad_real = report(tmp_path / "c.json", 0.91, 100), report(tmp_path / "d.json", 0.89, 100)
    assert check_quality.main(["--heldout", str(good_heldout), "--real-phrasing", str(good_real)]) == 0
    assert check_quality.main(["--heldout", str(bad_heldout), "--real-phrasing", str(good_real)]) == 1
    assert check_quality.main(["--heldout", str(good_heldout), "--real-phrasing", str(bad_real)]) == 1
