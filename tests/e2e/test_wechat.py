"""The WeChat channel inside a real `rasa run`: a signed text message gets a Chinese XML reply
with the quick replies as numbered options, and a number picks an option."""

from __future__ import annotations

import hashlib
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import xmltodict

from devtools.local_bot import Bot
from tests.conftest import WECHAT_TEST_TOKEN


def signature(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's: sha1 of the sorted token, timestamp and nonce."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def post_text(bot: Bot, openid: str, content: str, token: str = WECHAT_TEST_TOKEN) -> str:
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:8]
    query = urllib.parse.urlencode(
        {"signature": signature(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    )
    body = (
        f"<xml><ToUserName>gh_test</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType>text</MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>"
    )
    request = urllib.request.Request(
        f"{bot.url}/webhooks/wechat/webhook?{query}", data=body.encode(), headers={"Content-Type": "text/xml"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def test_a_wechat_user_gets_a_diagnosis_question_and_can_answer_with_a_number(bot: Bot) -> None:
    openid = f"o-{uuid.uuid4().hex[:12]}"
    reply = xmltodict.parse(post_text(bot, openid, "借呗有额度为什么借不出来"))["xml"]
    assert reply["ToUserName"] == openid and reply["MsgType"] == "text"
    assert "逾期" in reply["Content"] and "回复 2" in reply["Content"]
    post_text(bot, openid, "2")  # the second option of the overdue question: 没有
    slots = bot.tracker(openid, rest=False)["slots"]
    assert slots["has_overdue"] is False and slots["requested_slot"] == "debt_ratio"


def test_after_the_advice_a_wechat_user_gets_answers_not_the_advice_again(bot: Bot) -> None:
    openid = f"o-{uuid.uuid4().hex[:12]}"
    replies = [xmltodict.parse(post_text(bot, openid, text))["xml"]["Content"] for text in ("借呗被冻结了", "1")]
    assert bot.tracker(openid, rest=False)["slots"]["has_overdue"] is True
    replies.append(xmltodict.parse(post_text(bot, openid, "三个月"))["xml"]["Content"])
    assert "以月计" in replies[-1]
    for question, answer in (
        ("还能恢复吗", "有机会恢复，但一般要几个月。"),
        ("那我现在该先做什么", "先做上面建议的第 1 步"),
    ):
        replies.append(xmltodict.parse(post_text(bot, openid, question))["xml"]["Content"])
        assert replies[-1].startswith(answer), replies[-1]
    # No paragraph twice (the numbered options 「回复 1：…」 under each reply may come back).
    lines = [line.strip() for reply in replies for line in reply.splitlines() if not line.startswith("回复")]
    paragraphs = [line for line in lines if len(line) >= 12]
    assert len(paragraphs) == len(set(paragraphs)), paragraphs


def test_a_bad_signature_is_refused(bot: Bot) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        post_text(bot, "o-intruder", "你好", token="wrong-token")
    assert refused.value.code == 403


def test_the_rest_channel_cannot_read_or_wipe_a_wechat_conversation(bot: Bot) -> None:
    """Issue 32, point 2: an openid posted as a REST sender continued that WeChat conversation
    (and /restart wiped it). REST conversations have a key space of their own now."""
    openid = f"o-{uuid.uuid4().hex[:12]}"
    post_text(bot, openid, "借呗额度怎么突然降了，我逾期了45天")
    before = bot.tracker(openid, rest=False)
    assert before["slots"]["overdue_days"] == 45.0
    said = " ".join(m.get("text") or "" for m in bot.send(openid, "/ask_limit_dropped"))
    assert "45" not in said, said
    bot.send(openid, "/restart")
    after = bot.tracker(openid, rest=False)
    assert after["slots"]["overdue_days"] == 45.0
    assert len(after["events"]) == len(before["events"]), "nothing was added to the WeChat conversation"
