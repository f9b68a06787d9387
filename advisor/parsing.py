"""Reading quantities and short answers out of colloquial Chinese.

Every function normalises its input first, returns None when it finds nothing,
and never raises. Values are floats in the contract's units: days, percent, yuan.

Choices worth knowing:

* Ranges take the larger end: 两三天 → 3, 六七成 → 70, 3-5天 → 5.
* 多 / 来 / 几 after a number take the lower bound: 三十多天 → 30, 十几天 → 10;
  a bare 几 (几天, 好几个月) is too vague → None.
* Time references are not durations: 上个月, 去年, 三天前 … are ignored, so
  「上个月逾期了十天」 → 10.
* A bare number ("10", "八十") is read in the function's own unit; a bare decimal
  strictly between 0 and 1 is a ratio for `parse_percentage` ("0.6" → 60).
* Digit runs longer than nine digits are identifiers (phone, ID, card numbers),
  never quantities.
* Negative values are returned as read ("-3天" → -3.0); callers reject them.
* Only the first `MAX_PARSE_CHARS` characters are read: answers are short, and
  this bounds the regex work on pasted walls of text.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

import cn2an

from advisor.normalize import normalized

MAX_DIGITS = 9
MAX_PARSE_CHARS = 300

_CN_DIGIT_VALUES = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = "零〇一二两三四五六七八九十百千万亿"
_NUM = rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?|[{_CN_NUM}]+(?:点[零〇一二两三四五六七八九]+)?)"

# ---------------------------------------------------------------- numbers


def _to_float(token: str) -> Optional[float]:
    """A digit or Chinese numeral string as a float; None when it is not one."""
    token = token.replace(",", "")
    if not token:
        return None
    if token[0].isdigit():
        if len(token.split(".")[0]) > MAX_DIGITS:
            return None
        try:
            return float(token)
        except ValueError:
            return None
    if "点" in token:
        whole, _, frac = token.partition("点")
        whole_value = _cn_integer(whole) if whole else 0.0
        frac_digits = "".join(str(_CN_DIGIT_VALUES.get(c, 0)) for c in frac)
        if whole_value is None or not frac_digits:
            return None
        return whole_value + float("0." + frac_digits)
    return _cn_integer(token)


def _cn_integer(token: str) -> Optional[float]:
    try:
        # smart mode also reads colloquial 三万五 (35000) and 两千五 (2500).
        value = cn2an.cn2an(token, "smart")
    except Exception:
        return None
    return float(value)


def _larger_of_range(match: re.Match[str]) -> str:
    first, second = match.group(1), match.group(2)
    if first.isdigit() and second.isdigit():
        return second if float(second) >= float(first) else first
    if _CN_DIGIT_VALUES.get(second, 0) == _CN_DIGIT_VALUES.get(first, -1) + 1:
        return second
    return match.group(0)


_CN_RANGE = re.compile("([一二两三四五六七八九])([一二两三四五六七八九])")
_DIGIT_RANGE = re.compile(r"(?<![\d.])(\d+)\s*(?:-|~|到|至)\s*(\d+)")


def _collapse_ranges(text: str) -> str:
    # 九十 is ninety, not "nine to ten": only single digits 一…九 form a range.
    text = _DIGIT_RANGE.sub(_larger_of_range, text)
    return _CN_RANGE.sub(_larger_of_range, text)


_BARE = re.compile(
    rf"(?:大概|大约|差不多|约|估计|应该是|应该|就|有|是)?\s*(?P<neg>-|负)?\s*(?P<num>{_NUM})"
    r"\s*(?:左右|上下|吧|多|了|的样子)?[。.!！~]*"
)


def _bare_number(text: str) -> Optional[float]:
    match = _BARE.fullmatch(text.strip())
    if not match:
        return None
    value = _to_float(match.group("num"))
    if value is None:
        return None
    return -value if match.group("neg") else value


def is_bare_number(text: str) -> bool:
    """True when the whole text is just a number ("10", "八十", "大概三十")."""
    return _bare_number(_prepare(text)) is not None


def _normalized(text: object) -> str:
    """The parsers take raw or `Normalized` text; only raw text is normalised here."""
    if not isinstance(text, str):
        return ""
    return normalized(text)[:MAX_PARSE_CHARS]


def _prepare(text: object) -> str:
    return _collapse_ranges(_normalized(text))


# ---------------------------------------------------------------- days

_UNIT_DAYS = {"天": 1.0, "日": 1.0, "周": 7.0, "星期": 7.0, "礼拜": 7.0, "月": 30.0, "年": 365.0}
# Half a unit, as people count it: 半年 is 180 days, not 182.5.
_HALF_UNIT_DAYS = {"天": 0.5, "日": 0.5, "周": 3.5, "星期": 3.5, "礼拜": 3.5, "月": 15.0, "年": 180.0}

# Calendar references: when something happened, not how long it lasted.
_TIME_REFERENCE = re.compile(
    r"[上下这本当]个?(?:月|星期|礼拜|周)|上半年|下半年|[去今前明]年|"
    r"前几天|前些天|前段时间|这几天|这两天|[今昨前明后每]天|天天|每个?(?:月|周|星期|年)|"
    rf"{_NUM}\s*(?:个|多)*\s*(?:天|日|周|星期|礼拜|月|年)(?:前|以前|之前)|"
    rf"{_NUM}\s*月\s*{_NUM}\s*[日号]|\d{{4}}\s*年"
)

_DURATION = re.compile(
    rf"(?P<neg>-|负)?\s*(?P<num>{_NUM}|半)\s*(?P<mid>[个多来余几半]*)\s*"
    r"(?P<unit>天|日|周|星期|礼拜|月|年)(?P<tail>半)?"
)


def _mask(text: str, pattern: re.Pattern[str]) -> str:
    # Same-length blanks keep later match positions meaningful.
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _durations(text: str) -> Iterator[tuple[int, float]]:
    for match in _DURATION.finditer(text):
        unit, mid = match.group("unit"), match.group("mid")
        if unit == "月" and match.group("num") != "半" and "个" not in mid and "多" not in mid:
            continue  # 三月 / 3月 name a month
        whole = 0.0 if match.group("num") == "半" else _to_float(match.group("num"))
        if whole is None:
            continue
        halves = (match.group("num") == "半") + ("半" in mid) + bool(match.group("tail"))
        days = whole * _UNIT_DAYS[unit] + halves * _HALF_UNIT_DAYS[unit]
        yield match.start(), -days if match.group("neg") else days


def parse_days(text: str) -> Optional[float]:
    """A duration in days: 一个月 → 30, 半个月 → 15, 两个多月 → 60, 3天 → 3.

    When the text mentions 逾期, the first duration after it wins
    (「借了一年，逾期十天」 → 10); otherwise the first duration in the text.
    """
    prepared = _prepare(text)
    if not prepared:
        return None
    bare = _bare_number(prepared)
    if bare is not None:
        return bare
    masked = _mask(prepared, _TIME_REFERENCE)
    found = list(_durations(masked))
    if not found:
        return None
    overdue_at = masked.find("逾期")
    if overdue_at >= 0:
        after = [days for start, days in found if start > overdue_at]
        if after:
            return after[0]
    return found[0][1]


# ---------------------------------------------------------------- percentages

_PERCENT_SIGN = re.compile(rf"(?P<neg>-|负)?(?P<num>{_NUM})\s*%")
_PERCENT_WORD = re.compile(rf"(?P<neg>负)?百分之(?P<num>{_NUM})")
_FRACTION = re.compile(rf"(?P<den>{_NUM})分之(?P<num>{_NUM})")
_SLASH_FRACTION = re.compile(r"(?<![\d/])(?P<num>\d+)\s*/\s*(?P<den>\d+)(?![\d/])")
_TENTHS = re.compile(
    rf"(?P<num>\d+|[{_CN_NUM}]+)成(?P<extra>[一二三四五六七八九]|\d)?(?!功|本|为|绩|熟|交|立|年|长|员)"
)
_DEBT_RATIO_NUMBER = re.compile(
    rf"负债率\s*(?:是|有|在|大概|大约|差不多|约|快|接近|超过|达到|了)*\s*(?P<num>{_NUM})(?!\s*[万千wWkK元块天月年])"
)

# Words for fractions of one's income; 大半 / 小半 are read as 60 % / 30 %.
_HALF_WORDS: tuple[tuple[str, float], ...] = (
    ("一大半", 60.0),
    ("一多半", 60.0),
    ("多一半", 60.0),
    ("一半多", 60.0),
    ("一半以上", 60.0),
    ("超过一半", 60.0),
    ("一小半", 30.0),
    ("大半", 60.0),
    ("小半", 30.0),
    ("对半", 50.0),
    ("一半", 50.0),
)
_HALF = re.compile("(?P<word>" + "|".join(w for w, _ in _HALF_WORDS) + ")(?!年|个|天|月|夜|辈子|生|小时|晚)")

_INCOME_WORDS = "月收入|收入|工资|月薪|薪水|薪资|到手|挣|赚"
# Total debt (负债20万) is not a monthly repayment, so 负债/欠款 are not listed;
# 房贷/车贷 are, as people say 「房贷每月四千」 far more often than the loan total.
_REPAY_WORDS = "月供|还款|还贷|每月还|每个月还|要还|房贷|车贷|还"
_AMOUNT_GAP = rf"(?:一个月|[^\d{_CN_NUM},，。;；!?！？]){{0,5}}?"


def _percent_from(match: re.Match[str]) -> Optional[float]:
    value = _to_float(match.group("num"))
    if value is None:
        return None
    return -value if match.groupdict().get("neg") else value


def _income_share(text: str) -> Optional[float]:
    income = _first_amount_after(text, _INCOME_WORDS)
    repay = _first_amount_after(text, _REPAY_WORDS)
    if not income or repay is None:
        return None
    return round(repay / income * 100.0, 1)


def _first_amount_after(text: str, keywords: str) -> Optional[float]:
    pattern = re.compile(f"(?:{keywords}){_AMOUNT_GAP}(?P<amount>{_AMOUNT.pattern})")
    for match in pattern.finditer(text):
        value = _amount_value(match)
        if value is not None:
            return value
    return None


def parse_percentage(text: str) -> Optional[float]:
    """A percentage: 七成 → 70, 一半 → 50, 80% → 80, 月收入一万月供六千 → 60."""
    prepared = _prepare(text)
    if not prepared:
        return None
    for pattern in (_PERCENT_SIGN, _PERCENT_WORD):
        match = pattern.search(prepared)
        if match:
            return _percent_from(match)
    for pattern in (_FRACTION, _SLASH_FRACTION):
        match = pattern.search(prepared)
        if match:
            num, den = _to_float(match.group("num")), _to_float(match.group("den"))
            if num is not None and den:
                return round(num / den * 100.0, 1)
    match = _TENTHS.search(prepared)
    if match:
        tens = _to_float(match.group("num"))
        if tens is not None:
            extra = match.group("extra")
            units = float(_CN_DIGIT_VALUES.get(extra, extra)) if extra else 0.0
            return tens * 10.0 + units
    match = _HALF.search(prepared)
    if match:
        return dict(_HALF_WORDS)[match.group("word")]
    match = _DEBT_RATIO_NUMBER.search(prepared)
    if match:
        value = _to_float(match.group("num"))
        if value is not None:
            return _as_percent(value, match.group("num"))
    share = _income_share(prepared)
    if share is not None:
        return share
    bare = _bare_number(prepared)
    if bare is not None:
        return _as_percent(bare, prepared)
    return None


def _as_percent(value: float, written: str) -> float:
    # "0.6" is a ratio; "1", "60" and "150" are already percentages.
    if 0 < value < 1 and "." in written:
        return round(value * 100.0, 1)
    return value


# ---------------------------------------------------------------- amounts

_AMOUNT = re.compile(
    rf"(?P<neg>-|负)?(?P<num>{_NUM})\s*(?P<unit>[wWkK]|万|千|块钱|块|元|人民币)?"
    r"(?P<tail>(?<=[万千wWkK])[一二两三四五六七八九\d](?![\d.零〇一二两三四五六七八九十百千万]))?"
)
# A number followed by one of these counts something other than money.
# 月 is absent on purpose: in 「收入一万月供六千」 it starts the next word.
_NOT_MONEY = re.compile(r"\s*(?:个|天|日|年|周|星期|礼拜|次|成|%|分|岁|号|笔|家|倍|期|点|小时|位|条)")
_UNIT_YUAN = {"w": 10000.0, "万": 10000.0, "k": 1000.0, "千": 1000.0}


def _amount_value(match: re.Match[str]) -> Optional[float]:
    num_text = match.group("num")
    unit = (match.group("unit") or "").lower()
    end = match.end()
    if not unit and _NOT_MONEY.match(match.string, end):
        return None
    value = _to_float(num_text)
    if value is None:
        return None
    scale = _UNIT_YUAN.get(unit, 1.0)
    value *= scale
    tail = match.group("tail")
    if tail:
        digit = float(tail) if tail.isdigit() else float(_CN_DIGIT_VALUES[tail])
        value += digit * scale / 10.0
    return -value if match.group("neg") else value


def _looks_like_money(match: re.Match[str]) -> bool:
    num_text = match.group("num")
    if match.group("unit"):
        return True
    if num_text[0].isdigit():
        return float(num_text.replace(",", "")) >= 100
    return any(c in num_text for c in "百千万亿")


def parse_amount(text: str) -> Optional[float]:
    """An amount of money in yuan: 3万 → 30000, 三万五 → 35000, 5w → 50000, 3k → 3000."""
    prepared = _normalized(text)
    if not prepared:
        return None
    bare = _bare_number(prepared)
    if bare is not None:
        return bare
    for match in _AMOUNT.finditer(prepared):
        if not _looks_like_money(match):
            continue
        value = _amount_value(match)
        if value is not None:
            return value
    return None


# ---------------------------------------------------------------- yes / no / unknown

_UNKNOWN = re.compile(
    "不清楚|不知道|不太清楚|不确定|不太确定|不记得|记不得|记不清|忘了|忘记了|不晓得|"
    "说不好|不好说|说不准|没印象|搞不清|不了解|不懂"
)
_QUESTION = re.compile(r"[?？吗]|有没有|是不是|对不对|会不会|能不能")
_FILLER = (
    "(?:嗯+|额|呃|啊|哦|噢|唔|em+|那个|这个|其实|我|我们|我也|应该|好像|可能|似乎|大概|确实|当然|肯定|也|都|真的|本人)*"
)
_DOUBLE_NEGATIVE = re.compile(f"^{_FILLER}(?:不是没有|并不是没有|不是没)")
_YES_IDIOMS = re.compile(f"^{_FILLER}(?:没错|没问题|不错)")
_NO_WORDS = re.compile(
    f"^{_FILLER}(?:没有|没|无|不是|不对|否|从来没|从来不|从没|从未|从不|不曾|一次都没|一次也没|"
    "未曾|并没|并不|木有|没得|不)"
)
_YES_WORDS = re.compile(f"^{_FILLER}(?:有|是|对|嗯|恩|逾期|当然|确实|没错|好的|行|可以)")
_ENGLISH = {"yes": "yes", "y": "yes", "ok": "yes", "no": "no", "n": "no", "nope": "no"}
_CLAUSE_END = re.compile(r"[，,。.!！;；\s]")


def parse_answer(text: str) -> Optional[str]:
    """ "yes", "no" or "unknown" for a short answer; None when it is none of these."""
    prepared = _normalized(text)
    if not prepared:
        return None
    first = _CLAUSE_END.split(prepared, maxsplit=1)[0] or prepared.strip("，,。.!！;； ")
    if not first:
        return None
    if _UNKNOWN.search(prepared[:40]):
        return "unknown"
    if first.lower() in _ENGLISH:
        return _ENGLISH[first.lower()]
    if _QUESTION.search(first):
        return None
    if _DOUBLE_NEGATIVE.search(first) or _YES_IDIOMS.search(first):
        return "yes"
    if _NO_WORDS.search(first):
        return "no"
    if _YES_WORDS.search(first):
        return "yes"
    return None


# ---------------------------------------------------------------- how long it has lasted

# 「就这几天」「刚刚」「昨天开始的」: a few days; 「好几个月」: months.
_RECENT = re.compile(r"刚刚|刚才|今天|昨天|前天|这两天|这几天|前两天|前几天|最近几天|几天|刚开始|才开始")
_SOME_MONTHS = re.compile(r"(?:好|有)?几个月|好久|很久|很长时间|好长时间")
RECENT_DAYS, SOME_MONTHS_DAYS = 3.0, 60.0


def parse_since(text: str) -> Optional[float]:
    """How many days something has lasted: 一个多月 → 30, 两周 → 14, 就这几天 → 3, 好几个月 → 60."""
    days = parse_days(text)
    if days is not None:
        return days
    prepared = _normalized(text)
    if _SOME_MONTHS.search(prepared):
        return SOME_MONTHS_DAYS
    if _RECENT.search(prepared):
        return RECENT_DAYS
    return None


# ---------------------------------------------------------------- multiple choice

_CHOICE_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
# A reply made only of option numbers: 「2」「1 3」「1和3」「选2、4」「第二个」「第一项和第三项」.
_CHOICE_REPLY = re.compile(
    r"^(?:我?选|是)?(?:(?:第?[1-9一二两三四五六七八九](?:个|项|条|种)?)(?:[\s,，、和与跟及还有;；/]+|$))+$"
)
_CHOICE_ITEM = re.compile(r"第?([1-9一二两三四五六七八九])(?:个|项|条|种)?")


def parse_choices(text: str, count: int) -> Optional[list[int]]:
    """The option numbers (1-based, in order, each once) a reply picks from `count` options.

    None when the reply is not just option numbers, or names one that does not exist.
    """
    prepared = _normalized(text).strip("。.!！ ")
    if not prepared or not _CHOICE_REPLY.match(prepared):
        return None
    picked: list[int] = []
    for match in _CHOICE_ITEM.finditer(prepared):
        token = match.group(1)
        number = int(token) if token.isdigit() else _CHOICE_NUMERALS[token]
        if not 1 <= number <= count:
            return None
        if number not in picked:
            picked.append(number)
    return picked or None
