"""Cached loaders for what the guard reads from files: its replies (``knowledge/guard.yml``)
and the intents a button payload may name (``domain.yml``)."""

from __future__ import annotations

from functools import lru_cache
from types import MappingProxyType
from typing import FrozenSet, Mapping

import yaml

from channels.guard import MAX_CHARS, TEXT_KEYS
from runtime.paths import ROOT

GUARD_FILE = ROOT / "knowledge" / "guard.yml"
DOMAIN_FILE = ROOT / "domain.yml"


class GuardTextError(ValueError):
    """knowledge/guard.yml is missing, malformed or lacks a text."""


@lru_cache(maxsize=None)
def load_guard_texts() -> Mapping[str, str]:
    """Text key (see ``channels.guard.TEXT_KEYS``) → reply text."""
    try:
        data = yaml.safe_load(GUARD_FILE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise GuardTextError(f"{GUARD_FILE}: {error}") from error
    if not isinstance(data, dict):
        raise GuardTextError(f"{GUARD_FILE}: top level must be a mapping")
    missing = [key for key in TEXT_KEYS if not isinstance(data.get(key), str) or not data[key].strip()]
    if missing:
        raise GuardTextError(f"{GUARD_FILE}: missing or empty texts: {', '.join(missing)}")
    return MappingProxyType({key: data[key].strip() for key in TEXT_KEYS})


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
