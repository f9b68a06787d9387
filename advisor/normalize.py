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
from typing import Any, Callable

import yaml

TYPOS_PATH = Path(__file__).resolve().parent / "typos.yml"

# Full-width forms that Chinese text uses as its own punctuation stay as typed;
# every other full-width ASCII form (Ａ, １, ％, ．, ＋ …) becomes half-width.
CHINESE_PUNCTUATION_KEPT = frozenset("，！？：；（）")

_WHITESPACE = re.compile(r"\s+")
_MASKED_NUMBER = re.compile(r"\*{3,}")
# 「为什么？？？？」「借不出来。。。。。。」: a run of one punctuation mark says no more than one,
# and hundreds of them would outweigh the words for the classifiers. Two (……, ——) stay.
_PUNCTUATION_RUN = re.compile(r"([。，,.!！?？~～…、;；:：\-—_=#+])\1{2,}")


@dataclass(frozen=True)
class TypoTable:
    """The contents of typos.yml (see the comments there)."""

    plain: dict[str, str]
    product_misspellings: tuple[str, ...]
    product_prefixes: tuple[str, ...]
    product_followers: tuple[str, ...]
    homophone_terms: tuple[str, ...] = ()
    homophone_exceptions: tuple[str, ...] = ()


def load_typos(path: Path = TYPOS_PATH) -> TypoTable:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return TypoTable(
        plain={str(k): str(v) for k, v in (data.get("plain") or {}).items()},
        product_misspellings=tuple(data.get("product_misspellings") or ()),
        product_prefixes=tuple(data.get("product_prefixes") or ()),
        product_followers=tuple(data.get("product_followers") or ()),
        homophone_terms=tuple(str(t) for t in data.get("homophone_terms") or ()),
        homophone_exceptions=tuple(str(t) for t in data.get("homophone_exceptions") or ()),
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


# The message attribute (and parse_data key) that holds the normalised text: TextNormalizer
# sets it once per message, and every later component and the actions read it.
NORMALIZED_TEXT = "normalized_text"


class Normalized(str):
    """Text that has been normalised already; the parsers and the fact layer take it as it is.

    Made only where the text comes from the NLU pipeline's `normalized_text` (or from
    `normalized`), and never stored: Rasa and the tracker keep plain strings."""

    __slots__ = ()


def normalized(text: object) -> Normalized:
    """`text` normalised once: a `Normalized` text is returned as it is."""
    if isinstance(text, Normalized):
        return text
    return Normalized(normalize_text(text))  # type: ignore[arg-type]


def normalize_text(text: str) -> str:
    """Returns the cleaned form of `text` ("" for anything that is not a string).

    The NLU pipeline normalises each message once (components/text_normalizer.py, the
    `normalized_text` attribute); a call for a text seen recently, e.g. from a script or a
    test that passes raw text, costs a dictionary lookup instead of ~0.15 ms.
    """
    if not isinstance(text, str) or not text:
        return ""
    return _normalize_cached(text)


@lru_cache(maxsize=4096)
def _normalize_cached(text: str) -> str:
    cleaned = _drop_invisible(text)
    cleaned = _to_simplified(cleaned)
    cleaned = cleaned.translate(_halfwidth_table())
    cleaned = _WHITESPACE.sub(" ", cleaned).strip()
    # A run of asterisks stands for a number someone hid (額度***, 159******40, the digit masks
    # of public customer-service data): read it as 「几」, the way Chinese writes "some number".
    cleaned = _MASKED_NUMBER.sub("几", cleaned)
    cleaned = _PUNCTUATION_RUN.sub(r"\1", cleaned)
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

        convert: Callable[[str], str] = opencc.OpenCC("t2s").convert
        return convert
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
    text = _BEFORE_FOLLOWER.sub("借呗", text)
    return _fix_homophones(text)


# --- homophones of domain terms (pypinyin) -------------------------------------------------
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_PRODUCT_NAMES = ("借呗", "花呗", "支付宝", "蚂蚁")
# Question particles end a sentence, they never start a term: 「有限制吗」 read zhi-ma and became
# 「有限芝麻」 (issue 33).
_PARTICLES = "吗嘛呢"


@lru_cache(maxsize=1)
def _pinyin_module() -> Any:
    try:
        import pypinyin

        return pypinyin
    except Exception:  # without pypinyin the other fixes still apply
        return None


@lru_cache(maxsize=1)
def _homophone_table() -> dict[int, dict[tuple[str, ...], str]]:
    """Term length → (toneless reading of the term in context → term)."""
    pypinyin = _pinyin_module()
    table: dict[int, dict[tuple[str, ...], str]] = {}
    if pypinyin is None:
        return table
    for term in TYPOS.homophone_terms:
        if not term or not _CJK.fullmatch(term):
            continue
        # The term as pypinyin reads it in context (only that reading: allowing every reading
        # of every character turned 显示额度 into 显提额度).
        key = tuple(pypinyin.lazy_pinyin(term, style=pypinyin.Style.NORMAL))
        table.setdefault(len(term), {}).setdefault(key, term)
    return table


@lru_cache(maxsize=4096)
def _usual_reading(ch: str) -> str:
    """The most common toneless reading of one character on its own (的 → de, 还 → hai)."""
    pypinyin = _pinyin_module()
    if pypinyin is None:
        return ""
    try:
        reading = pypinyin.lazy_pinyin(ch, style=pypinyin.Style.NORMAL)[0]
    except Exception:
        return ""
    return "" if reading == ch else reading


def _sounds_like(window: str, table: dict[tuple[str, ...], str]) -> str | None:
    # The typed characters are read in their usual reading; a term in every reading it has.
    key = tuple(_usual_reading(ch) for ch in window)
    if not all(key):
        return None
    return table.get(key)


def _fix_homophones(text: str) -> str:
    """Runs of Chinese characters that read exactly like a domain term become the term.

    Replacements keep the length of the text, so character offsets stay valid.
    """
    table = _homophone_table()
    if not table or not _CJK.search(text):
        return text
    chars = list(text)
    # Characters of a correctly written term, product name or listed exception are never
    # changed: 解冻借呗 must not become 解冻结呗 (冻借 reads like 冻结).
    locked = [False] * len(text)
    for word in (*TYPOS.homophone_terms, *TYPOS.homophone_exceptions, *_PRODUCT_NAMES):
        for match in re.finditer(re.escape(word), text):
            for k in range(*match.span()):
                locked[k] = True
    for k, ch in enumerate(text):
        if ch in _PARTICLES:
            locked[k] = True
    for run in _CJK.finditer(text):
        start, end = run.span()
        for length in sorted(table, reverse=True):
            for i in range(start, end - length + 1):
                if any(locked[i : i + length]):
                    continue
                window = "".join(chars[i : i + length])
                term = _sounds_like(window, table[length])
                if term is not None and term != window:
                    chars[i : i + length] = list(term)
                    for k in range(i, i + length):
                        locked[k] = True
    return "".join(chars)
