"""`make chat` in a real pseudo-terminal: a Chinese question gets a Chinese answer, buttons are
offered as choices, what is typed passes the input guard (a phone number is masked before it
is stored), and leaving the shell leaves no action server behind."""

from __future__ import annotations

import io
import json
import os
import random
import socket
import sqlite3
from pathlib import Path

import pexpect

from advisor.knowledge import load_faq
from channels.guard import PII_NOTICE
from channels.guard_texts import guard_text
from devtools.local_bot import ROOT, free_port

DOWN, UP = "\x1b[B", "\x1b[A"


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_make_chat_in_a_terminal(trained_model: Path) -> None:
    action_port, rasa_port = free_port(), free_port()
    env = {**os.environ, "TERM": "xterm"}
    child = pexpect.spawn(
        "make",
        ["-s", "chat", f"ACTION_PORT={action_port}", f"RASA_PORT={rasa_port}"],
        cwd=str(ROOT),
        env=env,
        encoding="utf-8",
        timeout=240,
        dimensions=(50, 220),
    )
    try:
        child.expect("Your input ->", timeout=480)  # loading the model is slow on a busy machine
        assert port_is_open(action_port)

        # The terminal is a channel like the others: a phone number is masked before storing.
        phone = f"139 {random.randint(1000, 9999)} {random.randint(1000, 9999)}"
        child.sendline(f"你好，我的手机 {phone}")
        child.expect(guard_text(PII_NOTICE)[:10], timeout=60)
        if child.expect(["Your input ->", "Type out your own message"], timeout=60) == 1:
            child.send(UP + "\r")  # the last choice: type again
            child.expect("Your input ->", timeout=30)

        faq = load_faq()
        child.sendline("怎么查征信")
        child.expect(faq["ask_credit_report"]["text"].splitlines()[0][:12], timeout=60)
        # The answer's quick replies are a list of choices; Enter picks the first one.
        first = faq["ask_credit_report"]["buttons"][0]
        child.expect("Type out your own message", timeout=30)
        child.send("\r")
        picked = first["payload"].lstrip("/")
        child.expect(faq[picked]["text"].splitlines()[0][:12], timeout=60)
        # The last choice lets the user type again; then /stop leaves the shell.
        child.expect("Type out your own message", timeout=30)
        child.send(DOWN * len(faq[picked]["buttons"]) + "\r")
        child.expect("Your input ->", timeout=30)
        child.sendline("/stop")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    assert not port_is_open(action_port), "the action server outlived the shell"
    stored = b"".join(path.read_bytes() for path in (ROOT / "var").glob("tracker.db*"))
    assert stored and phone.replace(" ", "").encode() not in stored and phone.encode() not in stored


def say(child: pexpect.spawn, text: str) -> None:
    """Types `text` at the next prompt: a plain one, or the list of choices (its last: type)."""
    if child.expect(["Your input ->", "Type out your own message"], timeout=120) == 1:
        child.send(UP + "\r")
        child.expect("Your input ->", timeout=30)
    child.sendline(text)


def test_make_chat_answers_the_follow_ups_without_the_advice_again(trained_model: Path) -> None:
    action_port, rasa_port = free_port(), free_port()
    seen = io.StringIO()
    child = pexpect.spawn(
        "make",
        ["-s", "chat", f"ACTION_PORT={action_port}", f"RASA_PORT={rasa_port}"],
        cwd=str(ROOT),
        env={**os.environ, "TERM": "xterm"},
        encoding="utf-8",
        timeout=240,
        dimensions=(50, 220),
    )
    child.logfile_read = seen
    try:
        child.expect("Your input ->", timeout=480)
        child.sendline("借呗被冻结了")
        for answer in ("有", "三个月"):
            say(child, answer)
        child.expect("可能的原因：", timeout=60)
        say(child, "还能恢复吗")
        child.expect("有机会恢复，但一般要几个月。", timeout=60)
        say(child, "那我现在该先做什么")
        child.expect("先做上面建议的第 1 步", timeout=60)
        say(child, "/stop")
        child.expect(pexpect.EOF, timeout=60)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
    # What the bot sent, from the tracker (the terminal's list of choices draws a message again
    # when a choice is made, so the screen repeats what the bot did not).
    with sqlite3.connect(ROOT / "var" / "tracker.db") as db:
        events = [(who, json.loads(data)) for who, data in db.execute("SELECT sender_id, data FROM events ORDER BY id")]
    asked = [who for who, event in events if event.get("event") == "user" and event.get("text") == "那我现在该先做什么"]
    who = asked[-1]
    sent = [event.get("text") or "" for sender, event in events if sender == who and event.get("event") == "bot"]
    assert sum("可能的原因：" in text for text in sent) == 1, sent
    assert "可能的原因：" in seen.getvalue()
