"""What the guard reads from files: its replies (knowledge/guard.yml, through the one knowledge
loader, advisor/knowledge.py) and the intents a button payload may name (domain.yml)."""

from __future__ import annotations

from functools import lru_cache
from typing import FrozenSet, Mapping

import yaml

from advisor.knowledge import load_guard_texts as _load_knowledge_texts
from channels.guard import MAX_CHARS, TEXT_KEYS
from runtime.paths import ROOT

DOMAIN_FILE = ROOT / "domain.yml"


def load_guard_texts() -> Mapping[str, str]:
    """Text key (see ``channels.guard.TEXT_KEYS``) → reply text."""
    return _load_knowledge_texts(TEXT_KEYS)


def guard_text(key: str, max_chars: int = MAX_CHARS) -> str:
    return load_guard_texts()[key].replace("{max_chars}", str(max_chars))


@lru_cache(maxsize=None)
def load_payload_intents() -> FrozenSet[str]:
    """The domain's intents and Rasa's default ones: the only names a "/intent" payload may
    have (any other text starting with "/" is read as an ordinary message)."""
    from rasa.shared.core.constants import DEFAULT_INTENTS

    data = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8")) or {}
    names = [next(iter(item)) if isinstance(item, dict) else item for item in data.get("intents", [])]
    return frozenset(str(name) for name in names) | frozenset(DEFAULT_INTENTS)
