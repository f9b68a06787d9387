"""The terminal of `make chat` (channels/terminal.py) without a bot: what is typed is what is
sent, a number picks its option, and every way out says goodbye with status 0 (issue 31)."""

from __future__ import annotations

import io
from typing import Any, Dict, Iterator, List, Union

import pytest

from advisor.knowledge import busy_text
from channels.terminal import Terminal, texts

QUESTION = [
    {
        "text": "最近一年里，您有没有过逾期？",
        "buttons": [
            {"title": "有", "payload": "/affirm"},
            {"title": "没有", "payload": "/deny"},
            {"title": "不清楚", "payload": "/dont_know"},
        ],
    }
]


class Bot:
    """Records what the terminal sends; answers every message with the question above."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: List[str] = []
        self.fail = fail

    def __call__(self, sender: str, message: str) -> List[Dict[str, Any]]:
        self.sent.append(message)
        if self.fail:
            raise ConnectionRefusedError("the bot is down")
        return QUESTION


def reader(lines: List[Union[str, BaseException]]) -> Any:
    items: Iterator[Union[str, BaseException]] = iter(lines)

    def read(prompt: str) -> str:
        item = next(items)
        if isinstance(item, BaseException):
            raise item
        return item

    return read


def play(lines: List[Union[str, BaseException]], bot: Bot) -> tuple[int, str]:
    out = io.StringIO()
    status = Terminal(bot, "someone", read=reader(lines), out=out).run()
    return status, out.getvalue()


def test_an_answer_typed_at_a_question_with_buttons_is_sent_as_typed() -> None:
    bot = Bot()
    play(["借呗借不出来", "没有", "/stop"], bot)
    assert bot.sent == ["借呗借不出来", "没有"]


@pytest.mark.parametrize("typed, sent", [("2", "/deny"), ("１", "/affirm"), (" 3 ", "/dont_know"), ("0", "/restart")])
def test_a_number_picks_its_option(typed: str, sent: str) -> None:
    bot = Bot()
    play(["借呗借不出来", typed, "/stop"], bot)
    assert bot.sent == ["借呗借不出来", sent]


def test_a_number_without_options_is_sent_as_typed() -> None:
    bot = Bot()
    play(["2", "/stop"], bot)
    assert bot.sent == ["2"]


def test_the_buttons_are_shown_as_numbered_options() -> None:
    status, shown = play(["借呗借不出来", "/stop"], Bot())
    assert "回复 1：有" in shown and "回复 2：没有" in shown and "回复 0：重新开始" in shown


@pytest.mark.parametrize(
    "leave",
    ["/stop", "/STOP", "/exit", EOFError(), KeyboardInterrupt()],
    ids=["stop", "STOP", "exit", "ctrl-d", "ctrl-c"],
)
def test_every_way_out_says_goodbye_with_status_0(leave: Union[str, BaseException]) -> None:
    bot = Bot()
    status, shown = play(["借呗借不出来", leave], bot)
    assert status == 0 and shown.rstrip().endswith(texts()["goodbye"])
    assert bot.sent == ["借呗借不出来"]


def test_an_empty_line_sends_nothing() -> None:
    bot = Bot()
    play(["", "   ", "/stop"], bot)
    assert bot.sent == []


def test_a_bot_that_does_not_answer_gets_the_busy_text_and_the_terminal_goes_on() -> None:
    bot = Bot(fail=True)
    status, shown = play(["借呗借不出来", "/stop"], bot)
    assert status == 0 and busy_text() in shown and "Traceback" not in shown
