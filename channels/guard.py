"""The input guard every public channel applies before a message reaches Rasa.

Plain Python (no Rasa imports). A channel calls :meth:`Guard.check` (or
:func:`guard_message`) with the sender and the raw text and gets a
:class:`GuardDecision`: either answer directly with a text key from
``knowledge/guard.yml`` without calling the bot, or pass the cleaned, capped and
PII-masked text to the bot, sending the listed notices first.

PII is replaced by these placeholders (the user sees them if the bot ever quotes a
message back; 〔〕 brackets are not something users type, so they stay recognisable):

====================  ============
kind                  placeholder
====================  ============
``phone``             〔手机号〕
``id_card``           〔身份证号〕
``bank_card``         〔银行卡号〕
``email``             〔邮箱〕
====================  ============

Button payloads (texts starting with ``/``) are left as they are by
:func:`check_input`, but still masked: anyone can type ``/inform{"phone": ...}``.
"""
from __future__ import annotations

import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, FrozenSet, Literal, Optional, Tuple

PHONE, ID_CARD, BANK_CARD, EMAIL = "phone", "id_card", "bank_card", "email"
PLACEHOLDERS = {
    PHONE: "〔手机号〕",
    ID_CARD: "〔身份证号〕",
    BANK_CARD: "〔银行卡号〕",
    EMAIL: "〔邮箱〕",
}

# Keys of the texts in knowledge/guard.yml.
EMPTY, NO_TEXT, TOO_LONG, PII_NOTICE, RATE_LIMITED, BUSY = (
    "empty", "no_text", "too_long", "pii_notice", "rate_limited", "busy",
)
TEXT_KEYS = (EMPTY, NO_TEXT, TOO_LONG, PII_NOTICE, RATE_LIMITED, BUSY)

MAX_CHARS = 500
MAX_PAYLOAD_CHARS = 2000
BURST = 8
REFILL_PER_S = 1.0
MAX_SENDERS = 50_000
MAX_SENDER_CHARS = 128

# --- PII masking -------------------------------------------------------------------------

# Full-width ASCII (１３８, ＠, －) and the ideographic space fold to ASCII one character
# for one, so the patterns can stay ASCII and match positions map back to the original.
_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20

_NO_DIGIT_BEFORE, _NO_DIGIT_AFTER = r"(?<![0-9])", r"(?![0-9])"
_SEP = r"[ \-]"
_DATE = r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"

# Order matters: each rule sees the text with earlier matches already replaced, and the
# digit lookarounds keep a rule from taking part of a longer digit run. ID numbers start
# with a province code (1-8); other 18-digit runs are taken as bank cards.
_RULES: Tuple[Tuple[str, re.Pattern[str]], ...] = (
    (EMAIL, re.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
    )),
    (ID_CARD, re.compile(
        _NO_DIGIT_BEFORE
        + rf"(?:[1-8][0-9]{{16}}[0-9Xx]|[1-8][0-9]{{14}}|[1-8][0-9]{{5}}{_SEP}{_DATE}{_SEP}[0-9]{{3}}[0-9Xx])"
        + _NO_DIGIT_AFTER
    )),
    (BANK_CARD, re.compile(
        _NO_DIGIT_BEFORE
        + rf"(?:[0-9]{{16,19}}|[0-9]{{4}}(?:{_SEP}[0-9]{{4}}){{3}}(?:{_SEP}?[0-9]{{1,3}})?)"
        + _NO_DIGIT_AFTER
    )),
    (PHONE, re.compile(
        _NO_DIGIT_BEFORE
        + rf"(?:(?:\+|00)?86{_SEP}?|\(\+?86\){_SEP}?)?1[3-9][0-9](?:{_SEP}?[0-9]{{4}}){{2}}"
        + _NO_DIGIT_AFTER
    )),
)


def mask_pii(text: str) -> Tuple[str, set[str]]:
    """Replaces phone, ID card, bank card numbers and e-mail addresses by placeholders.

    Returns the masked text and the kinds that were found. Amounts, day counts and
    years (30000, 3万, 逾期15天, 2024年) are too short for any pattern.
    """
    folded = text.translate(_FOLD)
    found: set[str] = set()
    for kind, pattern in _RULES:
        pieces_original, pieces_folded, end = [], [], 0
        for match in pattern.finditer(folded):
            pieces_original += [text[end:match.start()], PLACEHOLDERS[kind]]
            pieces_folded += [folded[end:match.start()], PLACEHOLDERS[kind]]
            end = match.end()
        if end:
            found.add(kind)
            text = "".join(pieces_original) + text[end:]
            folded = "".join(pieces_folded) + folded[end:]
    return text, found


# --- input checks --------------------------------------------------------------------------

Kind = Literal["ok", "empty", "no_text", "too_long"]

# Control characters (tab and newline are handled first), lone surrogates (they break
# UTF-8 encoding in the tracker store and logs), zero-width and bidi-override characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]"
)


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    text: str  # cleaned; for "too_long" the first max_chars characters


def clean_text(text: str) -> str:
    """Removes control and invisible characters (keeping newlines) and outer whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _INVISIBLE.sub("", text).strip()


def has_text(text: str) -> bool:
    """Whether there is a letter or a digit, i.e. more than emoji, symbols, punctuation."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


def check_input(
    text: str, max_chars: int = MAX_CHARS, max_payload_chars: int = MAX_PAYLOAD_CHARS
) -> Verdict:
    """Classifies a message: empty, no text (emoji / punctuation only), too long, or ok.

    Button payloads ("/affirm", '/inform{"x":1}') up to ``max_payload_chars`` come back
    as they are; a longer one is treated like any long text.
    """
    cleaned = clean_text(text)
    if not cleaned:
        return Verdict("empty", "")
    if cleaned.startswith("/") and len(cleaned) <= max_payload_chars:
        return Verdict("ok", cleaned)
    kept = cleaned[:max_chars].rstrip()
    if not has_text(kept):
        return Verdict("no_text", "")
    return Verdict("too_long" if len(cleaned) > max_chars else "ok", kept)


# --- per-sender state ------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per sender: ``burst`` messages at once, then ``refill_per_s``.

    Only the ``max_senders`` most recently seen senders are remembered; a forgotten
    sender starts again with a full bucket.
    """

    def __init__(
        self,
        burst: int = BURST,
        refill_per_s: float = REFILL_PER_S,
        max_senders: int = MAX_SENDERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or refill_per_s <= 0 or max_senders < 1:
            raise ValueError("burst, refill_per_s and max_senders must be positive")
        self._burst = float(burst)
        self._refill_per_s = refill_per_s
        self._max_senders = max_senders
        self._clock = clock
        self._buckets: "OrderedDict[str, Tuple[float, float]]" = OrderedDict()

    def allow(self, sender: str) -> bool:
        now = self._clock()
        tokens, updated_at = self._buckets.pop(sender, (self._burst, now))
        tokens = min(self._burst, tokens + max(0.0, now - updated_at) * self._refill_per_s)
        allowed = tokens >= 1.0
        self._buckets[sender] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self._max_senders:
            self._buckets.popitem(last=False)
        return allowed

    def __len__(self) -> int:
        return len(self._buckets)


class PiiNoticeTracker:
    """Remembers which senders were told that PII was masked.

    In memory, per process and bounded (least recently seen senders are forgotten): after a
    restart, or in another worker process, a sender may see the notice once more.
    """

    def __init__(self, max_senders: int = MAX_SENDERS) -> None:
        if max_senders < 1:
            raise ValueError("max_senders must be positive")
        self._max_senders = max_senders
        self._warned: "OrderedDict[str, None]" = OrderedDict()

    def should_warn(self, sender: str) -> bool:
        """True the first time it is asked about ``sender``."""
        first = sender not in self._warned
        self._warned.pop(sender, None)
        self._warned[sender] = None
        if len(self._warned) > self._max_senders:
            self._warned.popitem(last=False)
        return first

    def __len__(self) -> int:
        return len(self._warned)


def valid_sender(value: object, max_chars: int = MAX_SENDER_CHARS) -> Optional[str]:
    """The sender id as a string, or None if it is not a short printable string or number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    sender = str(value)
    if not 0 < len(sender) <= max_chars or clean_text(sender) != sender:
        return None
    return sender


# --- the decision ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuardDecision:
    """Either ``reply`` (a text key: answer without the bot) or ``text`` for the bot."""

    reply: Optional[str] = None
    text: str = ""
    notices: Tuple[str, ...] = ()  # text keys to send before the bot's reply
    masked: FrozenSet[str] = frozenset()


def guard_message(
    sender: str,
    text: Optional[str],
    limiter: RateLimiter,
    pii_notices: PiiNoticeTracker,
    max_chars: int = MAX_CHARS,
    max_payload_chars: int = MAX_PAYLOAD_CHARS,
) -> GuardDecision:
    # Every message costs a token, empty ones too: a flood is refused before any work.
    if not limiter.allow(sender):
        return GuardDecision(reply=RATE_LIMITED)
    verdict = check_input(text or "", max_chars, max_payload_chars)
    if verdict.kind == "empty":
        return GuardDecision(reply=EMPTY)
    if verdict.kind == "no_text":
        return GuardDecision(reply=NO_TEXT)
    masked, kinds = mask_pii(verdict.text)
    notices: Tuple[str, ...] = ()
    if kinds and pii_notices.should_warn(sender):
        notices += (PII_NOTICE,)
    if verdict.kind == "too_long":
        notices += (TOO_LONG,)
    return GuardDecision(text=masked, notices=notices, masked=frozenset(kinds))


@dataclass(frozen=True)
class GuardLimits:
    max_chars: int = MAX_CHARS
    max_payload_chars: int = MAX_PAYLOAD_CHARS
    burst: int = BURST
    refill_per_s: float = REFILL_PER_S
    max_senders: int = MAX_SENDERS


class Guard:
    """One channel's guard: its limits and per-sender state."""

    def __init__(
        self, limits: GuardLimits = GuardLimits(), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits
        self.limiter = RateLimiter(limits.burst, limits.refill_per_s, limits.max_senders, clock)
        self.pii_notices = PiiNoticeTracker(limits.max_senders)

    def check(self, sender: str, text: Optional[str]) -> GuardDecision:
        return guard_message(
            sender,
            text,
            self.limiter,
            self.pii_notices,
            self.limits.max_chars,
            self.limits.max_payload_chars,
        )
