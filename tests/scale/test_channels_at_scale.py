"""The channels as people reach them under `make scale` (issue 17): the web widget served by
nginx on the bot's own origin, nginx's per-client limit, and WeChat's retries, numbered replies
and access token shared by the two replicas through Redis.

Runs before test_scale.py (whose last test kills the replicas), on the same cluster.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

import pytest
import socketio
import xmltodict

from channels.guard import RATE_LIMITED
from channels.guard_texts import guard_text
from channels.wechat_api import CustomerServiceClient
from channels.wechat_shared import PREFIX, RedisState
from deploy.local_cluster.cluster import Cluster
from devtools.local_bot import _BoundHTTPHandler
from tests.channels.test_wechat_channel import APPID, APPSECRET, FakeWeChatAPI

pytestmark = pytest.mark.scale


def request(
    url: str,
    data: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    client_address: Optional[str] = None,
) -> Tuple[int, Dict[str, str], str]:
    opener = urllib.request.build_opener(*([_BoundHTTPHandler(client_address)] if client_address else []))
    try:
        with opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8")


# --- the web widget on the bot's origin ---------------------------------------------------------


def test_nginx_serves_the_widget_s_files_and_nothing_else(cluster: Cluster) -> None:
    status, headers, page = request(cluster.url + "/")
    assert status == 200 and "app.js" in page and "<title>" in page
    policy = headers["Content-Security-Policy"]
    assert "connect-src 'self';" in policy and "script-src 'self'" in policy, policy
    status, _, config = request(cluster.url + "/config.js")
    assert status == 200 and '"socketUrl": "same-origin"' in config
    types = {
        "/app.js": "application/javascript",
        "/advice-card.js": "application/javascript",
        "/style.css": "text/css",
        "/advice-labels.json": "application/json",
        "/vendor/rasa-webchat.js": "application/javascript",
    }
    for path, wanted in types.items():
        status, headers, _ = request(cluster.url + path)
        # With nosniff, a script sent as text/plain would not run.
        assert status == 200 and headers["Content-Type"].startswith(wanted), (path, headers.get("Content-Type"))
    for path in (
        "/package.json",
        "/package-lock.json",
        "/node_modules/rasa-webchat/package.json",
        "/vendor/../package.json",
        "/web/index.html",
        "/credentials.yml",
    ):
        assert request(cluster.url + path)[0] == 404, path


async def _socketio_reply(cluster: Cluster, origin: str) -> List[Any]:
    """Connects as the page of `origin` would and asks one question; the bot's replies."""
    client = socketio.AsyncClient()
    confirmed, answered = asyncio.Event(), asyncio.Event()
    replies: List[Any] = []
    signed: List[str] = []
    client.on("session_confirm", lambda token: (signed.append(token), confirmed.set()))

    @client.on("bot_uttered")
    async def on_bot_uttered(data: Any) -> None:
        replies.append(data)
        if "征信" in json.dumps(data, ensure_ascii=False):
            answered.set()

    await client.connect(cluster.url, headers={"Origin": origin}, transports=["polling"], wait_timeout=10)
    try:
        await client.emit("session_request", {"session_id": f"web-{uuid.uuid4().hex[:10]}"})
        await asyncio.wait_for(confirmed.wait(), timeout=10)
        await client.emit("user_uttered", {"message": "怎么查征信", "session_id": signed[0]})
        await asyncio.wait_for(answered.wait(), timeout=20)
    finally:
        await client.disconnect()
    return replies


@pytest.mark.asyncio
async def test_the_page_s_own_origin_may_talk_to_the_bot_and_another_may_not(cluster: Cluster) -> None:
    replies = await _socketio_reply(cluster, cluster.url)
    assert any("征信" in (reply.get("text") or "") for reply in replies)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _socketio_reply(cluster, "http://evil.example")


# --- nginx's limit per client address -----------------------------------------------------------


def test_rest_and_socketio_are_limited_per_client_address_and_wechat_is_not(cluster: Cluster) -> None:
    flooding, other = "127.0.0.77", "127.0.0.78"
    rest = cluster.url + "/webhooks/rest/webhook"
    headers = {"Content-Type": "application/json"}
    polling = cluster.url + "/socket.io/?EIO=4&transport=polling"
    # The checks of the other address and of socket.io go in while the flood is still running:
    # the zone refills one request every 33 ms (30 r/s), so a check made after the flood has
    # ended races the refill.
    with ThreadPoolExecutor(max_workers=16) as pool:
        flood = [pool.submit(request, rest, b"{}", headers, flooding) for _ in range(4 * cluster.client_burst)]
        polls = [pool.submit(request, polling, None, None, flooding) for _ in range(8)]
        others = [pool.submit(request, rest, b"{}", headers, other), pool.submit(request, polling, None, None, other)]
        flood += [pool.submit(request, rest, b"{}", headers, flooding) for _ in range(cluster.client_burst)]
        answers = [future.result() for future in flood]
        poll_statuses = [future.result()[0] for future in polls]
        other_statuses = [future.result()[0] for future in others]
    limited = [body for status, _, body in answers if status == 429]
    assert limited, "no request of the flood was limited"
    assert len(limited) < len(answers), "the burst allowance let nothing through"
    assert json.loads(limited[0]) == [{"text": guard_text(RATE_LIMITED)}]  # the REST channel's own shape
    # The same moment, another address is not limited, on REST or socket.io, while socket.io's
    # polling from the flooding address is (the zone is per address, shared by REST and socket.io).
    assert 429 not in other_statuses and other_statuses[1] == 200, other_statuses
    assert 429 in poll_statuses, poll_statuses
    # WeChat's servers are exempt: the flooding address still reaches the webhook (unsigned: 403).
    with ThreadPoolExecutor(max_workers=16) as pool:
        wechat = list(
            pool.map(
                lambda _: request(cluster.url + "/webhooks/wechat/webhook", b"<xml/>", {}, flooding)[0],
                range(2 * cluster.client_burst),
            )
        )
    assert 429 not in wechat and set(wechat) == {403}


# --- socket.io connections are counted per real client address (issue 32, point 1) ----------


def socketio_log_lines(cluster: Cluster, address: str) -> List[str]:
    lines = (cluster.base / "nginx" / "access.log").read_text().splitlines()
    return [line for line in lines if line.startswith(address + " ") and " /socket.io/" in line]


def polling_connect(cluster: Cluster, address: str) -> Tuple[str, str]:
    """One engine.io polling session from `address` through nginx, then the socket.io connect
    ("40"): (upstream replica, what the server answered: "40{…}" accepted, "44{…}" refused)."""
    base = cluster.url + "/socket.io/?EIO=4&transport=polling"
    before = len(socketio_log_lines(cluster, address))
    status, _, opened = request(base, client_address=address)
    assert status == 200 and opened.startswith("0"), (status, opened)
    sid = json.loads(opened[1:])["sid"]
    deadline = time.monotonic() + 5  # nginx writes the line once the request is finalised
    while len(lines := socketio_log_lines(cluster, address)) <= before:
        assert time.monotonic() < deadline, "nginx logged the handshake"
        time.sleep(0.05)
    upstream = lines[before].split()[-2]
    status, _, _ = request(f"{base}&sid={sid}", data=b"40", client_address=address)
    assert status == 200
    status, _, answer = request(f"{base}&sid={sid}", client_address=address)
    assert status == 200, answer
    return upstream, answer


def test_one_address_holding_its_socketio_connections_never_refuses_another(cluster: Cluster) -> None:
    """The `location /socket.io/` block set its own headers, so nginx passed no X-Real-IP there:
    the replicas counted every client as nginx's 127.0.0.1, and one client with 20 connections
    locked everyone else out of that replica."""
    flooding = "127.0.0.91"
    answers = [polling_connect(cluster, flooding) for _ in range(21)]
    replica = answers[0][0]
    assert all(upstream == replica for upstream, _ in answers), "one address, one replica (sticky)"
    assert sum(answer.startswith("40") for _, answer in answers) == 20, [a[:2] for _, a in answers]
    assert answers[-1][1].startswith("44"), "the 21st connection of one address is refused"
    # Another address that nginx sends to the same replica still gets in.
    for last in range(92, 140):
        upstream, answer = polling_connect(cluster, f"127.0.0.{last}")
        if upstream == replica:
            assert answer.startswith("40"), f"127.0.0.{last} was refused: {answer}"
            return
    pytest.fail("no other address reached the flooded replica")


# --- WeChat across the replicas ------------------------------------------------------------------


def wechat_post(cluster: Cluster, replica: int, body: str) -> Tuple[int, str]:
    """A signed request as WeChat sends it (each retry signed anew), straight to a replica."""
    token = os.environ["WECHAT_TOKEN"]
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    query = urllib.parse.urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})
    url = f"{cluster.replica_url(replica)}/webhooks/wechat/webhook?{query}"
    status, _, text = request(url, body.encode("utf-8"))
    return status, text


def text_message(openid: str, content: str, msg_id: int) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_scale]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def content(xml: str) -> str:
    return xmltodict.parse(xml)["xml"]["Content"]


def user_texts(cluster: Cluster, openid: str) -> List[str]:
    return [event["text"] for event in cluster.bot().tracker(openid, rest=False)["events"] if event["event"] == "user"]


def test_a_wechat_retry_that_lands_on_the_other_replica_runs_the_turn_once(cluster: Cluster) -> None:
    openid = f"o_retry_{uuid.uuid4().hex[:10]}"
    message = text_message(openid, "借呗额度怎么突然降了", uuid.uuid4().int % 10**18)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, retry = pool.map(lambda replica: wechat_post(cluster, replica, message), (0, 1))
    later = wechat_post(cluster, 1, message)  # WeChat's third try, after the turn is over
    assert user_texts(cluster, openid) == ["借呗额度怎么突然降了"]
    replies = [content(text) for status, text in (first, retry, later) if status == 200]
    assert len(replies) == 3 and len(set(replies)) == 1 and "降" in replies[0], (first, retry, later)


def test_a_numbered_reply_is_understood_by_the_replica_that_did_not_offer_the_options(cluster: Cluster) -> None:
    openid = f"o_number_{uuid.uuid4().hex[:10]}"
    status, offered = wechat_post(
        cluster, 0, text_message(openid, "借呗有额度为什么借不出来", uuid.uuid4().int % 10**18)
    )
    assert status == 200 and "回复 1：" in content(offered), offered
    first_option = content(offered).split("回复 1：", 1)[1].splitlines()[0]
    status, answered = wechat_post(cluster, 1, text_message(openid, "1", uuid.uuid4().int % 10**18))
    assert status == 200
    tracker = cluster.bot().tracker(openid, rest=False)
    last_user = [event for event in tracker["events"] if event["event"] == "user"][-1]
    assert last_user["text"].startswith("/"), f"「1」 for {first_option!r} was read as typed text: {last_user['text']}"
    assert last_user["metadata"]["wechat"]["chosen_option"] == "1"


@pytest.mark.asyncio
async def test_the_replicas_share_one_access_token_through_redis(cluster: Cluster) -> None:
    import redis.asyncio

    api = FakeWeChatAPI()
    await api.start()
    password = cluster._secrets()["redis_password"]
    states = [
        RedisState(redis.asyncio.Redis(host="127.0.0.1", port=cluster.ports["redis"], password=password))
        for _ in range(2)
    ]
    await states[0]._redis.delete(f"{PREFIX}token:{APPID}")  # no token from an earlier run
    clients = [CustomerServiceClient(APPID, APPSECRET, api_base=api.base, tokens=state) for state in states]
    try:
        assert all(await asyncio.gather(*(client.send_text("o_token_user", "一") for client in clients)))
        assert api.token_calls == 1
        api.rejected_tokens.add("token-1")
        assert all(await asyncio.gather(*(client.send_text("o_token_user", "二") for client in clients)))
        assert api.token_calls == 2
        assert {token for token, _ in api.sent} == {"token-1", "token-2"}
    finally:
        for client in clients:
            await client.close()
        for state in states:
            await state._redis.close()
        await api.stop()


def test_the_widget_works_in_chromium_through_nginx(cluster: Cluster) -> None:
    """The page from nginx talks to the replicas on its own origin: no CORS, no CSP violation,
    no request anywhere else; at a phone's size, as most people open it."""
    from playwright.sync_api import sync_playwright

    from tests.browser.test_widget import CHROMIUM, CHROMIUM_ARGS, OUTPUT, Watch, open_widget, type_message

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `make browser-deps`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
            )
            context.set_default_timeout(60_000)
            page = context.new_page()
            watch = Watch(page, [cluster.url])
            open_widget(page, cluster.url + "/")
            type_message(page, "怎么查征信")
            page.locator(".rw-response .rw-message-text").filter(has_text="征信").last.wait_for(state="visible")
            OUTPUT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUTPUT / "through-nginx-phone.png"))
            assert watch.errors == [] and watch.dialogs == [], (watch.errors, watch.dialogs)
            assert watch.foreign_requests == [], watch.foreign_requests
            assert page.evaluate("window.__cspViolations") == []
        finally:
            browser.close()
