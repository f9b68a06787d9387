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
``landline``          〔电话号〕
``qq``                〔QQ号〕
``id_card``           〔身份证号〕
``bank_card``         〔银行卡号〕
``email``             〔邮箱〕
====================  ============

The whole message is masked before it is cut to its length limit, so a number on the cut
is masked whole. Sender ids that carry PII are replaced by a stable pseudonym
(:func:`safe_sender`), and client metadata is masked and bounded (:func:`clean_metadata`).

Button payloads (texts starting with ``/``) are left as they are by
:func:`check_input`, but still masked: anyone can type ``/inform{"phone": ...}``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, FrozenSet, List, Literal, Optional, Tuple

PHONE, LANDLINE, QQ, ID_CARD, BANK_CARD, EMAIL = (
    "phone",
    "landline",
    "qq",
    "id_card",
    "bank_card",
    "email",
)
PLACEHOLDERS = {
    PHONE: "〔手机号〕",
    LANDLINE: "〔电话号〕",
    QQ: "〔QQ号〕",
    ID_CARD: "〔身份证号〕",
    BANK_CARD: "〔银行卡号〕",
    EMAIL: "〔邮箱〕",
}

# Keys of the texts in knowledge/guard.yml.
EMPTY, NO_TEXT, TOO_LONG, PII_NOTICE, RATE_LIMITED, BUSY, SESSION_INVALID, BODY_TOO_LARGE = (
    "empty",
    "no_text",
    "too_long",
    "pii_notice",
    "rate_limited",
    "busy",
    "session_invalid",
    "body_too_large",
)
TEXT_KEYS = (EMPTY, NO_TEXT, TOO_LONG, PII_NOTICE, RATE_LIMITED, BUSY, SESSION_INVALID, BODY_TOO_LARGE)

MAX_CHARS = 500
MAX_PAYLOAD_CHARS = 2000
# A button payload's entities are flat ({"debt_ratio": 20}); deeper JSON is refused before any
# parser recurses into it (700 levels raised RecursionError inside Rasa and the turn was lost).
MAX_PAYLOAD_DEPTH = 3
BURST = 8
REFILL_PER_S = 1.0
MAX_SENDERS = 50_000
MAX_SENDER_CHARS = 128

# --- PII masking -------------------------------------------------------------------------
#
# Detection runs on a copy of the text folded one character for one, so match positions
# map back to the original: full-width ASCII (１３８, ＠, －) and the ideographic space to
# ASCII, every other decimal digit (٣, ३, ①) and the spelled-out digits (一三八, 幺三八) to
# 0-9, 。 and ｡ to ".". Numbers are then read as runs of digit groups joined by short
# separators (spaces, newlines, dots, dashes of any kind, _ / \ ( )), and a run (or its
# longest leading part) is masked when its digits and grouping are those of a mobile or
# landline number, an ID or a bank card. Amounts, day counts, dates and years
# (30000, 3万, 逾期15天, 2024/03/15) never have those shapes.

_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FOLD[0x3000] = 0x20
_FOLD.update(
    {
        ord(c): ord(d)
        for c, d in zip(
            # simplified and traditional, formal and colloquial: 壹參捌, 貳 陸 兩, 幺 (one)
            "零〇○一幺壹二两兩贰貳三叁參四肆五伍六陆陸七柒八捌九玖",
            "000111222223334455666778899",
        )
    }
)
_FOLD.update({ord("。"): ord("."), ord("｡"): ord(".")})
# Marks that stand between digit groups as a dash would: the katakana prolonged sound mark
# (１３８ー１２３４), wave dashes and tildes; every other dash (Unicode Pd) is folded too.
_DASH_LIKE = frozenset("ーｰ〜〜～~⁓∼")


def _fold(text: str) -> str:
    folded = text.translate(_FOLD)
    if folded.isascii():
        return folded
    chars = list(folded)
    for index, char in enumerate(chars):
        if not char.isascii():
            value = unicodedata.digit(char, None)
            if value is not None:
                chars[index] = str(value)
            elif char in _DASH_LIKE or unicodedata.category(char) == "Pd":
                chars[index] = "-"
            elif unicodedata.category(char) == "Zs":  # figure, thin, em, narrow no-break … spaces
                chars[index] = " "
    return "".join(chars)


_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+"
    r"(?:@|\s*(?:\(at\)|\[at\]|\{at\}|（at）|【at】)\s*)"
    r"[A-Za-z0-9\-]+(?:(?:\.|\s*(?:\(dot\)|\[dot\])\s*)[A-Za-z0-9\-]+)*"
    r"(?:\.|\s*(?:\(dot\)|\[dot\])\s*)[A-Za-z]{2,}(?![A-Za-z])",
    re.IGNORECASE,
)
# A digit group, and what may join two groups of one number.
_GROUP = re.compile(r"[0-9]+(?:[Xx](?![A-Za-z0-9]))?")
_JOIN = re.compile(r"[ \n\u00a0]{0,3}[\-\u2010-\u2015\u2212~_/\\.·・()（）]{0,3}[ \n\u00a0]{0,3}")
# Words after which a shorter number is still a contact: QQ numbers, local landlines.
_QQ_BEFORE = re.compile(r"(?:qq|扣扣|企鹅)(?:号码|号)?\s*(?:是|为|:|：)?\s*[(（]?$", re.IGNORECASE)
_LANDLINE_BEFORE = re.compile(r"(?:座机|固话|电话|致电|联系方式)(?:号码|号)?\s*(?:是|为|:|：)?\s*[(（]?$")
_DATE = re.compile(r"(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])$")
_ID_GROUPINGS = {(6, 8, 4), (6, 4, 4, 4), (6, 12), (6, 8, 3, 1), (6, 6, 3), (6, 9)}


def _all_at_least_3(lengths: Tuple[int, ...]) -> bool:
    return all(length >= 3 for length in lengths)


def _number_kind(groups: Tuple[str, ...], context: str) -> Optional[str]:
    """The kind of PII the digit groups of one number are, if any."""
    digits = "".join(groups)
    lengths = tuple(len(group) for group in groups)
    single = len(groups) == 1
    if "x" in digits[:-1].lower():
        return None
    if len(digits) in (15, 18) and digits[0] in "12345678" and digits[:-1].isdigit():
        if len(digits) == 15 and not digits.isdigit():
            return None
        if single or (
            lengths in _ID_GROUPINGS and _DATE.match(("19" + digits[6:12]) if len(digits) == 15 else digits[6:14])
        ):
            return ID_CARD
    if not digits.isdigit():
        return None
    if 16 <= len(digits) <= 19 and (
        single
        or (len(groups) >= 4 and all(n == 4 for n in lengths[:-1]) and lengths[-1] <= 4)
        or (len(groups) == 2 and lengths[0] in (4, 6))
    ):
        return BANK_CARD
    rest, rest_lengths = digits, lengths
    if not single and groups[0] in ("86", "0086"):
        rest, rest_lengths = digits[len(groups[0]) :], lengths[1:]
    elif single and len(digits) in (13, 15) and digits.startswith(("86", "0086")):
        rest = digits[len(digits) - 11 :]
    if re.fullmatch(r"1[3-9][0-9]{9}", rest) and (len(rest_lengths) == 1 or _all_at_least_3(rest_lengths)):
        return PHONE
    if re.fullmatch(r"0[1-9][0-9]{8,10}", digits) and (single or (_all_at_least_3(lengths) and lengths[0] in (3, 4))):
        return LANDLINE
    if _QQ_BEFORE.search(context) and 5 <= len(digits) <= 11 and digits[0] != "0":
        return QQ
    if _LANDLINE_BEFORE.search(context) and 7 <= len(digits) <= 8 and digits[0] != "0":
        return LANDLINE
    return None


def _digit_runs(folded: str) -> List[List[Tuple[int, int]]]:
    """The spans of the digit groups of every number in the text, number by number."""
    runs: List[List[Tuple[int, int]]] = []
    position = 0
    while (match := _GROUP.search(folded, position)) is not None:
        if match.start() > 0 and folded[match.start() - 1].isdigit():
            position = match.end()
            continue
        run = [match.span()]
        while True:
            join = _JOIN.match(folded, run[-1][1])
            following = _GROUP.match(folded, join.end()) if join and join.end() > run[-1][1] else None
            if following is None or folded[run[-1][1] - 1] in "Xx":
                break
            run.append(following.span())
        runs.append(run)
        position = run[-1][1]
    return runs


def mask_pii(text: str) -> Tuple[str, set[str]]:
    """Replaces contact and account numbers and e-mail addresses by placeholders.

    Returns the masked text and the kinds that were found.
    """
    folded = _fold(text)
    spans: List[Tuple[int, int, str]] = [(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(folded)]
    taken = [False] * len(folded)
    for start, end, _ in spans:
        taken[start:end] = [True] * (end - start)
    for run in _digit_runs(folded):
        run = [span for span in run if not taken[span[0]]]
        first = 0
        while first < len(run):
            # The longest grouping of any kind is five groups (+86 138 1234 5678, cards).
            for last in range(min(len(run), first + 5), first, -1):
                start, end = run[first][0], run[last - 1][1]
                groups = tuple(folded[a:b] for a, b in run[first:last])
                kind = _number_kind(groups, folded[max(0, start - 12) : start])
                if kind is not None:
                    if start > 0 and folded[start - 1] in "+(（":
                        start -= 1
                        if start > 0 and folded[start - 1] in "(（" and folded[start] == "+":
                            start -= 1
                    spans.append((start, end, kind))
                    first = last
                    break
            else:
                first += 1
    pieces, end, found = [], 0, set()
    for start, stop, kind in sorted(spans):
        if start < end:
            continue
        pieces += [text[end:start], PLACEHOLDERS[kind]]
        end = stop
        found.add(kind)
    return "".join(pieces) + text[end:], found


# --- input checks --------------------------------------------------------------------------

Kind = Literal["ok", "empty", "no_text", "too_long"]

# Control characters (tab and newline are handled first), lone surrogates (they break
# UTF-8 encoding in the tracker store and logs), zero-width and bidi-override characters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200c\u200e\u200f\u202a-\u202e" "\u2060-\u2064\u2066-\u206f\ufeff\ud800-\udfff]"
)


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    text: str  # cleaned and PII-masked; for "too_long" the first max_chars characters
    masked: FrozenSet[str] = frozenset()


def clean_text(text: str) -> str:
    """Removes control and invisible characters (keeping newlines) and outer whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _INVISIBLE.sub("", text).strip()


def has_text(text: str) -> bool:
    """Whether there is a letter or a digit, i.e. more than emoji, symbols, punctuation."""
    return any(unicodedata.category(char)[0] in "LN" for char in text)


_PAYLOAD = re.compile(r"/([A-Za-z_][A-Za-z0-9_]{0,63})(\{.*\})?", re.DOTALL)
# Masking looks a little past the cut, so a number that straddles it is masked whole.
_MASK_MARGIN = 64


def json_depth(text: str) -> int:
    """How deeply brackets nest in JSON `text` (outside strings), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _finite(value: str) -> float:
    """A JSON number or constant (NaN, Infinity) as a float, refused unless finite."""
    number = float(value)
    if not math.isfinite(number):  # 1e309 is inf, float("NaN") is nan
        raise ValueError(f"not a finite number: {value}")
    return number


@dataclass(frozen=True)
class ButtonPayload:
    intent: str
    entities: Optional[dict]  # the decoded JSON object, None for a bare ``/intent``


def button_payload(text: str, intents: Optional[FrozenSet[str]] = None) -> Optional[ButtonPayload]:
    """``/intent`` or ``/intent{...JSON object...}`` decoded, with the intent among ``intents``
    (any well-formed name when None), nested at most MAX_PAYLOAD_DEPTH deep and with finite
    numbers only (NaN, Infinity or 1e309 would be said back as 「nan%」); None for anything else."""
    match = _PAYLOAD.fullmatch(text)
    if match is None or (intents is not None and match.group(1) not in intents):
        return None
    if match.group(2) is None:
        return ButtonPayload(match.group(1), None)
    if json_depth(match.group(2)) > MAX_PAYLOAD_DEPTH:
        return None
    try:
        entities = json.loads(match.group(2), parse_constant=_finite, parse_float=_finite)
    except (ValueError, RecursionError):
        return None
    return ButtonPayload(match.group(1), entities) if isinstance(entities, dict) else None


def is_button_payload(text: str, intents: Optional[FrozenSet[str]] = None) -> bool:
    return button_payload(text, intents) is not None


def _mask_json(value: object, kinds: set[str]) -> object:
    if isinstance(value, str):
        masked, found = mask_pii(value)
        kinds |= found
        return masked
    if isinstance(value, list):
        return [_mask_json(item, kinds) for item in value]
    if isinstance(value, dict):
        return {_mask_json(key, kinds): _mask_json(item, kinds) for key, item in value.items()}
    return value


def mask_payload(text: str, payload: ButtonPayload) -> Tuple[str, set[str]]:
    """A button payload (`text`, decoded as `payload`) masked on its decoded values: JSON escapes
    (「\\u0031\\u0033…」) cannot hide a number from the masker, and what Rasa stores as the
    payload's entities is masked. Then it comes back re-encoded without escapes."""
    kinds: set[str] = set()
    entities = _mask_json(payload.entities, kinds) if payload.entities is not None else None
    if not kinds:  # nothing hidden in the values: the payload as it was sent, masked as text
        return mask_pii(text)
    masked, found = mask_pii(f"/{payload.intent}{json.dumps(entities, ensure_ascii=False)}")
    return masked, kinds | found


def check_input(
    text: str,
    max_chars: int = MAX_CHARS,
    max_payload_chars: int = MAX_PAYLOAD_CHARS,
    payload_intents: Optional[FrozenSet[str]] = None,
) -> Verdict:
    """Classifies a message (empty, no text: emoji / punctuation only, too long, or ok)
    and gives its text cleaned, PII-masked and cut to ``max_chars``.

    A button payload ("/affirm", '/inform{"x":1}') of a known intent, up to
    ``max_payload_chars``, keeps its form (masked all the same: anyone can type
    ``/inform{"phone": ...}``). Any other text starting with "/" loses its slashes and
    is read as an ordinary message, so it is cut like one and Rasa never sees it as an
    intent it does not know.
    """
    cleaned = clean_text(text)
    if not cleaned:
        return Verdict("empty", "")
    if cleaned.startswith("/"):
        payload = button_payload(cleaned, payload_intents) if len(cleaned) <= max_payload_chars else None
        if payload is not None:
            masked, kinds = mask_payload(cleaned, payload)
            return Verdict("ok", masked, frozenset(kinds))
        cleaned = cleaned.lstrip("/ ")
    masked, kinds = mask_pii(cleaned[: max_chars + _MASK_MARGIN])
    kept = masked[:max_chars]
    if kept.rfind("〔") > kept.rfind("〕"):  # a placeholder cut in half
        kept = kept[: kept.rfind("〔")]
    kept = kept.rstrip()
    if not has_text(kept):
        return Verdict("no_text", "")
    too_long = len(cleaned) > max_chars and len(masked) > len(kept)
    return Verdict("too_long" if too_long else "ok", kept, frozenset(kinds))


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


# A random UUID (as the widget and most clients make them), bare or dashed: its digits are
# random, so a run that looks like a phone number is chance, not a phone number.
_UUID_SENDER = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def safe_sender(sender: str) -> str:
    """The sender id, or a stable pseudonym for one that carries PII (a phone number used as
    a session id would otherwise be the key of the stored conversation)."""
    if _UUID_SENDER.fullmatch(sender) or _PSEUDONYM.fullmatch(sender) or not mask_pii(sender)[1]:
        return sender
    return "anon-" + hashlib.sha256(sender.encode("utf-8")).hexdigest()[:24]


# A pseudonym is not PII: passed through as it is (its hex may hold a phone-shaped digit run).
_PSEUDONYM = re.compile(r"anon-[0-9a-f]{24}")

# REST conversations have a key space of their own: anyone may post any sender id to the REST
# channel, so a REST sender is stored under this prefix and can never name a conversation of the
# web widget (signed session ids) or of WeChat (signed openids), which never contain ":".
REST_KEY_PREFIX = "rest:"


def rest_conversation_key(sender: str) -> str:
    """Where the REST channel stores `sender`'s conversation."""
    return REST_KEY_PREFIX + safe_sender(sender)


# An input channel name as Rasa's channels have them (rest, socketio, wechat, terminal).
_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def valid_channel_name(name: object) -> bool:
    return isinstance(name, str) and _CHANNEL_NAME.fullmatch(name) is not None


MAX_METADATA_BYTES = 2048
_MAX_METADATA_DEPTH = 4


def clean_metadata(metadata: object, max_bytes: int = MAX_METADATA_BYTES) -> dict:
    """Client metadata as it may be stored: a JSON object of at most ``max_bytes`` and
    ``_MAX_METADATA_DEPTH`` levels, every string (keys too) PII-masked; else empty.

    Rasa keeps metadata in the tracker and sends it to the action server with every event,
    so an unbounded one would be copied again on every turn."""
    if not isinstance(metadata, dict):
        return {}
    try:
        if len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) > max_bytes:
            return {}
    except (TypeError, ValueError, RecursionError):
        return {}

    def clean(value: object, depth: int) -> object:
        if isinstance(value, str):
            return mask_pii(clean_text(value))[0]
        if isinstance(value, dict):
            if depth >= _MAX_METADATA_DEPTH:
                return {}
            return {str(clean(str(k), depth)): clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v, depth + 1) for v in value] if depth < _MAX_METADATA_DEPTH else []
        return value

    cleaned = clean(metadata, 0)
    return cleaned if isinstance(cleaned, dict) else {}


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
    payload_intents: Optional[FrozenSet[str]] = None,
) -> GuardDecision:
    # Every message costs a token, empty ones too: a flood is refused before any work.
    if not limiter.allow(sender):
        return GuardDecision(reply=RATE_LIMITED)
    verdict = check_input(text or "", max_chars, max_payload_chars, payload_intents)
    if verdict.kind == "empty":
        return GuardDecision(reply=EMPTY)
    if verdict.kind == "no_text":
        return GuardDecision(reply=NO_TEXT)
    notices: Tuple[str, ...] = ()
    if verdict.masked and pii_notices.should_warn(sender):
        notices += (PII_NOTICE,)
    if verdict.kind == "too_long":
        notices += (TOO_LONG,)
    return GuardDecision(text=verdict.text, notices=notices, masked=verdict.masked)


@dataclass(frozen=True)
class GuardLimits:
    max_chars: int = MAX_CHARS
    max_payload_chars: int = MAX_PAYLOAD_CHARS
    burst: int = BURST
    refill_per_s: float = REFILL_PER_S
    max_senders: int = MAX_SENDERS


DEFAULT_LIMITS = GuardLimits()


class Guard:
    """One channel's guard: its limits and per-sender state."""

    def __init__(
        self,
        limits: GuardLimits = DEFAULT_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        payload_intents: Optional[FrozenSet[str]] = None,
    ) -> None:
        self.limits = limits
        self.payload_intents = payload_intents
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
            self.payload_intents,
        )
