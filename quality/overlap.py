"""Finds test messages that are also in the training data, word for word or nearly.

A test set only measures understanding when none of its messages, nor a near copy of one,
was trained on. Two messages are near copies when, after the bot's own normalisation
(`advisor.normalize.normalize_text`: traditional → simplified, full-width → half-width, typo
fixes) and with punctuation and spaces removed, either

- their normalised edit distance similarity ``1 - levenshtein(a, b) / max(len(a), len(b))``, or
- the Jaccard similarity of their character 3-gram sets

is at least 0.8 (``THRESHOLD``).

    python -m quality.overlap tests/nlu_real_phrasing.yml tests/nlu_heldout.yml

prints every test message with its nearest training message above the threshold and exits 1
when there is one. `tests/quality/test_real_phrasing.py` runs the same check in `make test`.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import yaml

from advisor.normalize import normalize_text  # noqa: E402
from runtime.paths import ROOT

THRESHOLD = 0.8
TRAINING_DIR = ROOT / "data"

# Entity annotations in training data: [text](entity) or [text]{"entity": ...}.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    path: str
    # Where a real user's message comes from (its `metadata: source`); "" for in-house examples.
    source: str = field(default="", compare=False)


@dataclass(frozen=True)
class NearCopy:
    test: Example
    training: Example
    edit_similarity: float
    trigram_jaccard: float


def strip_annotations(text: str) -> str:
    return _ANNOTATION.sub(lambda m: m.group(1), text)


def read_nlu_examples(path: Path) -> list[Example]:
    """Every example of every intent in one Rasa NLU YAML file (annotations removed)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in data.get("nlu") or []:
        intent = block.get("intent")
        raw = block.get("examples")
        if not intent:
            continue
        if isinstance(raw, str):  # "- text" lines in a block scalar
            for line in raw.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append(Example(strip_annotations(line[2:].strip()), intent, str(path)))
        elif isinstance(raw, list):  # [{text: ..., metadata: ...}]
            for item in raw:
                text = item.get("text") if isinstance(item, dict) else item
                metadata = item.get("metadata") if isinstance(item, dict) else None
                source = metadata.get("source", "") if isinstance(metadata, dict) else ""
                if isinstance(text, str) and text.strip():
                    examples.append(Example(strip_annotations(text.strip()), intent, str(path), str(source)))
    return examples


def training_examples(directory: Path = TRAINING_DIR) -> list[Example]:
    """Every NLU example under data/ (files that hold an `nlu:` section)."""
    examples: list[Example] = []
    for path in sorted(directory.rglob("*.yml")) + sorted(directory.rglob("*.yaml")):
        examples.extend(read_nlu_examples(path))
    return examples


def comparable(text: str) -> str:
    """The normalised text with punctuation, symbols and spaces removed."""
    cleaned = normalize_text(text).lower()
    return "".join(ch for ch in cleaned if unicodedata.category(ch)[0] not in "PZS")


def trigrams(text: str) -> frozenset[str]:
    if len(text) < 3:
        return frozenset([text]) if text else frozenset()
    return frozenset(text[i : i + 3] for i in range(len(text) - 2))


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def edit_similarity(a: str, b: str) -> float:
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - levenshtein(a, b) / longest


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


class _Index:
    """Training messages prepared once for many comparisons."""

    def __init__(self, examples: Iterable[Example]) -> None:
        self.items = []
        for example in examples:
            text = comparable(example.text)
            self.items.append((example, text, trigrams(text), Counter(text)))

    def near_copies(self, example: Example, threshold: float) -> Iterator[NearCopy]:
        text = comparable(example.text)
        grams = trigrams(text)
        chars = Counter(text)
        for training, other, other_grams, other_chars in self.items:
            longest = max(len(text), len(other))
            tri = jaccard(grams, other_grams)
            if tri >= threshold:
                yield NearCopy(example, training, edit_similarity(text, other), tri)
                continue
            # Cheap lower bounds on the edit distance before computing it.
            if longest == 0 or abs(len(text) - len(other)) > (1 - threshold) * longest:
                continue
            shared = sum((chars & other_chars).values())
            if longest - shared > (1 - threshold) * longest:
                continue
            similarity = edit_similarity(text, other)
            if similarity >= threshold:
                yield NearCopy(example, training, similarity, tri)


def find_near_copies(
    tests: Iterable[Example],
    training: Iterable[Example] | None = None,
    threshold: float = THRESHOLD,
) -> list[NearCopy]:
    index = _Index(training if training is not None else training_examples())
    found: list[NearCopy] = []
    for example in tests:
        found.extend(index.near_copies(example, threshold))
    return found


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or [ROOT / "tests" / "nlu_real_phrasing.yml"]
    training = training_examples()
    status = 0
    for path in paths:
        copies = find_near_copies(read_nlu_examples(path), training)
        print(f"{path}: {len(copies)} near copies in data/ (threshold {THRESHOLD})")
        for copy in copies:
            print(
                f"  {copy.test.text!r} ~ {copy.training.text!r} ({Path(copy.training.path).name}, "
                f"edit {copy.edit_similarity:.2f}, 3-gram {copy.trigram_jaccard:.2f})"
            )
        status = status or (1 if copies else 0)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
