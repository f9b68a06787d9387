"""`make chat` in a real pseudo-terminal: a Chinese question gets a Chinese answer, buttons are
offered as choices, what is typed passes the input guard (a phone number is masked before it
is stored), and leaving the shell leaves no action server behind."""

from __future__ import annotations

import os
import random
import socket
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
