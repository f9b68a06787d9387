"""Fails (exit 1) when the NLU quality targets of issue 8 are not met.

    python scripts/check_quality.py --heldout reports/eval/rasa/heldout/intent_report.json \
        --real-phrasing reports/eval/rasa/real_phrasing/intent_report.json

Fails below held-out intent accuracy 0.92 or real-phrasing intent accuracy 0.90, and when the
bot makes more than half the real-phrasing errors of the plain char-n-gram baseline
(scripts/baseline.py, trained on the same data), issue 8's target. --baseline-report-only prints
that comparison without failing on it. Reports are `rasa test nlu` intent_report.json files.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

HELDOUT_MIN = 0.92
REAL_PHRASING_MIN = 0.90
MAX_ERROR_RATIO = 0.5


def _accuracy_and_support(report_path: Path) -> tuple[float, int]:
    report = json.loads(report_path.read_text(encoding="utf-8"))
    support = int(report.get("weighted avg", {}).get("support") or 0)
    return float(report["accuracy"]), support


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heldout", type=Path, required=True)
    parser.add_argument("--real-phrasing", type=Path, required=True)
    parser.add_argument("--no-baseline", action="store_true", help="skip the comparison with the baseline")
    parser.add_argument("--baseline-report-only", action="store_true",
                        help="print the comparison with the baseline without failing on it")
    args = parser.parse_args(argv)

    failures = 0
    heldout, _ = _accuracy_and_support(args.heldout)
    real, real_total = _accuracy_and_support(args.real_phrasing)
    for name, value, threshold in (
        ("held-out", heldout, HELDOUT_MIN),
        ("real-phrasing", real, REAL_PHRASING_MIN),
    ):
        verdict = "ok" if value >= threshold else "BELOW THRESHOLD"
        failures += value < threshold
        print(f"{name} intent accuracy {value:.4f} (threshold {threshold:.2f}): {verdict}")

    if not args.no_baseline:
        from scripts.baseline import run

        baseline = run({"real_phrasing": PROJECT_ROOT / "tests" / "nlu_real_phrasing.yml"})["real_phrasing"]
        rasa_errors = round((1 - real) * real_total)
        allowed = MAX_ERROR_RATIO * baseline["errors"]
        verdict = "ok" if rasa_errors <= allowed else "TOO MANY ERRORS"
        if not args.baseline_report_only:
            failures += rasa_errors > allowed
        print(
            f"real-phrasing errors: bot {rasa_errors}, baseline {baseline['errors']} "
            f"(baseline accuracy {baseline['accuracy']:.4f}; at most {allowed:g} allowed): {verdict}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
