"""Fails (exit 1) when the NLU regression floors are not met, reading `make eval`'s metrics.json.

    python -m quality.check --metrics reports/eval/metrics.json

Floors (TARGETS): intent accuracy per test set, and for the two real-users sets at most 0.6 of
the errors of the plain char-n-gram baseline (quality/baseline.py, trained on the same data);
the NLU parse time per message (mean over the held-out set, measured by quality/evaluate.py).
The test sets are regression checks; the understanding targets are the blocked evaluation's.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from runtime.paths import ROOT


@dataclass(frozen=True)
class Target:
    min_accuracy: float
    # At most this share of the plain baseline's errors on the same set (None: no such target).
    max_error_ratio: Optional[float] = None


# Regression floors, not targets (issue 33): each test set was measured after changes were
# made and kept, so its figure no longer predicts new users; the targets live on the blocked
# cross-validation (quality/blocked_cv.py, `make eval`). A floor sits about two points under the
# figure when the last change was accepted (2026-12-07: 0.967, 0.933 with 31 errors against the
# baseline's 61, 0.916 with 32 against 58), so noise passes and a real loss fails.
TARGETS: dict[str, Target] = {
    "heldout": Target(0.95),
    "real_phrasing": Target(0.91, 0.6),
    "unseen": Target(0.89, 0.6),
}
MAX_PARSE_MS = 20.0  # issue 14


def describe(name: str) -> str:
    target = TARGETS[name]
    text = f"≥ {target.min_accuracy:.2f}"
    if target.max_error_ratio is not None:
        text += f"; errors ≤ {target.max_error_ratio:g} × baseline's"
    return text


def verdicts(name: str, figures: dict) -> list[tuple[str, bool]]:
    """(what was checked, met) for one test set's figures from metrics.json."""
    target = TARGETS[name]
    checks = [
        (f"accuracy {figures['accuracy']:.4f} ≥ {target.min_accuracy:.2f}", figures["accuracy"] >= target.min_accuracy)
    ]
    if target.max_error_ratio is not None:
        allowed = target.max_error_ratio * figures["baseline_errors"]
        checks.append(
            (
                f"errors {figures['errors']} ≤ {allowed:g} (baseline {figures['baseline_errors']}, "
                f"tuned baseline {figures['tuned_baseline_errors']})",
                figures["errors"] <= allowed,
            )
        )
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=Path, default=ROOT / "reports" / "eval" / "metrics.json")
    args = parser.parse_args(argv)
    metrics = json.loads(args.metrics.read_text(encoding="utf-8"))

    failures = 0
    for name in TARGETS:
        figures = metrics["sets"].get(name)
        if figures is None:
            print(f"{name}: no figures in {args.metrics}: MISSING")
            failures += 1
            continue
        for what, met in verdicts(name, figures):
            failures += not met
            print(f"{name}: {what}: {'ok' if met else 'NOT MET'}")
    parse_ms = (metrics.get("parse") or {}).get("mean_ms")
    if parse_ms is None:
        print("parse time: not measured: MISSING")
        failures += 1
    else:
        met = parse_ms <= MAX_PARSE_MS
        failures += not met
        print(f"parse time: mean {parse_ms:.1f} ms ≤ {MAX_PARSE_MS:g} ms: {'ok' if met else 'NOT MET'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
