"""Cleaning user text before anything else reads it.

`normalize_text` is idempotent and never raises: traditional → simplified (OpenCC
t2s), full-width letters/digits/symbols → half-width, control and invisible
format characters removed, whitespace collapsed, domain typos repaired
(see `typos.yml`).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import yaml

TYPOS_PATH = Path(__file__).resolve().parent / "typos.yml"

# Full-width forms that Chinese text uses as its own punctuation stay as typed;
# every other full-width ASCII form (Ａ, １, ％, ．, ＋ …) becomes half-width.
CHINESE_PUNCTUATION_KEPT = frozenset("，！？：；（）")

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TypoTable:
    """The contents of typos.yml (see the comments there)."""

    plain: dict[str, str]
    product_misspellings: tuple[str, ...]
    product_prefixes: tuple[str, ...]
    product_followers: tuple[str, ...]


def load_typos(path: Path = TYPOS_PATH) -> TypoTable:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return TypoTable(
        plain={str(k): str(v) for k, v in (data.get("plain") or {}).items()},
        product_misspellings=tuple(data.get("product_misspellings") or ()),
        product_prefixes=tuple(data.get("product_prefixes") or ()),
        product_followers=tuple(data.get("product_followers") or ()),
    )


TYPOS = load_typos()


def _alternation(words: tuple[str, ...] | list[str]) -> str:
    if not words:
        return "(?!)"  # matches nothing
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_PLAIN = re.compile(_alternation(list(TYPOS.plain)))
_MISSPELT = _alternation(TYPOS.product_misspellings)
_AFTER_PREFIX = re.compile(f"({_alternation(TYPOS.product_prefixes)})(的?)(?:{_MISSPELT})")
_BEFORE_FOLLOWER = re.compile(f"(?:{_MISSPELT})(?=的?(?:{_alternation(TYPOS.product_followers)}))")


def normalize_text(text: str) -> str:
    """Returns the cleaned form of `text` ("" for anything that is not a string)."""
    if not isinstance(text, str) or not text:
        return ""
    cleaned = _drop_invisible(text)
    cleaned = _to_simplified(cleaned)
    cleaned = cleaned.translate(_halfwidth_table())
    cleaned = _WHITESPACE.sub(" ", cleaned).strip()
    return _fix_typos(cleaned)


def _drop_invisible(text: str) -> str:
    # Control characters that are whitespace (\t, \n, \x1c…) act as separators;
    # other controls, format characters (zero-width space, BOM, bidi marks) and
    # lone surrogates carry no meaning and would confuse OpenCC and jieba.
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            if ch.isspace():
                out.append(" ")
        elif category not in ("Cf", "Cs"):
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=1)
def _converter() -> Callable[[str], str] | None:
    try:
        import opencc

        return opencc.OpenCC("t2s").convert
    except Exception:  # a broken OpenCC install must not take the bot down
        return None


def _to_simplified(text: str) -> str:
    convert = _converter()
    if convert is None:
        return text
    try:
        return convert(text)
    except Exception:
        return text


@lru_cache(maxsize=1)
def _halfwidth_table() -> dict[int, str]:
    table: dict[int, str] = {0x3000: " "}
    for code in list(range(0xFF01, 0xFF5F)) + list(range(0xFFE0, 0xFFE7)):
        ch = chr(code)
        if ch not in CHINESE_PUNCTUATION_KEPT:
            table[code] = unicodedata.normalize("NFKC", ch)
    return table


def _fix_typos(text: str) -> str:
    text = _PLAIN.sub(lambda m: TYPOS.plain[m.group(0)], text)
    text = _AFTER_PREFIX.sub(lambda m: m.group(1) + m.group(2) + "借呗", text)
    return _BEFORE_FOLLOWER.sub("借呗", text)
