"""The conversation-review loop, step 2: merge the labelled review candidates into data/.

Reads review/candidates.yml (written by `make review`, labelled by a maintainer: `label:` set
to an intent), checks every label against the domain's intents, and appends the labelled
messages to data/nlu/reviewed.yml as training examples, each with a note of where it came
from (conversation, time, what the bot had predicted). Nothing is written when a label is
not an intent of the domain.

Skipped, with the reason printed: candidates without a label; messages already in data/
(after normalisation); messages that are a near copy of a test message
(tests/nlu_heldout.yml, tests/nlu_real_phrasing.yml), because training on them would void
those tests. Run it twice and nothing is added twice.

    python -m quality.review_accept [--candidates review/candidates.yml] [--out data/nlu/reviewed.yml]

Retrain afterwards (`make train`) so that the bot learns them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

import yaml  # noqa: E402

from quality.overlap import (  # noqa: E402
    Example,
    comparable,
    find_near_copies,
    read_nlu_examples,
    training_examples,
)
from runtime.paths import ROOT

HEADER = """# Messages from real conversations that the bot got wrong, labelled by a maintainer in the
# conversation review (make review → review/candidates.yml → label → make review-accept).
# Each example's metadata says where it came from. Appended by quality/review_accept.py.
"""
TEST_SETS = (ROOT / "tests" / "nlu_heldout.yml", ROOT / "tests" / "nlu_real_phrasing.yml")


class LabelError(ValueError):
    pass


def domain_intents(domain_path: Path) -> set[str]:
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8")) or {}
    return {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []}


def load_reviewed(path: Path) -> dict[str, list[dict[str, Any]]]:
    """intent → examples ({text, metadata}) of an existing reviewed.yml."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    blocks: dict[str, list[dict[str, Any]]] = {}
    for block in data.get("nlu") or []:
        examples = block.get("examples") or []
        blocks.setdefault(block["intent"], []).extend(e if isinstance(e, dict) else {"text": str(e)} for e in examples)
    return blocks


def write_reviewed(path: Path, blocks: dict[str, list[dict[str, Any]]]) -> None:
    body = {
        "version": "3.1",
        "nlu": [{"intent": intent, "examples": blocks[intent]} for intent in sorted(blocks) if blocks[intent]],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")


def accept(
    candidates_path: Path,
    out_path: Path,
    domain_path: Path = ROOT / "domain.yml",
    training_dir: Path = ROOT / "data",
    test_sets: tuple[Path, ...] = TEST_SETS,
    today: str | None = None,
) -> dict[str, list[str]]:
    """Merges labelled candidates; returns what was added and skipped (with reasons)."""
    data = yaml.safe_load(candidates_path.read_text(encoding="utf-8")) or {}
    candidates = data.get("candidates") or []
    intents = domain_intents(domain_path)
    labelled = [c for c in candidates if isinstance(c, dict) and str(c.get("label") or "").strip()]

    bad = [f"{c.get('message')!r}: {c.get('label')!r}" for c in labelled if str(c["label"]).strip() not in intents]
    if bad:
        raise LabelError("labels that are not intents of the domain:\n  " + "\n  ".join(bad))

    known = {comparable(e.text): e.intent for e in training_examples(training_dir)}
    tests = [e for path in test_sets if path.exists() for e in read_nlu_examples(path)]
    blocks = load_reviewed(out_path)
    for intent, examples in blocks.items():  # the output file may live outside data/
        for example in examples:
            known.setdefault(comparable(str(example.get("text") or "")), intent)
    report: dict[str, list[str]] = {"added": [], "skipped": []}
    for candidate in labelled:
        text = str(candidate.get("message") or "").strip()
        label = str(candidate["label"]).strip()
        key = comparable(text)
        if not key:
            report["skipped"].append(f"{text!r}: empty after normalisation")
            continue
        if key in known:
            note = "already in data/" if known[key] == label else f"already in data/ as {known[key]}"
            report["skipped"].append(f"{text!r}: {note}")
            continue
        if find_near_copies([Example(text, label, "review")], tests):
            report["skipped"].append(f"{text!r}: a near copy of a test message (would void the test)")
            continue
        metadata = {
            "source": (
                f"conversation review: conversation {candidate.get('conversation')}, {candidate.get('timestamp')}"
            ),
            "predicted": f"{candidate.get('predicted_intent')} ({candidate.get('confidence')})",
            "accepted": today or date.today().isoformat(),
        }
        blocks.setdefault(label, []).append({"text": text, "metadata": metadata})
        known[key] = label
        report["added"].append(f"{text!r} → {label}")
    if report["added"]:
        write_reviewed(out_path, blocks)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=Path, default=ROOT / "review" / "candidates.yml")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "nlu" / "reviewed.yml")
    parser.add_argument("--domain", type=Path, default=ROOT / "domain.yml")
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    args = parser.parse_args(argv)
    if not args.candidates.exists():
        print(f"{args.candidates} does not exist: run `make review` first")
        return 1
    try:
        report = accept(args.candidates, args.out, args.domain, args.data)
    except LabelError as error:
        print(error)
        return 1
    for line in report["added"]:
        print(f"added    {line}")
    for line in report["skipped"]:
        print(f"skipped  {line}")
    print(f"{len(report['added'])} added to {args.out}, {len(report['skipped'])} skipped; retrain with `make train`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
