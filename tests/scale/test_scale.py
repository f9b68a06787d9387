"""Issue "replicas on PostgreSQL and Redis behind a load balancer", against a real cluster
(tests/scale/conftest.py): two Rasa replicas sharing PostgreSQL and a Redis lock store,
nginx in front. Run by `make test-scale` (`-m scale`); the normal `pytest tests` skips them.

The last test kills the replicas, so the order of this file matters.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Sequence, Tuple

import pytest
import socketio
import yaml

from advisor.knowledge import busy_text
from deploy.local_cluster.cluster import ENDPOINTS, Cluster, postgres_connection
from devtools.local_bot import ROOT, Bot, conversation_key
from quality import review
from tests.default_answers import DEFAULT_ANSWERS
from tests.replies import advice_payload, texts

pytestmark = pytest.mark.scale

BUSY = busy_text()


def sender(prefix: str = "scale") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def diagnose(bots: Sequence[Bot], opening: str, answers: Dict[str, str]) -> Tuple[dict, List[str], dict]:
    """Plays a diagnosis, turn i (message and tracker read) on bots[i % len(bots)]."""
    who = sender("diag")
    replies = bots[0].send(who, opening)
    asked: List[str] = []
    for turn in range(1, 12):
        bot = bots[turn % len(bots)]
        payload = advice_payload(replies)
        if payload is not None:
            return payload, asked, bot.tracker(who)["slots"]
        assert BUSY not in texts(replies), f"busy after {asked}"
        slot = bot.tracker(who)["slots"]["requested_slot"]
        assert slot, f"no advice and no question after {asked}: {texts(replies)}"
        asked.append(slot)
        replies = bot.send(who, {**DEFAULT_ANSWERS, **answers}[slot])
    pytest.fail(f"diagnosis did not finish; asked {asked}")


def upstreams_in_access_log(cluster: Cluster, path_prefix: str) -> List[str]:
    lines = (cluster.base / "nginx" / "access.log").read_text().splitlines()
    return [line.split()[-2] for line in lines if f" {path_prefix}" in line]


# --- the load balancer ----------------------------------------------------------------------


def test_rest_is_round_robin_over_both_replicas(cluster: Cluster) -> None:
    bot = cluster.bot()
    before = len(upstreams_in_access_log(cluster, "/webhooks/rest/webhook"))
    for _ in range(4):
        assert "借呗" in texts(bot.send(sender(), "你好"))
    used = set(upstreams_in_access_log(cluster, "/webhooks/rest/webhook")[before:])
    assert used == {f"127.0.0.1:{cluster.ports['rasa-0']}", f"127.0.0.1:{cluster.ports['rasa-1']}"}


def test_only_the_read_only_api_is_proxied_and_the_token_never_in_a_url(cluster: Cluster) -> None:
    who = sender()
    cluster.bot().send(who, "怎么查征信")
    tracker = cluster.bot().tracker(who)  # through nginx, the token in X-Rasa-Token
    assert tracker["sender_id"] == conversation_key(who) and tracker["latest_message"]["intent"]["name"]
    assert cluster.bot().get("/status")["model_id"]

    def status(method: str, path: str, headers: Dict[str, str], body: bytes = b"") -> int:
        request = urllib.request.Request(f"{cluster.url}{path}", data=body or None, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    token = {"X-Rasa-Token": cluster.token}
    assert status("GET", f"/conversations/{who}/tracker", {}) in (401, 403)
    assert status("GET", f"/conversations/{who}/tracker?token={cluster.token}", {}) == 400
    assert status("PUT", "/model", token, b"{}") == 404
    assert status("POST", f"/conversations/{who}/tracker/events", token, b"[]") == 404
    assert status("POST", "/model/parse", token, b'{"text": "hi"}') == 404
    assert status("POST", f"/conversations/{who}/tracker", token, b"{}") == 403
    logs = b"".join(path.read_bytes() for path in (cluster.base / "nginx").glob("*.log"))
    assert cluster.token.encode() not in logs
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in (cluster.base / "nginx").glob("*.log")}
    assert set(modes.values()) == {"0o600"}, modes


def test_everything_listens_on_loopback_only(cluster: Cluster) -> None:
    ours = {cluster.port, *cluster.ports.values()}
    found = set()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"]:
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.split(":")
            if state == "0A" and int(port, 16) in ours:  # LISTEN
                assert address == "0100007F", f"port {int(port, 16)} listens on {address} ({table})"
                found.add(int(port, 16))
    assert found == ours


def test_a_wechat_nonce_used_on_one_replica_is_refused_on_the_other(cluster: Cluster) -> None:
    """Replicas share WeChat nonces through Redis: a signed URL replayed with another body
    (another openid) to the other replica is refused."""
    import hashlib
    import os
    import time
    import urllib.parse

    token = os.environ["WECHAT_TOKEN"]
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    query = urllib.parse.urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})

    def post(replica: int, openid: str) -> int:
        body = (
            f"<xml><ToUserName>gh_scale</ToUserName><FromUserName>{openid}</FromUserName>"
            f"<CreateTime>{timestamp}</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
            f"<MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>"
        ).encode()
        url = f"http://127.0.0.1:{cluster.ports[f'rasa-{replica}']}/webhooks/wechat/webhook?{query}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=30) as answer:
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code

    assert post(0, "o_scale_user") == 200
    assert post(1, "o_scale_victim") == 403


async def stored(cluster: Cluster, session: str, last_message: str) -> None:
    """The socket.io turn reached the shared store (saved just after its last reply is sent)."""
    for _ in range(50):
        latest = cluster.bot().tracker(session, rest=False).get("latest_message") or {}
        if latest.get("text") == last_message:
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"socket.io conversation {session} not in the tracker store")


@pytest.mark.asyncio
async def test_socketio_polling_through_nginx_is_sticky(cluster: Cluster) -> None:
    """Engine.io's polling transport keeps its session in one process: through a round robin,
    every other request would reach a replica that does not know the session."""
    client = socketio.AsyncClient()
    confirmed, answered = asyncio.Event(), asyncio.Event()
    replies: List[Any] = []
    session = sender("sio")
    signed: List[str] = []

    @client.on("session_confirm")
    async def on_session_confirm(token: Any) -> None:
        signed.append(token)  # the server's signed id (channels/webchat.py), kept by the widget
        confirmed.set()

    # Three different questions: the same one again would be answered by a reference to the
    # first answer (actions/faq.py), which says nothing about which replica answered.
    questions = [("怎么查征信", "征信"), ("怎么降低负债率", "负债"), ("借呗在哪提交资产证明", "额度管理")]
    wanted: List[str] = []

    @client.on("bot_uttered")
    async def on_bot_uttered(data: Any) -> None:
        replies.append(data)
        if wanted and wanted[-1] in json.dumps(data, ensure_ascii=False):
            answered.set()

    before = len(upstreams_in_access_log(cluster, "/socket.io/"))
    await client.connect(cluster.url, transports=["polling"], wait_timeout=10)
    try:
        await client.emit("session_request", {"session_id": session})
        await asyncio.wait_for(confirmed.wait(), timeout=10)
        for question, keyword in questions:
            answered.clear()
            wanted.append(keyword)
            await client.emit("user_uttered", {"message": question, "session_id": signed[0]})
            await asyncio.wait_for(answered.wait(), timeout=20)
    finally:
        await client.disconnect()
    assert BUSY not in json.dumps(replies, ensure_ascii=False)
    used = upstreams_in_access_log(cluster, "/socket.io/")[before:]
    assert len(used) >= 6 and len(set(used)) == 1, f"one polling session reached several replicas: {used}"
    await stored(cluster, signed[0].split(".")[0], questions[-1][0])


@pytest.mark.asyncio
async def test_socketio_websocket_upgrade_through_nginx(cluster: Cluster) -> None:
    """The widget's websocket transport, spoken at the protocol level (engine.io 4 /
    socket.io 5 packets), so it depends on nginx's Upgrade headers and nothing else."""
    import websockets

    session = sender("ws")
    url = f"ws://127.0.0.1:{cluster.port}/socket.io/?EIO=4&transport=websocket"

    async def next_event(ws: Any, wanted: str) -> Any:
        while True:
            packet = await asyncio.wait_for(ws.recv(), timeout=20)
            if packet == "2":  # engine.io ping
                await ws.send("3")
            elif packet.startswith("42"):
                name, *data = json.loads(packet[2:])
                if name == wanted:
                    return data[0] if data else None

    async with websockets.connect(url, open_timeout=10) as ws:
        assert (await ws.recv()).startswith("0")  # engine.io open
        await ws.send("40")  # socket.io connect, default namespace
        assert (await asyncio.wait_for(ws.recv(), timeout=10)).startswith("40")
        await ws.send("42" + json.dumps(["session_request", {"session_id": session}]))
        signed = await next_event(ws, "session_confirm")
        await ws.send(
            "42" + json.dumps(["user_uttered", {"message": "怎么查征信", "session_id": signed}], ensure_ascii=False)
        )
        replies = [await next_event(ws, "bot_uttered")]  # the disclaimer comes first
        while "征信" not in replies[-1].get("text", ""):
            replies.append(await next_event(ws, "bot_uttered"))
    assert BUSY not in json.dumps(replies, ensure_ascii=False)
    await stored(cluster, signed.split(".")[0], "怎么查征信")


# --- shared state ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opening, answers",
    [
        ("有额度但是借不出来", {"debt_ratio": "七成"}),
        ("借呗怎么提额", {"account_inactive": "是，很少用", "debt_ratio": "三成"}),
    ],
)
def test_turns_alternating_between_replicas_give_the_same_advice(
    cluster: Cluster, opening: str, answers: Dict[str, str]
) -> None:
    one = diagnose([cluster.bot(0)], opening, answers)
    alternating = diagnose([cluster.bot(0), cluster.bot(1)], opening, answers)
    assert len(alternating[1]) >= 2, "the conversation really went back and forth"
    assert alternating[0] == one[0], "same advice payload"
    assert alternating[1] == one[1], "same questions"
    assert alternating[2] == one[2], "same facts"


def test_a_follow_up_on_the_other_replica_knows_what_the_advice_said(cluster: Cluster) -> None:
    """What the advice showed is in the shared tracker (`last_advice`, the bot events): the
    other replica answers 「还能恢复吗」 without sending the advice again."""
    who = sender("scale-followup")
    for message in ("借呗被冻结了", "有", "三个月"):
        advice = texts(cluster.bot(0).send(who, message))
    assert "可能的原因：" in advice
    reply = texts(cluster.bot(1).send(who, "还能恢复吗"))
    assert reply.startswith("有机会恢复，但一般要几个月。"), reply
    assert "可能的原因：" not in reply and "建议您这样做：" not in reply


def test_pii_is_masked_in_postgresql(cluster: Cluster) -> None:
    """Masking happens in the channels, before Rasa: the shared store only ever gets 〔手机号〕."""
    who, phone = sender("pii"), "13812345678"
    cluster.bot().send(who, f"我手机{phone}，借呗额度为什么降了")
    cluster.bot().send(who, f"再说一次，电话{phone}，没有逾期")
    env = cluster.postgres_env()
    with postgres_connection(env) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "select type_name, data from events where sender_id = %s order by id", (conversation_key(who),)
            )
            events = cursor.fetchall()
            cursor.execute("select count(*) from events where data like %s", (f"%{phone}%",))
            anywhere = cursor.fetchone()[0]
    users = [json.loads(data)["text"] for kind, data in events if kind == "user"]
    assert len(users) == 2 and all("〔手机号〕" in text for text in users), users
    assert not any(phone in data for _, data in events)
    assert anywhere == 0, "the number is nowhere in the tracker store"
    for log in [*cluster.base.glob("log/*.log"), cluster.base / "nginx" / "access.log"]:
        assert phone not in log.read_text(errors="replace"), log.name


def test_review_reads_the_shared_postgresql_store(cluster: Cluster, tmp_path, monkeypatch) -> None:
    """`make review` on the cluster's store: a message the user corrected at once is a candidate,
    whichever replica answered it (the embedded SQLite store is tested in tests/quality/test_review.py)."""
    who, said = sender("review"), "我的借呗额度上周降了一半"
    cluster.bot().send(who, said)
    cluster.bot().send(who, "不是，我是说借呗被关闭了")
    for name, value in cluster.replica_env(0).items():  # endpoints.scale.yml reads them all
        monkeypatch.setenv(name, value)
    out = tmp_path / "candidates.yml"
    assert review.main(["--endpoints", str(ENDPOINTS), "--out", str(out)]) == 0
    candidates = yaml.safe_load(out.read_text(encoding="utf-8"))["candidates"]
    mine = [
        c
        for c in candidates
        if c["message"] == said and conversation_key(who) in [c["conversation"], *c.get("conversations", [])]
    ]
    assert len(mine) == 1, candidates
    assert "user_corrected" in mine[0]["reasons"]


def one_user(bot: Bot, index: int) -> tuple:
    who = f"crowd-{index}-{uuid.uuid4().hex[:6]}"
    ratio = 10 + index * 3
    overdue = index % 2 == 0
    replies = bot.send(who, "借呗有额度为什么借不出来")
    answers = {
        "has_overdue": "有" if overdue else "没有",
        "overdue_days": f"{index + 1}天",
        "debt_ratio": f"{ratio}%",
        "symptom_days": "就这几天",
    }
    busy = BUSY in texts(replies)
    for _ in range(8):
        slot = bot.tracker(who)["slots"]["requested_slot"]
        if slot is None:
            break
        busy |= BUSY in texts(bot.send(who, answers.get(slot, "没有")))
    return who, overdue, ratio, index + 1, busy


def test_20_concurrent_conversations_through_nginx_keep_their_own_facts(cluster: Cluster) -> None:
    bot = cluster.bot()
    before = len(upstreams_in_access_log(cluster, "/webhooks/rest/webhook"))
    # Each user from an address of their own, as real users (nginx limits per address).
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda i: one_user(cluster.bot(client_address=f"127.0.0.{10 + i}"), i), range(20)))
    for who, overdue, ratio, days, busy in results:
        slots = bot.tracker(who)["slots"]
        assert not busy, who
        assert slots["has_overdue"] is overdue, who
        # Every main question is asked, with or without an overdue.
        assert slots["debt_ratio"] == float(ratio), who
        assert slots["overdue_days"] == (float(days) if overdue else None), who
        assert slots["requested_slot"] is None, who
    used = upstreams_in_access_log(cluster, "/webhooks/rest/webhook")[before:]
    assert len(set(used)) == 2, "both replicas served"


def test_retention_deletes_only_conversations_idle_for_longer_than_the_limit(cluster: Cluster) -> None:
    old_sender, recent_sender = sender("old"), sender("recent")
    for who in (old_sender, recent_sender):
        cluster.bot().send(who, "怎么查征信")
    old, recent = conversation_key(old_sender), conversation_key(recent_sender)  # as stored
    # Age one conversation by 100 days, as if its user had left then.
    cluster.psql(f"UPDATE events SET timestamp = timestamp - 100 * 86400 WHERE sender_id = '{old}'", database="jiebei")
    deleted = cluster.psql_file(ROOT / "deploy" / "retention.sql", days=90)
    assert int(deleted.split()[-1]) >= 1
    left = cluster.psql(
        f"SELECT sender_id, count(*) FROM events WHERE sender_id IN ('{old}', '{recent}') " "GROUP BY 1",
        database="jiebei",
    )
    assert old not in left and recent in left


# --- faults ---------------------------------------------------------------------------------


def test_postgresql_restart_gives_a_polite_error_then_the_conversation_continues(cluster: Cluster) -> None:
    bot, who = cluster.bot(), sender("pg")
    bot.send(who, "借呗有额度为什么借不出来")
    bot.send(who, "没有")
    assert bot.tracker(who)["slots"]["requested_slot"] == "debt_ratio"
    cluster.stop_postgres()
    try:
        # Not a greeting as to a stranger (Rasa's in-memory fallback), not silence, not a 500.
        for client in [bot, bot, cluster.bot(0), cluster.bot(1)]:
            assert texts(client.send(who, "三成")) == BUSY
        assert texts(bot.send(sender("pg-new"), "你好")) == BUSY
    finally:
        cluster.start_postgres()
    for client in [cluster.bot(0), cluster.bot(1)]:  # each replica's pool reconnects
        assert "借呗" in texts(client.send(sender("pg-after"), "你好"))
    reply = texts(bot.send(who, "三成"))
    assert BUSY not in reply
    slots = bot.tracker(who)["slots"]
    assert slots["has_overdue"] is False and slots["debt_ratio"] == 30.0
    assert slots["requested_slot"] not in (None, "debt_ratio", "has_overdue")


def test_redis_restart_gives_a_polite_error_then_the_conversation_continues(cluster: Cluster) -> None:
    bot, who = cluster.bot(), sender("redis")
    bot.send(who, "借呗有额度为什么借不出来")
    cluster.stop_redis()
    try:  # no lock, no turn: two replicas must never work on one conversation unlocked
        assert texts(bot.send(who, "没有")) == BUSY
        assert texts(bot.send(who, "没有")) == BUSY
    finally:
        cluster.start_redis()
    assert BUSY not in texts(bot.send(who, "没有"))
    slots = bot.tracker(who)["slots"]
    assert slots["has_overdue"] is False and slots["requested_slot"] == "debt_ratio"


def test_a_killed_replica_loses_nothing_and_the_other_carries_on(cluster: Cluster) -> None:
    bot, who = cluster.bot(), sender("kill")
    bot.send(who, "借呗有额度为什么借不出来")
    bot.send(who, "没有")
    assert bot.tracker(who)["slots"]["requested_slot"] == "debt_ratio"
    cluster.kill_replica(1)  # SIGKILL between two turns, as a crash or an OOM kill would
    replies = []
    for _ in range(6):  # more turns than replicas: round robin meets the dead one
        slot = bot.tracker(who)["slots"]["requested_slot"]
        if slot is None:
            break
        reply = bot.send(who, {"debt_ratio": "三成", "symptom_days": "就这几天"}.get(slot, "没有"))
        assert BUSY not in texts(reply), slot
        replies.append(reply)
    assert any(advice_payload(reply) for reply in replies), "the diagnosis finished"
    slots = bot.tracker(who)["slots"]
    assert slots["has_overdue"] is False and slots["debt_ratio"] == 30.0, "facts from before the crash kept"
    events = [e["event"] for e in bot.get(f"/conversations/{conversation_key(who)}/tracker")["events"]]
    assert events.count("user") == 2 + len(replies), "every turn stored once"
    # With every replica gone nginx itself still answers REST politely.
    cluster.kill_replica(0)
    assert texts(bot.send(who, "谢谢")) == BUSY
    # Issue 32, point 5: the tracker reads above met the dead replica; nginx logged the failed
    # upstream URL, which held ?token= when nginx put the token there. It never does now.
    with pytest.raises(urllib.error.HTTPError):
        bot.tracker(who)  # every replica down: nginx answers 502 after trying both
    logs = [path.read_text(errors="replace") for path in (cluster.base / "nginx").glob("*.log")]
    assert any("conversations/" in log for log in logs), "nginx logged the tracker requests"
    assert not any(cluster.token in log for log in logs), "the API token is in an nginx log"


def test_no_secret_is_ever_in_a_process_s_arguments(cluster: Cluster, argv_watch: dict) -> None:
    """Issue 32: `ALTER ROLE … PASSWORD '…'` ran as psql's argument, readable in /proc by any
    local user while the cluster started. Watched from before the start until now."""
    watch = argv_watch["watch"]
    assert watch is not None and watch.secrets and watch.scans > 0, "the watch saw the secrets and scanned"
    assert not watch.hits, watch.hits
