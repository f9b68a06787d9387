"""`make chat` in a real pseudo-terminal, typed as a person would (issue 31).

The bot's buttons are numbered text options and the prompt is plain text: an answer typed at a
question with buttons is read as typed (the fact stored in the tracker says so), a number picks
its option. What is typed passes the input guard (a phone number is masked before it is
stored). Leaving by /stop, Ctrl-C, Ctrl-D or by closing the terminal says goodbye (closing: no
one to say it to), ends with status 0 and leaves no server, process or port behind.
"""

from __future__ import annotations

import io
import json
import os
import random
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pexpect
import pytest

from advisor.knowledge import load_conversation_texts, load_faq
from channels.guard import PII_NOTICE
from channels.guard_texts import guard_text
from devtools.local_bot import ROOT, free_port

TERMINAL = load_conversation_texts()["terminal"]
PROMPT = str(TERMINAL["prompt"]).strip()
GOODBYE = str(TERMINAL["goodbye"]).strip()
STARTUP_S = 600  # loading the model is slow on a busy machine


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def processes_naming(*words: str) -> List[int]:
    """Pids whose command line contains any of `words` (the ports a chat was started on)."""
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmdline = path.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if any(word in cmdline for word in words):
            found.append(int(path.parent.name))
    return found


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.2)


class Chat:
    """One `make chat` on free ports, its screen kept in `seen`."""

    def __init__(self) -> None:
        self.action_port, self.rasa_port = free_port(), free_port()
        self.seen = io.StringIO()
        self.child = pexpect.spawn(
            "make",
            ["-s", "chat", f"ACTION_PORT={self.action_port}", f"RASA_PORT={self.rasa_port}"],
            cwd=str(ROOT),
            env={**os.environ, "TERM": "xterm"},
            encoding="utf-8",
            timeout=120,
            dimensions=(50, 220),
        )
        self.child.logfile_read = self.seen
        self.child.expect(PROMPT, timeout=STARTUP_S)

    def say(self, text: str, expect: str) -> None:
        """Types `text` and Enter, waits for `expect` in the reply and the next prompt."""
        self.child.sendline(text)
        self.child.expect(expect, timeout=120)
        self.child.expect(PROMPT, timeout=120)

    def leftovers(self) -> List[int]:
        """make, devtools.with_servers, the servers and the terminal of this chat, while alive."""
        return processes_naming(
            f"--port {self.action_port}",
            f"--actions {self.action_port}",
            f"--port {self.rasa_port}",
            f":{self.rasa_port}",
            f"ACTION_PORT={self.action_port}",
        )

    def all_stopped(self) -> bool:
        return not port_is_open(self.action_port) and not port_is_open(self.rasa_port) and not self.leftovers()

    def close(self) -> None:
        self.child.close(force=True)


@pytest.fixture
def chat(trained_model: Path) -> Iterator[Chat]:
    started = Chat()
    try:
        yield started
    finally:
        started.close()


def conversation(text: str) -> Tuple[str, List[Dict[str, Any]]]:
    """The latest conversation in var/tracker.db where the user typed `text` (the tests here run
    one after another), and its events."""
    with sqlite3.connect(ROOT / "var" / "tracker.db") as db:
        rows = [(who, json.loads(data)) for who, data in db.execute("SELECT sender_id, data FROM events ORDER BY id")]
    who = [sender for sender, event in rows if event.get("event") == "user" and event.get("text") == text][-1]
    return who, [event for sender, event in rows if sender == who]


def slot(events: List[Dict[str, Any]], name: str) -> Any:
    values = [event.get("value") for event in events if event.get("event") == "slot" and event.get("name") == name]
    return values[-1] if values else None


def test_typed_answers_are_read_as_typed_numbers_pick_options_and_stop_leaves_cleanly(chat: Chat) -> None:
    child = chat.child
    assert port_is_open(chat.action_port) and port_is_open(chat.rasa_port)

    # The terminal is a channel like the others: a phone number is masked before storing.
    phone = f"139 {random.randint(1000, 9999)} {random.randint(1000, 9999)}"
    chat.say(f"你好，我的手机 {phone}", guard_text(PII_NOTICE)[:10])

    # A question with buttons: its options are numbered text, and 「没有」 typed is a no.
    opening = "借呗借不出来了"  # the latest conversation that opened so is this one
    chat.say(opening, "回复 2：没有")
    assert "回复 0：重新开始" in chat.seen.getvalue()
    chat.say("没有", "好的，按「近期没有逾期」记。")
    # A number picks its option: 3 of 三成以下 / 三到五成 / 五成以上 is more than half.
    chat.say("3", "好的，按「每月还款约占收入的60%」记。")
    who, events = conversation(opening)
    assert slot(events, "has_overdue") is False
    assert slot(events, "debt_ratio") == 60.0

    # A general question, then its first quick reply by number.
    faq = load_faq()
    chat.say("怎么查征信", faq["ask_credit_report"]["text"].splitlines()[0][:12])
    picked = faq["ask_credit_report"]["buttons"][0]["payload"].lstrip("/")
    chat.say("1", faq[picked]["text"].splitlines()[0][:12])

    child.sendline("/stop")
    child.expect(GOODBYE, timeout=30)
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    assert child.exitstatus == 0, chat.seen.getvalue()[-2000:]
    wait_until(chat.all_stopped, 60, f"the servers of make chat stopped: {chat.leftovers()}")
    assert "Traceback" not in chat.seen.getvalue()
    stored = b"".join(path.read_bytes() for path in (ROOT / "var").glob("tracker.db*"))
    assert stored and phone.replace(" ", "").encode() not in stored and phone.encode() not in stored


@pytest.mark.parametrize("leave", ["ctrl-c", "ctrl-d"])
def test_ctrl_c_and_ctrl_d_at_a_question_with_buttons_leave_cleanly(chat: Chat, leave: str) -> None:
    child = chat.child
    chat.say("借呗额度怎么突然降了", "回复 1：有")
    if leave == "ctrl-c":
        child.sendintr()
    else:
        child.sendeof()
    child.expect(GOODBYE, timeout=30)
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    screen = chat.seen.getvalue()
    assert child.exitstatus == 0, screen[-2000:]
    assert "Traceback" not in screen and "Error" not in screen.split(GOODBYE)[-1], screen[-2000:]
    wait_until(chat.all_stopped, 60, f"the servers of make chat stopped: {chat.leftovers()}")


def test_closing_the_terminal_stops_everything_make_chat_started(chat: Chat) -> None:
    chat.say("借呗被关闭了", "回复 1：有")
    assert chat.leftovers(), "the servers run while the chat is open"
    # The terminal goes away: its side of the pseudo-terminal is closed, the session hung up
    # (pexpect then sends make SIGHUP and, unforced, does not wait long for it to end).
    try:
        chat.child.close(force=False)
    except pexpect.ExceptionPexpect:
        pass
    wait_until(chat.all_stopped, 120, f"nothing of make chat left after a hang-up: {chat.leftovers()}")


def test_make_chat_answers_the_follow_ups_without_the_advice_again(chat: Chat) -> None:
    opening = "借呗被冻结了"
    chat.say(opening, "回复 1：有")
    chat.say("有", "逾期最长的一次大概多久")
    chat.say("三个月", "可能的原因：")
    chat.say("还能恢复吗", "有机会恢复，但一般要几个月。")
    chat.say("那我现在该先做什么", "先做上面建议的第 1 步")
    chat.child.sendline("/stop")
    chat.child.expect(pexpect.EOF, timeout=120)
    chat.child.close()
    assert chat.child.exitstatus == 0
    _, events = conversation(opening)
    sent = [event.get("text") or "" for event in events if event.get("event") == "bot"]
    assert sum("可能的原因：" in text for text in sent) == 1, sent
    assert chat.seen.getvalue().count("可能的原因：") == 1
