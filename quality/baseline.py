"""Baselines for the intent classifier: char 1–3-gram TF-IDF + logistic regression.

Both are trained on the same training data as the bot (every intent example under data/nlu) and
evaluated on the held-out and the real-phrasing test sets.

- `plain` is the baseline issue 8 names: scikit-learn's defaults on the text as typed. The bot's
  target is at most half its errors on the real-phrasing set; normalising traditional
  characters and typos is one of the things the issue expects to make that difference, so the
  plain baseline does not get it.
- `tuned` gets the bot's own normalisation (`advisor.normalize.normalize_text`), sublinear term
  frequencies and C=10: the bot's first classifier before pinyin features and DIET were added.
  Reported beside the plain one, so a reader sees how much of the gain the model makes beyond
  the preprocessing.

    python -m quality.baseline                       # both test sets, report on stdout
    python -m quality.baseline --variant tuned       # the tuned one
    python -m quality.baseline --json out.json       # also the predictions and reports as JSON

Only scikit-learn (a Rasa dependency) is needed; no Rasa model is loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, classification_report  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from advisor.normalize import normalize_text  # noqa: E402
from quality.overlap import Example, read_nlu_examples  # noqa: E402
from runtime.paths import ROOT

TRAINING_DIR = ROOT / "data" / "nlu"
TEST_SETS = {
    "heldout": ROOT / "tests" / "nlu_heldout.yml",
    "real_phrasing": ROOT / "tests" / "nlu_real_phrasing.yml",
}


def load_training(directory: Path = TRAINING_DIR) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(directory.glob("*.yml")):
        examples.extend(read_nlu_examples(path))
    return examples


VARIANTS = ("plain", "tuned")


def _as_typed(text: str) -> str:
    return text


def _preprocess(variant: str):
    return normalize_text if variant == "tuned" else _as_typed


def build_model(variant: str = "plain", seed: int = 0) -> Pipeline:
    if variant == "tuned":
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
        classifier = LogisticRegression(C=10.0, max_iter=2000, random_state=seed)
    elif variant == "plain":
        vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3))
        classifier = LogisticRegression(max_iter=2000, random_state=seed)
    else:
        raise ValueError(f"unknown baseline variant {variant!r}; one of {VARIANTS}")
    return Pipeline([("tfidf", vectorizer), ("clf", classifier)])


def train(examples: Iterable[Example], variant: str = "plain", seed: int = 0) -> Pipeline:
    examples = list(examples)
    model = build_model(variant, seed)
    preprocess = _preprocess(variant)
    model.fit([preprocess(e.text) for e in examples], [e.intent for e in examples])
    return model


def evaluate(model: Pipeline, examples: list[Example], variant: str = "plain") -> dict:
    """Accuracy, sklearn's per-intent report (as a dict) and every prediction."""
    texts = [e.text for e in examples]
    gold = [e.intent for e in examples]
    preprocess = _preprocess(variant)
    inputs = [preprocess(t) for t in texts]
    predicted = list(model.predict(inputs))
    confidence = model.predict_proba(inputs).max(axis=1)
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


def run(test_sets: dict[str, Path] | None = None, variant: str = "plain") -> dict[str, dict]:
    model = train(load_training(), variant)
    results = {}
    for name, path in (test_sets or TEST_SETS).items():
        if path.exists():
            results[name] = evaluate(model, read_nlu_examples(path), variant)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="plain")
    parser.add_argument("--json", type=Path, help="write the results (reports and predictions) here")
    args = parser.parse_args(argv)
    results = run(variant=args.variant)
    for name, result in results.items():
        print(
            f"== {args.variant} baseline (char 1-3-gram TF-IDF + LogisticRegression) on {name}: "
            f"accuracy {result['accuracy']:.4f} ({result['total'] - result['errors']}/{result['total']}), "
            f"{result['errors']} errors"
        )
        gold = [p["intent"] for p in result["predictions"]]
        predicted = [p["predicted"] for p in result["predictions"]]
        print(classification_report(gold, predicted, zero_division=0))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
