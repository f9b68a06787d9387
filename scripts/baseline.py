"""A plain baseline for the intent classifier: char 1–3-gram TF-IDF + logistic regression.

Trained on the same training data as the bot (every intent example under data/nlu, after the
same `advisor.normalize.normalize_text` the bot's TextNormalizer applies), evaluated on the
held-out and the real-phrasing test sets. The bot should beat it clearly: the issue's target
is at most half the baseline's errors on the real-phrasing set.

    python scripts/baseline.py                       # both test sets, report on stdout
    python scripts/baseline.py --json out.json       # also the predictions and reports as JSON

Only scikit-learn (a Rasa dependency) is needed; no Rasa model is loaded.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, classification_report  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from advisor.normalize import normalize_text  # noqa: E402
from scripts.nlu_overlap import Example, read_nlu_examples  # noqa: E402

TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
TEST_SETS = {
    "heldout": PROJECT_ROOT / "tests" / "nlu_heldout.yml",
    "real_phrasing": PROJECT_ROOT / "tests" / "nlu_real_phrasing.yml",
}


def load_training(directory: Path = TRAINING_DIR) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yml")):
        examples.extend(read_nlu_examples(path))
    return examples


def build_model(seed: int = 0) -> Pipeline:
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
            ("clf", LogisticRegression(C=10.0, max_iter=2000, random_state=seed)),
        ]
    )


def train(examples: Iterable[Example], seed: int = 0) -> Pipeline:
    examples = list(examples)
    model = build_model(seed)
    model.fit([normalize_text(e.text) for e in examples], [e.intent for e in examples])
    return model


def evaluate(model: Pipeline, examples: list[Example]) -> dict:
    """Accuracy, sklearn's per-intent report (as a dict) and every prediction."""
    texts = [e.text for e in examples]
    gold = [e.intent for e in examples]
    predicted = list(model.predict([normalize_text(t) for t in texts]))
    confidence = model.predict_proba([normalize_text(t) for t in texts]).max(axis=1)
    labels = sorted(set(gold) | set(predicted))
    report = classification_report(gold, predicted, labels=labels, output_dict=True, zero_division=0)
    return {
        "accuracy": accuracy_score(gold, predicted),
        "errors": sum(g != p for g, p in zip(gold, predicted)),
        "total": len(gold),
        "report": report,
        "predictions": [
            {"text": t, "intent": g, "predicted": p, "confidence": float(c)}
            for t, g, p, c in zip(texts, gold, predicted, confidence)
        ],
    }


def run(test_sets: dict[str, Path] | None = None) -> dict[str, dict]:
    model = train(load_training())
    results = {}
    for name, path in (test_sets or TEST_SETS).items():
        if path.exists():
            results[name] = evaluate(model, read_nlu_examples(path))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results (reports and predictions) here")
    args = parser.parse_args(argv)
    results = run()
    for name, result in results.items():
        print(f"== baseline (char 1-3-gram TF-IDF + LogisticRegression) on {name}: "
              f"accuracy {result['accuracy']:.4f} ({result['total'] - result['errors']}/{result['total']}), "
              f"{result['errors']} errors")
        gold = [p["intent"] for p in result["predictions"]]
        predicted = [p["predicted"] for p in result["predictions"]]
        print(classification_report(gold, predicted, zero_division=0))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
