"""The terminal of `make chat`: what is typed is what the bot reads, buttons are numbered text.

Rasa's own console (`rasa shell`) shows a question's buttons as an arrow-key chooser, and
whatever is typed at it picks the highlighted first button: 「没有」 typed at 「有 / 没有 / 不清楚」
was recorded as 「有」. Here the bot's buttons are numbered options as in WeChat
(channels/wechat_format.py: 「回复 1：有」, 「回复 0：重新开始」), the prompt is always a plain
line of text, a number picks its option and anything else is sent as typed. `/stop`, Ctrl-C and
Ctrl-D leave at any prompt with a goodbye and exit status 0.

Plain Python (no Rasa): it posts to the running bot's guarded REST channel
(channels/shell.GuardedShellInput), which `devtools.with_servers` starts and stops with it.

    python -m channels.terminal --url http://127.0.0.1:5005
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import urllib.error
import urllib.request
import uuid
from types import FrameType
from typing import Any, Callable, Dict, List, Optional, TextIO

from advisor.knowledge import busy_text, load_conversation_texts
from channels.wechat_format import match_button, render_reply

# Typed to leave (as in `rasa shell`).
STOP_COMMANDS = frozenset({"/stop", "/exit", "/quit"})
# No byte limit in a terminal; the WeChat limit would cut long advice.
NO_LIMIT = 1 << 30
REQUEST_TIMEOUT_S = 60.0

Post = Callable[[str, str], List[Dict[str, Any]]]


def texts() -> Dict[str, str]:
    """The terminal's own lines (knowledge/conversation.yml → terminal)."""
    return {key: str(value).strip() for key, value in load_conversation_texts()["terminal"].items()}


def rest_poster(url: str) -> Post:
    """Posts one message as a sender to the bot's REST channel; the bot's messages come back."""
    endpoint = url.rstrip("/") + "/webhooks/rest/webhook"

    def post(who: str, message: str) -> List[Dict[str, Any]]:
        body = json.dumps({"sender": who, "message": message}).encode("utf-8")
        request = urllib.request.Request(endpoint, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            replies = json.loads(response.read().decode("utf-8"))
        return [reply for reply in replies if isinstance(reply, dict)]

    return post


class Terminal:
    """One person at one terminal: reads lines, sends them, prints the replies."""

    def __init__(self, post: Post, sender: str, read: Callable[[str], str] = input, out: TextIO = sys.stdout):
        self.post = post
        self.sender = sender
        self.read = read
        self.out = out
        self.buttons: List[Dict[str, Any]] = []
        self.texts = texts()

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def message_for(self, typed: str) -> str:
        """What to send for a typed line: a number picks the option it names (「0」 starts over),
        anything else is sent as typed."""
        return match_button(typed, self.buttons) or typed

    def turn(self, typed: str) -> None:
        try:
            replies = self.post(self.sender, self.message_for(typed))
        except (OSError, ValueError):  # the bot is down or answered something unreadable
            self.say(busy_text())
            return
        rendered = render_reply(replies, limit_bytes=NO_LIMIT)
        self.buttons = rendered.buttons
        if rendered.text:
            self.say(rendered.text)

    def run(self) -> int:
        self.say(self.texts["welcome"])
        while True:
            try:
                typed = self.read(self.texts["prompt"]).strip()
            except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C
                self.say("\n" + self.texts["goodbye"])
                return 0
            if not typed:
                continue
            if typed.lower() in STOP_COMMANDS:
                self.say(self.texts["goodbye"])
                return 0
            self.turn(typed)


def _leave_on_hangup(signum: int, frame: Optional[FrameType]) -> None:
    # The terminal is gone: nobody to say goodbye to; devtools.with_servers stops the servers.
    raise SystemExit(0)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5005", help="the running bot")
    parser.add_argument("--sender", default=None, help="conversation id (default: a new one)")
    args = parser.parse_args(argv)
    sender = args.sender or f"shell-{uuid.uuid4().hex[:12]}"
    try:
        import readline  # noqa: F401  (line editing and history for input(), where available)
    except ImportError:
        pass
    signal.signal(signal.SIGHUP, _leave_on_hangup)
    signal.signal(signal.SIGTERM, _leave_on_hangup)
    return Terminal(rest_poster(args.url), sender).run()


if __name__ == "__main__":
    sys.exit(main())
