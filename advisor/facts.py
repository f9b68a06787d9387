"""Rule-based facts about the user's situation, with spaCy patterns over jieba tokens.

The spaCy pipeline is `spacy.blank("zh")` with the jieba segmenter on the process's one
jieba dictionary (the global `jieba.dt`, which Rasa's JiebaTokenizer and spaCy use too),
with the project lexicon and the pattern words added. A second, private dictionary would
keep another ~75 MB in every process. Adding the pattern words changes which tokens Rasa's
JiebaTokenizer makes, which no featurizer here reads (the intent classifier works on
characters, pinyin and a sentence embedding of the text). Patterns live in
`advisor.fact_patterns`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Iterator, Optional, Union

from advisor import fact_patterns as fp
from advisor.knowledge import load_diagnosis_config
from advisor.normalize import Normalized, normalized
from advisor.parsing import parse_days, parse_percentage, parse_since
from runtime import paths

logger = logging.getLogger(__name__)

LEXICON_DIR = paths.LEXICON
# Longer messages are cut: facts come from a chat turn, not from a pasted document.
MAX_CHARS = 2000
# A negation fused into a bigger jieba word (没用过, 很久没) must become its own token.
NEGATION_CHARS = frozenset("没不未无")
# Values outside the form's valid ranges are left for the form to ask about again,
# because slots filled from entities outside the form are not validated.
NONE_SLOT = "_none"
DEBT_CONTEXT_LABEL = "_debt_context"

FactValue = Union[bool, float]


@dataclass(frozen=True)
class Fact:
    """A contract slot value found in the text, with the character span that says it."""

    slot: str
    value: FactValue
    start: int
    end: int


@dataclass(frozen=True)
class _Clause:
    start: int
    end: int
    text: str
    usable: bool


# ---------------------------------------------------------------- pattern compiling


def _compile_token(item: str) -> dict[str, Any]:
    op = item[-1] if len(item) > 1 and item[-1] in "?*+" else ""
    body = item[:-1] if op else item
    words: list[str] = []
    regexes: list[str] = []
    for alt in body.split("|"):
        if alt in fp.WORD_CLASSES:
            words.extend(fp.WORD_CLASSES[alt])
        elif alt in fp.REGEX_CLASSES:
            regexes.append(fp.REGEX_CLASSES[alt])
        else:
            words.append(alt)
    words = [w.lower() for w in words]
    spec: dict[str, Any]
    if regexes:
        if words:
            regexes.append("^(?:" + "|".join(re.escape(w) for w in words) + ")$")
        spec = {"LOWER": {"REGEX": "|".join(f"(?:{r})" for r in regexes)}}
    elif len(words) == 1:
        spec = {"LOWER": words[0]}
    else:
        spec = {"LOWER": {"IN": words}}
    if op:
        spec["OP"] = op
    return spec


def compile_pattern(pattern: str) -> list[dict[str, Any]]:
    """The spaCy Matcher token pattern for one `fact_patterns` pattern string."""
    return [_compile_token(item) for item in pattern.split()]


def pattern_words() -> set[str]:
    """Every literal word the patterns and product names mention."""
    words: set[str] = set()
    for values in fp.WORD_CLASSES.values():
        words.update(values)
    patterns = [p for _, _, p in fp.FACT_PATTERNS] + list(fp.DEBT_CONTEXT)
    for pattern in patterns:
        for item in pattern.split():
            body = item[:-1] if len(item) > 1 and item[-1] in "?*+" else item
            for alt in body.split("|"):
                if alt not in fp.WORD_CLASSES and alt not in fp.REGEX_CLASSES:
                    words.add(alt)
    words.update(fp.REGEX_CLASS_WORDS)
    for names in fp.PRODUCTS.values():
        words.update(names)
    return {w.lower() for w in words if w}


def _label(slot: str, value: object) -> str:
    return f"{slot}={value!r}"


# ---------------------------------------------------------------- segmentation


class KeywordSegmenter:
    """jieba segmentation that never hides a pattern word inside a bigger token.

    The lexicon (written elsewhere) may add words such as 按时还款 or 逾期记录, and
    jieba itself fuses 没用过 or 很久没; both would hide the tokens the patterns
    look for. Each token is therefore split at every pattern word of two or more
    characters and at every negation character.
    """

    def __init__(self, tokenizer: Any, keywords: Iterable[str]) -> None:
        self._jieba = tokenizer
        self._keywords = frozenset(k for k in keywords if len(k) >= 2)
        self._longest = max((len(k) for k in self._keywords), default=1)

    def cut(self, text: str, cut_all: bool = False) -> Iterator[str]:
        for token in self._jieba.cut(text, cut_all=cut_all):
            yield from self.split(token)

    def split(self, token: str) -> Iterator[str]:
        if len(token) <= 1 or token.lower() in self._keywords:
            yield token
            return
        pending_start = 0
        i = 0
        while i < len(token):
            size = self._keyword_at(token, i)
            if size:
                if pending_start < i:
                    yield token[pending_start:i]
                yield token[i : i + size]
                i += size
                pending_start = i
            else:
                i += 1
        if pending_start < len(token):
            yield token[pending_start:]

    def _keyword_at(self, token: str, i: int) -> int:
        lowered = token.lower()
        for size in range(min(self._longest, len(token) - i), 1, -1):
            if lowered[i : i + size] in self._keywords:
                return size
        return 1 if token[i] in NEGATION_CHARS else 0


def _shared_jieba(words: Iterable[str]) -> Any:
    import jieba

    tokenizer = jieba.dt
    tokenizer.initialize()
    if LEXICON_DIR.is_dir():
        for path in sorted(LEXICON_DIR.glob("*.txt")):
            try:
                tokenizer.load_userdict(str(path))
            except Exception as error:  # a half-written lexicon must not break extraction
                logger.warning("Skipping jieba dictionary %s: %s", path, error)
    for word in words:
        if len(word) >= 2:
            tokenizer.add_word(word)
    return tokenizer


@lru_cache(maxsize=1)
def _pipeline() -> tuple[Any, Any, dict[str, tuple[str, object]]]:
    import spacy
    from spacy.matcher import Matcher

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    words = pattern_words()
    # spaCy's zh tokenizer has jieba_seg; its type says only Callable
    nlp.tokenizer.jieba_seg = KeywordSegmenter(_shared_jieba(words), words)  # type: ignore[union-attr]

    matcher = Matcher(nlp.vocab)
    labels: dict[str, tuple[str, object]] = {}
    for slot, value, pattern in fp.FACT_PATTERNS:
        label = _label(slot, value)
        labels[label] = (slot, value)
        matcher.add(label, [compile_pattern(pattern)])
    matcher.add(DEBT_CONTEXT_LABEL, [compile_pattern(p) for p in fp.DEBT_CONTEXT])

    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns(  # type: ignore[attr-defined]  # add_pipe is typed as returning a plain Pipe
        [
            {"label": "product", "pattern": name, "id": canonical}
            for canonical, names in fp.PRODUCTS.items()
            for name in names
        ]
    )
    return nlp, matcher, labels


def warm_up() -> None:
    """Builds the spaCy pipeline now rather than on the first message (takes seconds)."""
    _pipeline()


# ---------------------------------------------------------------- clauses

_SEPARATORS = "，,。!！?？;；~…\t\n .、"
_CLAUSE = re.compile(r"(?:[^，,。!！?？;；~…\s.、]|(?<=\d)\.(?=\d))+[，,。!！?？;；~…\s.、]*")
_QUESTION = re.compile(fp.QUESTION_PATTERN)
_THIRD_PERSON = re.compile(fp.THIRD_PERSON_PATTERN)
_SELF_REPORT = re.compile("我.*[了过]")


def _clauses(text: str) -> list[_Clause]:
    # `text` keeps the trailing punctuation (a ？ makes a question); `end` drops it.
    return [
        _Clause(m.start(), m.start() + len(m.group(0).rstrip(_SEPARATORS)), m.group(0), _is_usable(m.group(0)))
        for m in _CLAUSE.finditer(text)
    ]


def _is_usable(clause: str) -> bool:
    """False when the clause asks, supposes or talks about someone else."""
    if any(marker in clause for marker in fp.HYPOTHETICAL_MARKERS):
        return False
    if _THIRD_PERSON.search(clause):
        return False
    if _QUESTION.search(clause):
        # 「我逾期了十天会降额吗」 still tells us something about the user.
        return bool(_SELF_REPORT.search(clause))
    return True


def _clause_index(clauses: list[_Clause], char: int) -> int:
    for index, clause in enumerate(clauses):
        if clause.start <= char < clause.start + len(clause.text):
            return index
    return len(clauses) - 1


# ---------------------------------------------------------------- extraction


def analyse(text: str) -> tuple[list[Fact], list[tuple[str, int, int]]]:
    """The facts stated in `text` (one per slot, the last statement wins) and the products it
    names (canonical name, start, end), from one normalisation and one spaCy doc.

    Spans index the normalised text; a `Normalized` text (the NLU pipeline's) is not
    normalised again.
    """
    normalized_text = normalized(text)[:MAX_CHARS] if isinstance(text, str) else ""
    if not normalized_text.strip():
        return [], []
    try:
        nlp, _, _ = _pipeline()
        doc = nlp(normalized_text)
    except Exception:  # rules are best effort; a message must never fail on them
        logger.exception("Situation analysis failed for %r", normalized_text[:80])
        return [], []
    products = [(ent.ent_id_ or ent.text, ent.start_char, ent.end_char) for ent in doc.ents]
    try:
        facts = _find_facts(normalized_text, doc)
    except Exception:
        logger.exception("Fact extraction failed for %r", normalized_text[:80])
        facts = []
    return facts, products


def find_facts(text: str) -> list[Fact]:
    return analyse(text)[0]


def extract_facts(text: str) -> dict[str, object]:
    """Contract slot → value stated about the user's own situation in `text`."""
    return {fact.slot: fact.value for fact in find_facts(text)}


def find_products(text: str) -> list[tuple[str, int, int]]:
    return analyse(text)[1]


def _find_facts(text: str, doc: Any) -> list[Fact]:
    from spacy.tokens import Span
    from spacy.util import filter_spans

    clauses = _clauses(text)
    if not clauses:
        return []
    nlp, matcher, labels = _pipeline()
    fact_spans: list[Span] = []
    debt_clauses: set[int] = set()
    for match_id, start, end in matcher(doc):
        label = nlp.vocab.strings[match_id]
        span = Span(doc, start, end, label=label)
        index = _clause_index(clauses, span.start_char)
        if not clauses[index].usable:
            continue
        if label == DEBT_CONTEXT_LABEL:
            debt_clauses.add(index)
        else:
            fact_spans.append(span)

    chosen = sorted(filter_spans(fact_spans), key=lambda s: s.start)
    claimed = {_clause_index(clauses, span.start_char) for span in chosen}
    found: dict[str, Fact] = {}
    for span in chosen:
        slot, value = labels[span.label_]
        index = _clause_index(clauses, span.start_char)
        if slot == NONE_SLOT or not isinstance(value, (bool, float)):
            continue
        found.pop(slot, None)  # re-insert so that dict order follows the text
        found[slot] = Fact(slot, value, span.start_char, span.end_char)
        if slot == "has_overdue":
            found.pop("overdue_days", None)
            if value is True:
                days = _overdue_days(clauses, index, claimed)
                if days is not None:
                    found["overdue_days"] = days

    ratio = _debt_ratio(clauses, sorted(debt_clauses))
    if ratio is not None:
        found.pop("debt_ratio", None)
        found["debt_ratio"] = ratio
    lasted = _symptom_days(clauses)
    if lasted is not None:
        found["symptom_days"] = lasted
    repaid = _overdue_repaid(clauses)
    if repaid is not None:
        found["overdue_repaid"] = repaid
    return list(found.values())


_LASTING = re.compile(fp.LASTING_PATTERN)
_REPAID = re.compile(fp.REPAID_PATTERN)
_NOT_REPAID = re.compile(fp.NOT_REPAID_PATTERN)


def _overdue_repaid(clauses: list[_Clause]) -> Optional[Fact]:
    """Whether the overdue was repaid, when a clause says so (「已经还了」 / 「还没还上」)."""
    result: Optional[Fact] = None
    for clause in clauses:
        if not clause.usable:
            continue
        for pattern, value in ((_NOT_REPAID, False), (_REPAID, True)):
            match = pattern.search(clause.text)
            if match:
                result = Fact("overdue_repaid", value, clause.start + match.start(), clause.start + match.end())
                break
    return result


def _symptom_days(clauses: list[_Clause]) -> Optional[Fact]:
    """How long the problem has lasted, when a clause says so (fact_patterns.LASTING_PATTERN)."""
    result: Optional[Fact] = None
    for i, clause in enumerate(clauses):
        if not clause.usable or any(cue in clause.text for cue in fp.NOT_SYMPTOM_CUES):
            continue
        named = any(cue in clause.text for cue in fp.SYMPTOM_CUES)
        if not named and not (i > 0 and any(cue in clauses[i - 1].text for cue in fp.SYMPTOM_CUES)):
            continue
        match = _LASTING.search(clause.text)
        days = parse_since(match.group(1)) if match else None
        if match and days is not None and _plausible("symptom_days", days):
            result = Fact("symptom_days", float(days), clause.start + match.start(), clause.start + match.end())
    return result


def _overdue_days(clauses: list[_Clause], index: int, claimed: set[int]) -> Optional[Fact]:
    # 「逾期了，大概十来天」: the length may come in the clause right after.
    candidates = [index]
    if index + 1 < len(clauses) and index + 1 not in claimed and clauses[index + 1].usable:
        candidates.append(index + 1)
    for i in candidates:
        days = parse_days(Normalized(clauses[i].text))
        if days is not None and _plausible("overdue_days", days):
            return Fact("overdue_days", float(days), clauses[i].start, clauses[i].end)
    return None


def _debt_ratio(clauses: list[_Clause], indices: list[int]) -> Optional[Fact]:
    # 「收入2万，每个月要还1.5万」 spreads income and repayment over two clauses.
    result: Optional[Fact] = None
    for i in indices:
        windows = [(i, i)]
        if i + 1 < len(clauses) and clauses[i + 1].usable:
            windows.append((i, i + 1))
        if i > 0 and clauses[i - 1].usable:
            windows.append((i - 1, i))
        for first, last in windows:
            start, end = clauses[first].start, clauses[last].end
            ratio = parse_percentage(Normalized(clauses[first].text if first == last else _join(clauses, first, last)))
            if ratio is not None and _plausible("debt_ratio", ratio):
                result = Fact("debt_ratio", float(ratio), start, end)
                break
    return result


def _plausible(slot: str, value: float) -> bool:
    """Within the slot's valid range (knowledge/diagnosis.yml, the same the form enforces)."""
    rule = load_diagnosis_config()["invalid"][slot]
    return bool(rule["min"] <= value <= rule["max"])


def _join(clauses: list[_Clause], first: int, last: int) -> str:
    return "".join(clause.text for clause in clauses[first : last + 1])
