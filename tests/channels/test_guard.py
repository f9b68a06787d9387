"""The input guard (channels/guard.py): PII masking, input checks, rate limit, notices."""

from __future__ import annotations

import random
from typing import List, Optional, Set

import pytest

from channels.guard import (
    BUSY,
    EMPTY,
    NO_TEXT,
    PII_NOTICE,
    PLACEHOLDERS,
    RATE_LIMITED,
    TEXT_KEYS,
    TOO_LONG,
    Guard,
    GuardLimits,
    PiiNoticeTracker,
    RateLimiter,
    check_input,
    clean_metadata,
    guard_message,
    mask_pii,
    safe_sender,
    valid_sender,
)
from channels.guard_texts import guard_text, load_guard_texts

P, ID, CARD, MAIL, QQ, TEL = (PLACEHOLDERS[k] for k in ("phone", "id_card", "bank_card", "email", "qq", "landline"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- mask_pii --------------------------------------------------------------------------------

MASKED = [
    # mobile numbers
    ("13812345678", P, {"phone"}),
    ("我的手机号是13812345678，借呗额度为什么降了", f"我的手机号是{P}，借呗额度为什么降了", {"phone"}),
    ("电话19987654321谢谢", f"电话{P}谢谢", {"phone"}),
    ("138-1234-5678", P, {"phone"}),
    ("138 1234 5678", P, {"phone"}),
    ("手机：+86 138 1234 5678。", f"手机：{P}。", {"phone"}),
    ("+8613812345678", P, {"phone"}),
    ("+86-138-1234-5678", P, {"phone"}),
    ("(+86)13812345678", P, {"phone"}),
    ("008613812345678", P, {"phone"}),
    ("１３８１２３４５６７８", P, {"phone"}),
    ("联系我15012345678或者17712345678", f"联系我{P}或者{P}", {"phone"}),
    ("号码是13812345678", f"号码是{P}", {"phone"}),
    # ID card numbers
    ("身份证110101199003071234", f"身份证{ID}", {"id_card"}),
    ("身份证号11010119900307123X，帮我查一下", f"身份证号{ID}，帮我查一下", {"id_card"}),
    ("11010119900307123x", ID, {"id_card"}),
    ("110101 19900307 123X", ID, {"id_card"}),
    ("110101-19900307-1234", ID, {"id_card"}),
    ("老身份证110101900307123", f"老身份证{ID}", {"id_card"}),
    ("我的证件是44030619850101002X呢", f"我的证件是{ID}呢", {"id_card"}),
    ("098765432109876543", CARD, {"bank_card"}),  # 18 digits, no province code
    # bank card numbers
    ("卡号6222021234567890", f"卡号{CARD}", {"bank_card"}),
    ("6222021234567890123", CARD, {"bank_card"}),
    ("62220212345678901", CARD, {"bank_card"}),
    ("卡号是6222 0212 3456 7890，还款失败", f"卡号是{CARD}，还款失败", {"bank_card"}),
    ("6222-0212-3456-7890", CARD, {"bank_card"}),
    ("6222 0212 3456 7890 123", CARD, {"bank_card"}),
    ("银行卡６２２２０２１２３４５６７８９０", f"银行卡{CARD}", {"bank_card"}),
    # e-mail addresses
    ("邮箱abc.def@qq.com谢谢", f"邮箱{MAIL}谢谢", {"email"}),
    ("my mail: john_doe+jb@example.co.uk.", f"my mail: {MAIL}.", {"email"}),
    ("123456789@qq.com", MAIL, {"email"}),
    ("发到 a-b@mail.163.com 吧", f"发到 {MAIL} 吧", {"email"}),
    ("邮件ｔｅｓｔ＠ｅｘａｍｐｌｅ．ｃｏｍ", f"邮件{MAIL}", {"email"}),
    # several kinds at once
    (
        "手机13812345678，卡号6222021234567890，邮箱a@b.cn",
        f"手机{P}，卡号{CARD}，邮箱{MAIL}",
        {"phone", "bank_card", "email"},
    ),
    ("身份证110101199003071234手机13812345678", f"身份证{ID}手机{P}", {"id_card", "phone"}),
    # forms that used to slip through (issue 15)
    ("138.1234.5678", P, {"phone"}),
    ("138  1234  5678", P, {"phone"}),
    ("1381 234 5678", P, {"phone"}),
    ("13812 345678", P, {"phone"}),
    ("138—1234—5678", P, {"phone"}),
    ("138–1234–5678", P, {"phone"}),
    ("138_1234_5678", P, {"phone"}),
    ("138/1234/5678", P, {"phone"}),
    ("手机\n138\n1234\n5678\n", f"手机\n{P}\n", {"phone"}),
    ("我的手机一三八一二三四五六七八", f"我的手机{P}", {"phone"}),
    ("幺三八幺二三四五六七八", P, {"phone"}),
    ("壹叁捌壹贰叁肆伍陆柒捌", P, {"phone"}),
    ("١٣٨١٢٣٤٥٦٧٨", P, {"phone"}),
    ("①③⑧①②③④⑤⑥⑦⑧", P, {"phone"}),
    ("110101 1990 0307 1234", ID, {"id_card"}),
    ("身份证 110101 900307 123", f"身份证 {ID}", {"id_card"}),
    ("622202 1234567890123", CARD, {"bank_card"}),
    ("6222.0212.3456.7890", CARD, {"bank_card"}),
    ("abc@qq。com", MAIL, {"email"}),
    ("abc(at)qq.com", MAIL, {"email"}),
    ("abc [at] qq [dot] com", MAIL, {"email"}),
    ("QQ号123456789", f"QQ号{QQ}", {"qq"}),
    ("加我qq：12345678", f"加我qq：{QQ}", {"qq"}),
    ("扣扣 1234567", f"扣扣 {QQ}", {"qq"}),
    ("电话010-12345678", f"电话{TEL}", {"landline"}),
    ("(021)12345678", TEL, {"landline"}),
    ("0755 1234 5678", TEL, {"landline"}),
    ("座机12345678", f"座机{TEL}", {"landline"}),
    ("手机13812345678 借了20000", f"手机{P} 借了20000", {"phone"}),
    ("13812345678/13912345678", f"{P}/{P}", {"phone"}),
]

UNMASKED = [
    "30000",
    "借呗额度从3万降到了5000",
    "3万",
    "1.5万",
    "5000元",
    "逾期15天",
    "2024年",
    "月收入12000",
    "借了20000",
    "我2024年3月15日借了20000元，逾期15天",
    "负债率80%，月供6000",
    "额度100000",
    # digit runs of lengths no pattern takes
    "1381234567",  # 10 digits
    "138123456789",  # 12 digits
    "12345678901234",  # 14 digits
    "12345678901234567890",  # 20 digits
    "订单号2024031522001412345678901234",  # longer run: not part of it
    "23812345678",  # 11 digits, not a mobile prefix
    "12812345678",  # 1 then 2: not a mobile prefix
    "1.3812345678",
    "<script>alert(1)</script>",
    "'; DROP TABLE users; --",
    '/inform{"debt_ratio": 80}',
    "@someone 你好",
    "a@b",
    "借了13000，又借了15000",
    "额度30000 50000",
    "100000 200000",
    "2024/03/15借的",
    "2024-03-15 借的 20000",
    "还款 1 2 3 期",
    "逾期 15 天",
    "1.5万 2.5万",
    "一万三千八百",
    "三三两两",
    "look at me.com",
    "QQ音乐会员15元",
    "电话打了3次",
    "第1381234567号",
]


@pytest.mark.parametrize("text, masked, kinds", MASKED)
def test_pii_is_masked(text: str, masked: str, kinds: Set[str]) -> None:
    assert mask_pii(text) == (masked, kinds)


@pytest.mark.parametrize("text", UNMASKED)
def test_amounts_days_and_years_are_not_masked(text: str) -> None:
    assert mask_pii(text) == (text, set())


def test_enough_mask_rows() -> None:
    assert len(MASKED) + len(UNMASKED) >= 40


def test_masking_keeps_full_width_text_around_the_number() -> None:
    assert mask_pii("我借了３万，手机１３８１２３４５６７８") == (f"我借了３万，手机{P}", {"phone"})


# --- check_input -------------------------------------------------------------------------------

CHECKS = [
    ("", "empty", ""),
    ("   ", "empty", ""),
    ("\x00\x01", "empty", ""),
    ("\n\t \u3000\u200b", "empty", ""),
    ("😀😀👍", "no_text", ""),
    ("？？？", "no_text", ""),
    ("...!!!", "no_text", ""),
    ("❤️🙏", "no_text", ""),
    ("  借呗额度为什么降了  ", "ok", "借呗额度为什么降了"),
    ("借呗\x00额度\x07降了", "ok", "借呗额度降了"),
    ("第一行\r\n第二行", "ok", "第一行\n第二行"),
    ("额度\u202e降了", "ok", "额度降了"),
    ("坏字符\ud800在这", "ok", "坏字符在这"),
    ("😀借不出来", "ok", "😀借不出来"),
    ("/affirm", "ok", "/affirm"),
    ('/inform{"x":1}', "ok", '/inform{"x":1}'),
    ("<script>alert(1)</script>", "ok", "<script>alert(1)</script>"),
    ("'; DROP TABLE users; --", "ok", "'; DROP TABLE users; --"),
    ("30000", "ok", "30000"),
    ("13812345678", "ok", "〔手机号〕"),
    ("1", "ok", "1"),
    ("额" * 500, "ok", "额" * 500),
]


@pytest.mark.parametrize("text, kind, cleaned", CHECKS)
def test_check_input(text: str, kind: str, cleaned: str) -> None:
    verdict = check_input(text)
    assert (verdict.kind, verdict.text) == (kind, cleaned)


def test_long_text_keeps_the_first_500_characters() -> None:
    text = "借" * 300 + "呗" * 300
    verdict = check_input(text)
    assert verdict.kind == "too_long"
    assert verdict.text == "借" * 300 + "呗" * 200
    assert check_input("额度" * 10, max_chars=5).text == "额度额度额"


def test_unknown_or_malformed_payloads_are_read_as_text() -> None:
    intents = frozenset({"affirm", "inform"})
    assert check_input("/affirm", payload_intents=intents).text == "/affirm"
    assert check_input('/inform{"overdue_days": 3}', payload_intents=intents).text == '/inform{"overdue_days": 3}'
    for text, read_as in [
        ("/我的手机13812345678", f"我的手机{P}"),
        ("/not_an_intent", "not_an_intent"),
        ('/inform{"broken": ', 'inform{"broken":'),
        ("/inform[1]", "inform[1]"),
        ("// 额度", "额度"),
    ]:
        assert check_input(text, payload_intents=intents).text == read_as
    verdict = check_input("/" + "额" * 1000, payload_intents=intents)
    assert (verdict.kind, verdict.text) == ("too_long", "额" * 500)


def test_payloads_are_masked_too() -> None:
    verdict = check_input('/inform{"note": "13812345678"}')
    assert verdict.text == f'/inform{{"note": "{P}"}}' and verdict.masked == {"phone"}


def test_payloads_pass_unchanged_unless_absurdly_long() -> None:
    payload = '/inform{"note": "' + "x" * 1500 + '"}'
    assert check_input(payload) == check_input(payload, max_chars=10)
    assert check_input(payload).text == payload
    absurd = "/" + "a" * 5000
    verdict = check_input(absurd)
    assert (verdict.kind, len(verdict.text)) == ("too_long", 500)


def test_emoji_beyond_the_kept_part_does_not_count_as_text() -> None:
    assert check_input("😀" * 600 + "借呗").kind == "no_text"


# --- rate limiter ------------------------------------------------------------------------------


def test_burst_then_refusal_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter(burst=3, refill_per_s=1.0, clock=clock)
    assert [limiter.allow("a") for _ in range(5)] == [True, True, True, False, False]
    clock.now += 0.5
    assert limiter.allow("a") is False
    clock.now += 0.5
    assert [limiter.allow("a") for _ in range(2)] == [True, False]
    clock.now += 100
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_senders_are_limited_independently() -> None:
    clock = FakeClock()
    limiter = RateLimiter(burst=2, refill_per_s=0.5, clock=clock)
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    assert [limiter.allow("b") for _ in range(3)] == [True, True, False]
    clock.now += 2
    assert limiter.allow("a") and limiter.allow("b")
    assert not limiter.allow("a")


def test_rate_limiter_memory_is_bounded() -> None:
    clock = FakeClock()
    limiter = RateLimiter(burst=1, refill_per_s=1.0, max_senders=3, clock=clock)
    for sender in ("a", "b", "c", "d"):
        assert limiter.allow(sender)
    assert len(limiter) == 3
    assert limiter.allow("a"), "the least recently seen sender was forgotten"
    assert not limiter.allow("d")


def test_rate_limiter_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        RateLimiter(burst=0)
    with pytest.raises(ValueError):
        RateLimiter(refill_per_s=0)


# --- notices ---------------------------------------------------------------------------------


def test_pii_notice_once_per_sender() -> None:
    tracker = PiiNoticeTracker(max_senders=2)
    assert [tracker.should_warn(s) for s in ("a", "a", "b", "a", "b")] == [
        True,
        False,
        True,
        False,
        False,
    ]
    tracker.should_warn("c")
    assert len(tracker) == 2
    assert tracker.should_warn("b") is False
    assert tracker.should_warn("a") is True, "a was the least recently seen and forgotten"


# --- guard_message ----------------------------------------------------------------------------


def new_guard(burst: int = 8) -> Guard:
    return Guard(GuardLimits(burst=burst), clock=FakeClock())


@pytest.mark.parametrize(
    "text, reply",
    [("", EMPTY), (None, EMPTY), ("  \x00 ", EMPTY), ("😀😀👍", NO_TEXT), ("？？？", NO_TEXT)],
)
def test_direct_replies(text: Optional[str], reply: str) -> None:
    decision = new_guard().check("s", text)
    assert (decision.reply, decision.text, decision.notices) == (reply, "", ())


def test_pii_is_masked_and_noticed_once() -> None:
    guard = new_guard()
    first = guard.check("s", "手机13812345678，额度降了")
    assert first.reply is None
    assert first.text == f"手机{P}，额度降了"
    assert first.notices == (PII_NOTICE,) and first.masked == {"phone"}
    second = guard.check("s", "卡号6222021234567890")
    assert (second.text, second.notices, second.masked) == (f"卡号{CARD}", (), {"bank_card"})
    assert guard.check("other", "13812345678").notices == (PII_NOTICE,)


def test_long_message_is_cut_with_notices() -> None:
    decision = new_guard().check("s", "13812345678" + "额" * 600)
    assert decision.text == P + "额" * (500 - len(P))
    assert decision.notices == (PII_NOTICE, TOO_LONG)


@pytest.mark.parametrize("offset", [489, 490, 495, 499, 500])
def test_a_number_on_the_cut_is_masked_whole(offset: int) -> None:
    decision = new_guard().check("s", "额" * offset + "13812345678" + "度" * 100)
    assert "138" not in decision.text and not any(c.isdigit() for c in decision.text)
    assert decision.masked == {"phone"}


def test_a_placeholder_on_the_cut_is_dropped_not_halved() -> None:
    decision = new_guard().check("s", "额" * 497 + "13812345678")
    assert decision.text == "额" * 497 and decision.masked == {"phone"}


def test_plain_message_passes_unchanged() -> None:
    decision = new_guard().check("s", "借呗额度为什么降了，我借了20000")
    assert decision.reply is None
    assert (decision.text, decision.notices, decision.masked) == (
        "借呗额度为什么降了，我借了20000",
        (),
        frozenset(),
    )


def test_flood_is_refused_before_anything_else() -> None:
    clock = FakeClock()
    limiter, tracker = RateLimiter(burst=2, clock=clock), PiiNoticeTracker()
    replies: List[Optional[str]] = [
        guard_message("s", text, limiter, tracker).reply for text in ("你好", "", "13812345678")
    ]
    assert replies == [None, EMPTY, RATE_LIMITED]
    assert len(tracker) == 0, "a refused message is not even looked at"


# --- sender ids and texts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("user-1", "user-1"),
        (42, "42"),
        ("", None),
        ("x" * 129, None),
        (True, None),
        (None, None),
        ({"a": 1}, None),
        ("a\x00b", None),
        (" padded ", None),
    ],
)
def test_valid_sender(value: object, expected: Optional[str]) -> None:
    assert valid_sender(value) == expected


def test_sender_ids_with_pii_get_a_stable_pseudonym() -> None:
    assert safe_sender("user-1") == "user-1"
    pseudonym = safe_sender("13812345678")
    assert pseudonym.startswith("anon-") and "138" not in pseudonym
    assert safe_sender("13812345678") == pseudonym != safe_sender("13912345678")
    assert safe_sender("a@qq.com") != "a@qq.com"


def test_random_uuid_sender_ids_are_kept_even_with_a_phone_shaped_digit_run() -> None:
    # The widget's session ids are uuid4().hex; one in a few dozen holds 11 digits in a row that
    # start with 1[3-9]. Pseudonymising it would file the conversation under another key.
    uuid_hex = "2b491bac13294564958aea56af05e610"
    assert mask_pii(uuid_hex)[1], "the example must look like it holds a phone number"
    assert safe_sender(uuid_hex) == uuid_hex
    dashed = "2b491bac-1329-4564-958a-ea56af05e610"
    assert safe_sender(dashed) == dashed
    assert safe_sender("x" + uuid_hex) != "x" + uuid_hex


def test_metadata_is_masked_and_bounded() -> None:
    assert clean_metadata({"lang": "zh", "n": 3, "ok": True}) == {"lang": "zh", "n": 3, "ok": True}
    assert clean_metadata({"phone": "13812345678", "more": {"mail": ["a@qq.com"]}}) == {
        "phone": P,
        "more": {"mail": [MAIL]},
    }
    assert clean_metadata({"big": "x" * 5000}) == {}
    assert clean_metadata(["not", "an", "object"]) == {}
    assert clean_metadata(None) == {}
    deep: dict = {}
    node = deep
    for _ in range(10):
        node["d"] = {}
        node = node["d"]
    assert clean_metadata(deep) == {"d": {"d": {"d": {"d": {}}}}}


def test_every_guard_text_is_short_chinese() -> None:
    texts = load_guard_texts()
    assert set(texts) == set(TEXT_KEYS)
    for key in TEXT_KEYS:
        text = guard_text(key)
        assert 0 < len(text) <= 80 and "{" not in text
        assert any("\u4e00" <= char <= "\u9fff" for char in text)
    assert "500" in guard_text(TOO_LONG) and "300" in guard_text(TOO_LONG, max_chars=300)
    assert guard_text(BUSY) != guard_text(RATE_LIMITED)


def test_a_pseudonymised_sender_keeps_its_pseudonym() -> None:
    # A random test id whose hex holds a phone-shaped run is pseudonymised once, and the
    # pseudonym (whose own hex may hold such a run) is never pseudonymised again.
    from channels.guard import safe_sender

    pseudonym = safe_sender("test-13800138000a")
    assert pseudonym.startswith("anon-") and safe_sender(pseudonym) == pseudonym
    assert safe_sender("anon-138001380001380013800138") == "anon-138001380001380013800138"


# --- payloads that would hurt the parsers or be said back as nonsense (issue 32, point 7) ---------


@pytest.mark.parametrize(
    "payload",
    [
        '/inform{"debt_ratio": 1e309}',
        '/inform{"debt_ratio": -1e309}',
        '/inform{"debt_ratio": NaN}',
        '/inform{"overdue_days": Infinity}',
        '/inform{"x": ' + "[" * 700 + "]" * 700 + "}",
        '/inform{"x": {"y": {"z": {"w": 1}}}}',
    ],
)
def test_a_payload_too_deep_or_not_finite_is_no_payload(payload: str) -> None:
    from channels.guard import is_button_payload

    assert not is_button_payload(payload)
    verdict = check_input(payload)
    assert not verdict.text.startswith("/")  # read as an ordinary message, answered as one


@pytest.mark.parametrize(
    "payload", ['/inform{"debt_ratio": 20}', '/inform{"overdue_days": 4.5}', '/feedback{"helpful": "yes"}', "/affirm"]
)
def test_ordinary_payloads_are_kept(payload: str) -> None:
    assert check_input(payload).text == payload


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    from channels.guard import json_depth

    assert json_depth('{"a": "[[[{{{\\\\"]]]"}') == 1
    assert json_depth('{"a": [1, {"b": 2}]}') == 3


def test_rest_senders_have_a_key_space_no_other_channel_uses() -> None:
    from channels.guard import REST_KEY_PREFIX, rest_conversation_key

    assert rest_conversation_key("o-abc123") == REST_KEY_PREFIX + "o-abc123"
    assert rest_conversation_key("13755554444").startswith(REST_KEY_PREFIX + "anon-")
    # Web widget session ids and WeChat openids never contain the prefix's ":".
    assert ":" in REST_KEY_PREFIX


@pytest.mark.parametrize("name, valid", [("rest", True), ("socketio", True), ("13812345678", False), ("A b", False)])
def test_input_channel_names(name: str, valid: bool) -> None:
    from channels.guard import valid_channel_name

    assert valid_channel_name(name) is valid


# --- forms the masker missed (issue 32, point 4) ---------------------------------------------

MISSED_FORMS = [
    "138——1234——5678",
    "138--1234--5678",
    *[
        f"138{dash}1234{dash}5678"
        for dash in "\ufe63\u301c\u2e3a\u2e3b\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\uff0d\u30fc\uff5e"
    ],
    *[f"138{space}1234{space}5678" for space in "\u2007\u2009\u202f\u2003\u2002\u2005\u205f\u3000"],
    "１３８ー１２３４ー５６７８",
    "壹參捌壹貳參肆伍陸柒捌",
    "幺三八兩兩三四五六七八",
]


@pytest.mark.parametrize("form", MISSED_FORMS)
def test_every_form_of_a_phone_number_is_masked(form: str) -> None:
    masked, kinds = mask_pii(f"我的电话{form}，借呗降额了")
    assert kinds == {"phone"} and PLACEHOLDERS["phone"] in masked, masked


def test_a_json_escaped_number_in_a_payload_is_masked_in_its_entities() -> None:
    escaped = "".join(f"\\u{ord(d):04x}" for d in "13812345678")
    verdict = check_input('/inform{"product": "' + escaped + '"}')
    assert verdict.text == '/inform{"product": "' + PLACEHOLDERS["phone"] + '"}' and "phone" in verdict.masked


def test_random_separators_never_leave_a_number_in_clear() -> None:
    """A property, over seeded random cases: whatever joins the groups of a phone, an ID or a
    card number (any dash or space character, one to three of them), no run of its digits
    long enough to identify it is left in the masked text."""
    rng = random.Random(32)
    dashes = [chr(c) for c in range(0x2010, 0x2016)] + ["-", "\ufe63", "\u301c", "\uff0d", "\u30fc", "_", "/", "."]
    spaces = [" ", "\u2007", "\u2009", "\u202f", "\u2003", "\u3000", "\u00a0"]
    numbers = [("13812345678", (3, 4, 4)), ("110101199003074578", (6, 8, 4)), ("6222021234567890123", (4, 4, 4, 4, 3))]
    for _ in range(600):
        digits, grouping = rng.choice(numbers)
        groups, start = [], 0
        for size in grouping:
            groups.append(digits[start : start + size])
            start += size
        joins = [
            rng.choice(spaces) * rng.randint(0, 1)
            + rng.choice(dashes) * rng.randint(1, 3)
            + rng.choice(spaces) * rng.randint(0, 1)
            for _ in groups[1:]
        ]
        text = groups[0] + "".join(join + group for join, group in zip(joins, groups[1:]))
        masked, kinds = mask_pii(f"号码是{text}谢谢")
        left = "".join(ch for ch in masked if ch.isdigit())
        assert kinds and len(left) < 5, (text, masked)
