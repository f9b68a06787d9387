"""Issue "trustworthy under bad input, faults and load", against running bots over REST."""

from __future__ import annotations

import re
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from channels.guard_texts import load_guard_texts
from devtools.local_bot import ROOT, Bot, action_server, conversation_key, free_port, rasa_server, running_bot
from tests.replies import texts

GUARD_TEXTS = load_guard_texts()
BUSY = GUARD_TEXTS["busy"]
HAN = re.compile(r"[\u4e00-\u9fff]")


def sender() -> str:
    return f"rel-{uuid.uuid4().hex[:10]}"


# --- 1. bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "",
        "   ",
        "\x00\x01\x02",
        "😀😀😀",
        "？？？",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE users; --",
        "1234567",
        "0000000000",
        "hello, how are you?",
        "借唄額度為什麼降了",
        "借" * 3000,
        "a" * 5000,
    ],
)
def test_bad_input_gets_a_polite_chinese_answer(bot: Bot, message: str) -> None:
    reply = texts(bot.send(sender(), message))
    assert HAN.search(reply), f"no Chinese answer to {message[:20]!r}: {reply!r}"
    assert "<script>" not in reply and "onerror" not in reply


def test_a_long_message_is_capped_but_its_start_is_answered(bot: Bot) -> None:
    message = "借呗有额度为什么借不出来" + "。" * 2000
    who = sender()
    reply = texts(bot.send(who, message))
    assert GUARD_TEXTS["too_long"][:6] in reply
    assert bot.tracker(who)["slots"]["requested_slot"] == "has_overdue"


def test_english_is_answered_in_chinese(bot: Bot) -> None:
    reply = texts(bot.send(sender(), "why was my credit limit reduced"))
    assert "中文" in reply


# --- 2. PII never stored or logged in clear ---------------------------------------------------

PII = {
    "mobile": "13812345678",
    "id card": "11010519491231002X",
    "bank card": "6222021234567890123",
    "email": "zhang.san@example.com",
}


def test_pii_is_masked_before_storage_and_logs(bot: Bot) -> None:
    who = sender()
    first = texts(bot.send(who, f"我手机{PII['mobile']}，身份证{PII['id card']}，借呗额度为什么降了"))
    assert GUARD_TEXTS["pii_notice"][:6] in first
    bot.send(who, f"卡号{PII['bank card']}，邮箱{PII['email']}，每个月还款占收入六成")
    second = texts(bot.send(who, f"再说一次，我的电话是{PII['mobile']}"))
    assert GUARD_TEXTS["pii_notice"][:6] not in second, "the notice is shown once"
    tracker = bot.tracker(who)
    assert tracker["slots"]["debt_ratio"] == 60.0, "amounts the diagnosis needs are not masked"
    stored = [bot.workdir / "tracker.db", *bot.workdir.glob("*.log")]
    for path in stored:
        content = path.read_bytes().decode("utf-8", errors="replace")
        for kind, value in PII.items():
            assert value not in content, f"{kind} in clear in {path.name}"
    stored_events = (
        sqlite3.connect(bot.workdir / "tracker.db")
        .execute("select count(*) from events where sender_id = ?", (conversation_key(who),))
        .fetchone()[0]
    )
    assert stored_events > 0, "the conversation is in the tracker store"


# --- 3 and 4. faults, nothing lost --------------------------------------------------------------


def test_action_server_down_gives_a_polite_reply_and_recovers(tmp_path: Path) -> None:
    action_port = free_port()
    with rasa_server(tmp_path, action_port) as bot:
        who = sender()
        assert texts(bot.send(who, "怎么查征信")) == BUSY
        with action_server(tmp_path, action_port):
            assert "征信" in texts(bot.send(who, "怎么查征信"))


def test_conversation_survives_a_restart(tmp_path: Path) -> None:
    who = sender()
    with running_bot(tmp_path) as bot:
        bot.send(who, "借呗有额度为什么借不出来")
        bot.send(who, "没有")
        assert bot.tracker(who)["slots"]["requested_slot"] == "debt_ratio"
    with running_bot(tmp_path) as bot:
        slots = bot.tracker(who)["slots"]
        assert slots["has_overdue"] is False and slots["requested_slot"] == "debt_ratio"
        bot.send(who, "三成")
        assert bot.tracker(who)["slots"]["debt_ratio"] == 30.0


def test_what_the_advice_said_survives_a_restart(tmp_path: Path) -> None:
    """After a restart the follow-up still knows the advice above (the tracker's `last_advice`
    and bot events): its answer, not the advice again."""
    who = sender()
    with running_bot(tmp_path) as bot:
        for message in ("借呗被冻结了", "有", "三个月"):
            advice = texts(bot.send(who, message))
        assert "可能的原因：" in advice
    with running_bot(tmp_path) as bot:
        reply = texts(bot.send(who, "还能恢复吗"))
    assert reply.startswith("有机会恢复，但一般要几个月。"), reply
    assert "可能的原因：" not in reply and "建议您这样做：" not in reply


# --- 5. concurrency -------------------------------------------------------------------------------


def one_user(bot: Bot, index: int) -> tuple:
    who = f"crowd-{index}-{uuid.uuid4().hex[:6]}"
    ratio = 10 + index * 3
    overdue = index % 2 == 0
    bot.send(who, "借呗有额度为什么借不出来")
    answers = {
        "has_overdue": "有" if overdue else "没有",
        "overdue_days": f"{index + 1}天",
        "debt_ratio": f"{ratio}%",
        "symptom_days": "就这几天",
    }
    for _ in range(8):
        slot = bot.tracker(who)["slots"]["requested_slot"]
        if slot is None:
            break
        bot.send(who, answers.get(slot, "没有"))
    return who, overdue, ratio, index + 1


def test_24_concurrent_conversations_keep_their_own_facts(bot: Bot) -> None:
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda i: one_user(bot, i), range(24)))
    for who, overdue, ratio, days in results:
        slots = bot.tracker(who)["slots"]
        assert slots["has_overdue"] is overdue, who
        # Every main question is asked, with or without an overdue.
        assert slots["debt_ratio"] == float(ratio), who
        assert slots["overdue_days"] == (float(days) if overdue else None), who
        assert slots["requested_slot"] is None, who


# --- 6. access ---------------------------------------------------------------------------------------


def test_the_api_refuses_requests_without_the_token(bot: Bot) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{bot.url}/conversations/someone/tracker", timeout=10)
    assert refused.value.code in (401, 403)


def test_the_api_is_never_started_without_a_token() -> None:
    """Every command that opens the API goes through runtime/rasa_run.py (which refuses to
    without RASA_TOKEN, tests/e2e/test_security.py) or passes a JWT secret."""
    for path in [
        ROOT / "Makefile",
        ROOT / "README.md",
        *(
            p
            for folder in ("devtools", "quality", "runtime", "deploy/local_cluster")
            for p in ROOT.glob(f"{folder}/*")
            if p.is_file()
        ),
    ]:
        if path.name == "rasa_run.py":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if "--enable-api" in line:
                command = " ".join(lines[max(0, number - 12) : number + 1])
                assert "rasa_run" in command or "--jwt-secret" in line, f"{path.name}: {line.strip()}"


def test_one_flooding_sender_does_not_starve_others(bot: Bot) -> None:
    flooder, other = sender(), sender()
    with ThreadPoolExecutor(max_workers=8) as pool:
        floods = list(pool.map(lambda _: texts(bot.send(flooder, "你好")), range(30)))
    assert any(GUARD_TEXTS["rate_limited"][:6] in reply for reply in floods)
    assert "借呗" in texts(bot.send(other, "你好"))


@pytest.mark.parametrize("header, expected", [("right", 200), ("wrong", 401), ("", 401)])
def test_the_api_token_may_come_in_the_x_rasa_token_header(bot: Bot, header: str, expected: int) -> None:
    """Issue 32, point 5: the token need not be in any URL (nginx logged the upstream URL with
    ?token= when a replica was down); a wrong or empty header is refused as before."""
    import urllib.error
    import urllib.request

    value = {"right": bot.token, "wrong": bot.token[::-1] + "x", "": ""}[header]
    request = urllib.request.Request(f"{bot.url}/status", headers={"X-Rasa-Token": value} if value else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == expected
