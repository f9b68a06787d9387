"""Issue 15: nobody gets in where they don't belong. Each test attacks a running server on
loopback, the way someone on the network or with a leaked address would.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Dict, Optional, Tuple

import pytest

from devtools.local_bot import BIN, LOCAL_ACTION_SECRET, ROOT, Bot, action_server, free_port

SECRET_HEADER = "X-Action-Secret"


def listening_addresses(port: int) -> set[str]:
    """The local addresses a socket LISTENs on for `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


LOOPBACK_V4 = "0100007F"  # 127.0.0.1, little-endian hex as /proc writes it


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def post(url: str, body: bytes, headers: Optional[Dict[str, str]] = None) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def actions_url(tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    with action_server(tmp_path_factory.mktemp("actions"), port):
        yield f"http://127.0.0.1:{port}"


# --- listening addresses ---------------------------------------------------------------------


def test_the_action_server_listens_on_loopback_only(actions_url: str) -> None:
    assert listening_addresses(port_of(actions_url)) == {LOOPBACK_V4}


def test_rasa_listens_on_loopback_only(bot: Bot) -> None:
    assert listening_addresses(port_of(bot.url)) == {LOOPBACK_V4}


@pytest.mark.parametrize("target", ["chat", "run", "web"])
def test_make_starts_everything_on_loopback_unless_told_otherwise(target: str) -> None:
    plan = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True).stdout
    assert "--interface 127.0.0.1" in plan and "devtools.with_servers" in plan
    exposed = subprocess.run(
        ["make", "-n", target, "RASA_INTERFACE=0.0.0.0"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "--interface 0.0.0.0" in exposed


# --- who may call the action server ---------------------------------------------------------

ACTION_CALL = json.dumps(
    {
        "next_action": "action_session_start",
        "sender_id": "attacker",
        "version": "3.6.2",
        "tracker": {"sender_id": "attacker", "slots": {}, "events": [], "latest_message": {}},
        "domain": {},
    }
).encode()


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: LOCAL_ACTION_SECRET + "x"}])
def test_calls_without_the_secret_are_refused(actions_url: str, headers: Dict[str, str]) -> None:
    status, _ = post(f"{actions_url}/webhook", ACTION_CALL, headers)
    assert status == 401
    request = urllib.request.Request(f"{actions_url}/actions", headers=headers)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_the_health_probe_stays_open_and_rasa_s_calls_pass(actions_url: str) -> None:
    with urllib.request.urlopen(f"{actions_url}/health", timeout=10) as answer:
        assert answer.status == 200
    status, body = post(f"{actions_url}/webhook", ACTION_CALL, {SECRET_HEADER: LOCAL_ACTION_SECRET})
    assert status == 200, body


def test_a_deflate_bomb_is_refused_before_it_inflates(actions_url: str) -> None:
    bomb = zlib.compress(b"{" + b" " * (300 * 1024 * 1024) + b"}", 9)  # 300 MB of JSON in about 300 KB
    assert len(bomb) < 1024 * 1024
    status, body = post(
        f"{actions_url}/webhook", bomb, {SECRET_HEADER: LOCAL_ACTION_SECRET, "Content-Encoding": "deflate"}
    )
    assert status == 413, body[:200]
    # The server is still there and still answers.
    assert post(f"{actions_url}/webhook", ACTION_CALL, {SECRET_HEADER: LOCAL_ACTION_SECRET})[0] == 200


def test_a_small_deflated_call_still_works(actions_url: str) -> None:
    status, body = post(
        f"{actions_url}/webhook",
        zlib.compress(ACTION_CALL),
        {SECRET_HEADER: LOCAL_ACTION_SECRET, "Content-Encoding": "deflate"},
    )
    assert status == 200, body


def test_an_oversized_body_is_refused(actions_url: str) -> None:
    status, _ = post(
        f"{actions_url}/webhook", b"{" + b" " * (3 * 1024 * 1024) + b"}", {SECRET_HEADER: LOCAL_ACTION_SECRET}
    )
    assert status == 413


def test_an_error_never_echoes_the_conversation(actions_url: str) -> None:
    marker = "a-debt-fact-that-must-not-leak-7f3a"
    call = json.dumps({"next_action": "action_session_start", "sender_id": marker, "tracker": marker}).encode()
    status, body = post(f"{actions_url}/webhook", call, {SECRET_HEADER: LOCAL_ACTION_SECRET})
    assert status >= 400
    assert marker.encode() not in body


def test_the_action_server_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "ACTION_SERVER_SECRET": ""}
    result = subprocess.run(
        [str(BIN / "python"), "-m", "actions.server", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ACTION_SERVER_SECRET" in result.stderr + result.stdout


# --- PII that used to slip through the guard -------------------------------------------------

PII_FORMS = [
    "我的手机 138.1234.5678 借呗额度没了",
    "电话138  1234  5678",
    "手机号1381 234 5678",
    "138—1234—5678 打我",
    "号码\n138\n1234\n5678",
    "手机一三八一二三四五六七八",
    "身份证110101 1990 0307 1234",
    "卡号622202 1234567890123",
    "邮箱 jiebei.victim(at)qq。com",
    "QQ号 123456789 加我",
    "座机 010-87654321",
]
PII_TRACES = [
    b"1234 5678",
    b"1234.5678",
    b"12345678",
    "一三八一二三".encode(),
    b"0307 1234",
    b"1234567890123",
    b"jiebei.victim",
    b"123456789",
    b"87654321",
]


def stored_bytes(bot: Bot) -> bytes:
    """Everything the SQLite tracker store holds on disk (the database and its journal)."""
    assert bot.workdir is not None
    return b"".join(path.read_bytes() for path in sorted(bot.workdir.glob("tracker.db*")))


def logs_of(bot: Bot) -> bytes:
    assert bot.workdir is not None
    return b"".join(path.read_bytes() for path in sorted(bot.workdir.glob("*.log")))


def test_pii_in_every_form_is_masked_before_it_is_stored(bot: Bot) -> None:
    for number, text in enumerate(PII_FORMS):
        replies = bot.send(f"pii-form-{number}", text)
        assert replies and all("138" not in (reply.get("text") or "") for reply in replies)
        user_texts = [
            event.get("text") or ""
            for event in bot.tracker(f"pii-form-{number}")["events"]
            if event.get("event") == "user"
        ]
        assert user_texts and "〔" in user_texts[-1], (text, user_texts)
    stored = stored_bytes(bot)
    leaked = [trace for trace in PII_TRACES if trace in stored]
    assert not leaked, leaked


def test_a_number_on_the_length_cut_is_masked_whole(bot: Bot) -> None:
    for offset in (495, 499):
        sender = f"pii-cut-{offset}"
        bot.send(sender, "额" * offset + "13987654321" + "度" * 50)
        user = [e for e in bot.tracker(sender)["events"] if e.get("event") == "user"][-1]
        assert not any(char.isdigit() for char in user["text"])
    assert b"139876" not in stored_bytes(bot)


def test_a_sender_id_that_is_a_phone_number_is_not_stored(bot: Bot) -> None:
    replies = bot.send("13755554444", "借呗额度降了")
    assert replies and replies[0]["recipient_id"].startswith("anon-")
    assert b"13755554444" not in stored_bytes(bot)


def test_metadata_is_masked_and_bounded_before_it_is_stored(bot: Bot) -> None:
    body = {
        "sender": "meta-attack",
        "message": "借呗额度降了",
        "metadata": {"phone": "13766667777", "padding": "x" * 50_000},
    }
    bot.post("/webhooks/rest/webhook", body)
    body = {"sender": "meta-small", "message": "你好", "metadata": {"contact": "13766668888", "lang": "zh"}}
    bot.post("/webhooks/rest/webhook", body)
    stored = stored_bytes(bot)
    assert b"13766667777" not in stored and b"x" * 5000 not in stored
    assert b"13766668888" not in stored
    user = [e for e in bot.tracker("meta-small")["events"] if e.get("event") == "user"][-1]
    assert {k: user["metadata"][k] for k in ("contact", "lang")} == {"contact": "〔手机号〕", "lang": "zh"}


def test_a_slash_message_is_cut_masked_and_never_logged_as_an_intent(bot: Bot) -> None:
    marker = "无此意图" + "标" * 600
    replies = bot.send("slash-attack", "/" + marker)
    assert replies
    user = [e for e in bot.tracker("slash-attack")["events"] if e.get("event") == "user"][-1]
    assert len(user["text"]) <= 500 and not user["text"].startswith("/")
    assert "无此意图".encode() not in logs_of(bot)


# --- WeChat: a leaked signed URL is good for one message, for five minutes -------------------


def wechat_post(bot: Bot, timestamp: int, nonce: str, openid: str, content: str) -> int:
    import hashlib
    import time
    import urllib.parse
    import uuid

    from tests.conftest import WECHAT_TEST_TOKEN

    signature = hashlib.sha1("".join(sorted([WECHAT_TEST_TOKEN, str(timestamp), nonce])).encode()).hexdigest()
    query = urllib.parse.urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce})
    body = (
        f"<xml><ToUserName>gh_jiebei</ToUserName><FromUserName>{openid}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>text</MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>"
    ).encode()
    return post(f"{bot.url}/webhooks/wechat/webhook?{query}", body, {"Content-Type": "text/xml"})[0]


def test_a_stale_signed_wechat_url_is_refused(bot: Bot) -> None:
    import time

    assert wechat_post(bot, int(time.time()) - 3600, "stale-nonce-1", "o_attacker_1", "你好") == 403


def test_a_replayed_wechat_url_cannot_post_as_someone_else(bot: Bot) -> None:
    import time

    now = int(time.time())
    assert wechat_post(bot, now, "replay-nonce-1", "o_real_user_1", "你好") == 200
    assert wechat_post(bot, now, "replay-nonce-1", "o_victim_user_1", "我要注销账户") == 403
    assert b"o_victim_user_1" not in stored_bytes(bot)


# --- files: owner-only, and a store that cannot be written is not silently forgotten ---------


def test_the_tracker_store_and_the_logs_are_owner_only(bot: Bot) -> None:
    bot.send("file-modes", "你好")
    assert bot.workdir is not None
    files = [*bot.workdir.glob("tracker.db*"), *bot.workdir.glob("*.log")]
    assert any(path.name == "tracker.db" for path in files)
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in files}
    assert set(modes.values()) == {"0o600"}, modes


def test_make_chat_and_run_write_var_owner_only(tmp_path: Path) -> None:
    """The supervisor of make chat/run/web gives its servers and the command umask 077, and
    stops the action server when the command ends."""
    port = free_port()
    probe = f"umask; curl -s -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{port}/health"
    result = subprocess.run(
        [str(BIN / "python"), "-m", "devtools.with_servers", "--actions", str(port), "--", "sh", "-c", probe],
        cwd=ROOT,
        env={**os.environ, "ACTION_SERVER_SECRET": "test-secret"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.split() == ["0077", "200"], result.stderr
    assert listening_addresses(port) == set()


def test_a_tracker_store_that_cannot_be_read_fails_the_turn_instead_of_forgetting(
    trained_model: Path, tmp_path: Path
) -> None:
    from devtools.local_bot import running_bot

    with running_bot(tmp_path, trained_model) as own_bot:
        first = own_bot.send("store-broken", "借呗额度降了")
        assert first
        busy = yaml_text("busy")
        (tmp_path / "tracker.db").write_bytes(b"\0" * 4096)  # the same file, now unreadable
        replies = own_bot.send("store-broken", "没有逾期")
        assert [reply.get("text") for reply in replies] == [busy]


def yaml_text(key: str) -> str:
    from channels.guard_texts import guard_text

    return guard_text(key)


# --- tokens: not in argv, not printed when chosen, not in nginx's logs ------------------------


def command_lines() -> str:
    found = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            found.append(path.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return "\n".join(found)


def test_the_api_token_is_in_no_process_arguments(bot: Bot) -> None:
    assert bot.get("/status")["model_id"]  # the token works ...
    lines = command_lines()
    assert "runtime.rasa_run" in lines  # ... and the bot runs through the launcher
    assert bot.token not in lines


def test_the_launcher_refuses_an_open_api_and_a_token_in_argv() -> None:
    from runtime.rasa_run import rasa_arguments

    assert rasa_arguments(["--enable-api"], "t0k") == ["rasa", "run", "--enable-api", "--auth-token", "t0k"]
    assert rasa_arguments(["--port", "5005"], None) == ["rasa", "run", "--port", "5005"]
    for argv, token in (
        (["--enable-api"], None),
        (["--enable-api", "--auth-token", "x"], None),
        (["--auth-token=x"], "t0k"),
    ):
        with pytest.raises(SystemExit):
            rasa_arguments(argv, token)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [str(BIN / "python"), "-m", "runtime.rasa_run", "--enable-api"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "RASA_TOKEN" in result.stderr


def test_make_run_neither_prints_nor_exposes_a_chosen_token(trained_model: Path) -> None:
    import os
    import signal
    import time

    token, rasa_port, action_port = "chosen-token-" + LOCAL_ACTION_SECRET[:8], free_port(), free_port()
    process = subprocess.Popen(
        ["make", "-s", "run", f"RASA_PORT={rasa_port}", f"ACTION_PORT={action_port}"],
        cwd=ROOT,
        env={**os.environ, "RASA_TOKEN": token},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{rasa_port}/status?token={token}", timeout=5) as up:
                    if up.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)  # polling the port until the model has loaded
        else:
            pytest.fail("make run did not come up")
        assert token not in command_lines()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=60)[0].decode(errors="replace")
    assert token not in output
    assert "HTTP API token (generated" not in output


# --- socket.io: origin, connection cap, nobody joins another's conversation ------------------


def socketio_client():
    import socketio

    return socketio.AsyncClient(reconnection=False)


async def open_session(bot: Bot, requested: Optional[str] = None, headers: Optional[Dict[str, str]] = None):
    """A connected client, the signed session id it was given, and the bot messages it gets."""
    import asyncio

    client, confirmed, received = socketio_client(), asyncio.Event(), []
    tokens: list = []

    @client.on("session_confirm")
    async def on_confirm(token):
        tokens.append(token)
        confirmed.set()

    @client.on("bot_uttered")
    async def on_bot(data):
        received.append(data)

    await client.connect(bot.url, transports=["polling"], headers=headers or {}, wait_timeout=10)
    await client.emit("session_request", {"session_id": requested})
    await asyncio.wait_for(confirmed.wait(), timeout=10)
    return client, tokens[0], received


async def until(condition, timeout: float = 20.0) -> None:
    import asyncio

    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout)


@pytest.mark.asyncio
async def test_a_page_of_another_origin_cannot_connect(bot: Bot) -> None:
    import socketio

    with pytest.raises(socketio.exceptions.ConnectionError):
        await socketio_client().connect(
            bot.url, transports=["polling"], headers={"Origin": "https://evil.example"}, wait_timeout=10
        )
    client, token, _ = await open_session(bot, headers={"Origin": bot.url})  # the bot's own origin
    assert token.count(".") == 1
    await client.disconnect()


@pytest.mark.asyncio
async def test_nobody_joins_a_conversation_by_knowing_its_id(bot: Bot) -> None:
    from channels.guard_texts import guard_text

    victim, victim_token, victim_got = await open_session(bot)
    conversation = victim_token.split(".")[0]
    attacker, attacker_token, attacker_got = await open_session(bot, requested=conversation)
    try:
        assert attacker_token.split(".")[0] != conversation  # a new conversation, not the victim's
        await victim.emit("user_uttered", {"message": "怎么查征信", "session_id": victim_token})
        await until(lambda: any("征信" in (m.get("text") or "") for m in victim_got))
        await attacker.emit("user_uttered", {"message": "我的情况", "session_id": conversation})
        await attacker.emit("user_uttered", {"message": "我的情况", "session_id": victim_token})  # not joined
        await until(lambda: len(attacker_got) >= 2)
        assert [m["text"] for m in attacker_got] == [guard_text("session_invalid")] * 2
        assert not any("征信" in (m.get("text") or "") for m in attacker_got)
    finally:
        await victim.disconnect()
        await attacker.disconnect()
    # The signed id continues the same conversation on a new connection (a reloaded page).
    again, token, _ = await open_session(bot, requested=victim_token)
    assert token == victim_token
    await again.disconnect()


@pytest.mark.asyncio
async def test_connections_from_one_address_are_capped(bot: Bot) -> None:
    import socketio

    from channels.webchat import MAX_CONNECTIONS_PER_ADDRESS

    clients = []
    try:
        for _ in range(MAX_CONNECTIONS_PER_ADDRESS):
            client = socketio_client()
            await client.connect(bot.url, transports=["polling"], wait_timeout=10)
            clients.append(client)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await socketio_client().connect(bot.url, transports=["polling"], wait_timeout=10)
    finally:
        for client in clients:
            await client.disconnect()
    import asyncio

    client = socketio_client()  # the slots are free again once those have left
    for _ in range(100):  # the server forgets them as their disconnects arrive
        try:
            await client.connect(bot.url, transports=["polling"], wait_timeout=10)
            break
        except socketio.exceptions.ConnectionError:
            await asyncio.sleep(0.1)
    assert client.connected
    await client.disconnect()


# --- issue 32, points 4 and 7, against the running bot ---------------------------------------------


def test_the_masker_s_missed_forms_never_reach_the_store(bot: Bot) -> None:
    """Random forms of one number each (Unicode dashes and spaces, the katakana mark, full-width
    digits, traditional spelled digits, a JSON-escaped payload) sent over REST: none of its
    digits is stored in clear, in the texts or in the entities of the payload."""
    import random
    import uuid

    rng = random.Random(3232)
    digits = "1" + str(rng.choice("3456789")) + "".join(str(rng.randint(0, 9)) for _ in range(9))
    separators = ["\u2014\u2014", "--", "\ufe63", "\u301c", "\u2e3a", "\u2007", "\u2009", "\u202f", "\u2003", "ー"]
    forms = [digits[:3] + sep + digits[3:7] + sep + digits[7:] for sep in separators]
    forms.append("".join(chr(ord(d) + 0xFEE0) for d in digits[:3]) + "ー" + digits[3:7] + "ー" + digits[7:])
    forms.append("".join("零壹貳參肆伍陸柒捌玖"[int(d)] for d in digits))
    sender = f"pii-{uuid.uuid4().hex[:8]}"
    for form in forms:
        bot.send(sender, f"我的号码{form}")
    escaped = "".join(f"\\u{ord(d):04x}" for d in digits)
    bot.send(sender, '/inform{"product": "' + escaped + '"}')
    stored = stored_bytes(bot)
    assert digits.encode() not in stored
    for form in forms:
        assert form.encode("utf-8") not in stored, form


def test_a_phone_number_as_input_channel_is_refused(bot: Bot) -> None:
    request = urllib.request.Request(
        f"{bot.url}/webhooks/rest/webhook",
        data=json.dumps({"sender": "ch", "message": "你好", "input_channel": "13812345678"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert b"13812345678" not in stored_bytes(bot)


@pytest.mark.parametrize(
    "payload",
    ['/inform{"debt_ratio": 1e309}', '/inform{"debt_ratio": NaN}', '/inform{"x": ' + "[" * 700 + "]" * 700 + "}"],
    ids=["inf", "nan", "700-deep"],
)
def test_a_deep_or_non_finite_payload_is_answered_and_never_said_back(bot: Bot, payload: str) -> None:
    import uuid

    replies = bot.send(f"odd-{uuid.uuid4().hex[:8]}", payload)
    said = " ".join(m.get("text") or "" for m in replies)
    assert said and "inf" not in said.lower() and "nan" not in said.lower(), said
