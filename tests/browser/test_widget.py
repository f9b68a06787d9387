"""The web widget in a real browser: Debian's Chromium (driven by Playwright) opens the page
served by devtools/serve_web.py, talks to a running bot over socket.io, and a person's way
through a diagnosis is checked on screen.

Run with `make test-browser` (pytest -m browser); the normal `pytest tests` skips it.
Screenshots: tests/output/browser/.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple
from urllib.parse import urlsplit

import pytest
import yaml
from playwright.sync_api import Browser, Page, sync_playwright

from advisor.knowledge import load_advice_knowledge, load_conversation_texts
from advisor.render import step_text
from devtools import build_web, serve_web
from devtools.local_bot import ROOT, Bot, free_port, running_bot

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUTPUT = ROOT / "tests" / "output" / "browser"
TIMEOUT_MS = 60_000

OPENING = "借呗有额度为什么借不出来"
# How this user answers each diagnosis question: click a quick reply, or type.
ANSWERS: Dict[str, Tuple[str, str]] = {
    "has_overdue": ("click", "没有"),
    "overdue_days": ("type", "十天"),
    "debt_ratio": ("type", "三成"),
    "recent_applications": ("click", "有"),
    "abnormal_transactions": ("click", "不清楚"),
    "security_issue": ("click", "没有"),
    "account_inactive": ("click", "不清楚"),
    "recent_events": ("click", "以上都没有"),
    "symptom_days": ("click", "就这几天"),
}
HTML_INPUT = "<img src=x onerror=alert(1)>"

# Collects Content-Security-Policy violations in the page.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""

# The state of the conversation once the bot's turn is over (all its messages shown, no
# typing indicator, the newest message is the bot's), else null. Arguments: the number
# of messages and cards before the user's message, and the known question texts.
BOT_TURN_OVER = """
({before, cardsBefore, questions}) => {
  const box = document.querySelector('.rw-messages-container');
  if (!box || box.querySelector('.rw-typing-indication')) return null;
  const messages = box.querySelectorAll('.rw-message');
  if (messages.length < before + 2) return null;
  const groups = box.querySelectorAll('.rw-group-message');
  const last = groups[groups.length - 1];
  if (!last || !last.classList.contains('rw-from-response')) return null;
  const lastMessage = messages[messages.length - 1];
  const text = lastMessage.innerText.replace(/\\s+/g, '');
  const replies = Array.from(lastMessage.querySelectorAll('.rw-replies .rw-reply')).map((r) => r.innerText.trim());
  const cards = box.querySelectorAll('.advice-card').length;
  if (cards > cardsBefore) return {kind: 'advice', replies};
  for (const [slot, question] of questions) {
    if (text.includes(question)) return {kind: 'question', slot, replies};
  }
  return {kind: 'other', text, replies};
}
"""


def question_texts() -> List[Tuple[str, str]]:
    """(slot, question text without spaces) for every way the bot asks a diagnosis slot."""
    found: List[Tuple[str, str]] = []
    diagnosis = yaml.safe_load((ROOT / "knowledge" / "diagnosis.yml").read_text(encoding="utf-8")) or {}
    for slot, question in (diagnosis.get("questions") or {}).items():
        found.append((slot, question["text"] if isinstance(question, dict) else question))
    recent = diagnosis.get("recent_events") or {}
    found += [("recent_events", recent["text"]), ("recent_events", recent["reask"])]
    for section in ("reask", "invalid"):
        for slot, entry in (diagnosis.get(section) or {}).items():
            found.append((slot, entry["text"] if isinstance(entry, dict) else entry))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8")) or {}
    for name, variants in (domain.get("responses") or {}).items():
        if name.startswith("utter_ask_") and name[len("utter_ask_") :] in ANSWERS:
            found += [(name[len("utter_ask_") :], variant["text"]) for variant in variants if variant.get("text")]
    return [(slot, "".join(str(text).split())) for slot, text in found if text]


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def web_bot(trained_model: Path, web_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    """The bot, accepting cross-origin requests from the page's origin only."""
    with running_bot(
        tmp_path_factory.mktemp("web-bot"),
        trained_model,
        extra_args=["--cors", f"http://localhost:{web_port}"],
        extra_env={"WEBCHAT_ALLOWED_ORIGINS": f"http://localhost:{web_port}"},
    ) as bot:
        yield bot


@pytest.fixture(scope="module")
def bot_url(web_bot: Bot) -> str:
    return f"http://localhost:{urlsplit(web_bot.url).port}"


@pytest.fixture(scope="module")
def page_url(web_port: int, bot_url: str) -> Iterator[str]:
    """devtools/serve_web.py on the page's port, with freshly built assets."""
    build_web.build_vendor()
    build_web.build_labels()
    server = serve_web.make_server(web_port, bot_url, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{web_port}/?socketUrl={bot_url}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watch:
    """What the page did besides drawing: dialogs, requests leaving this machine's servers."""

    def __init__(self, page: Page, allowed_origins: List[str]) -> None:
        self.dialogs: List[str] = []
        self.foreign_requests: List[str] = []
        self.errors: List[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("request", lambda request: self._on_request(request.url, allowed_origins))
        page.add_init_script(CSP_WATCH)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _on_request(self, url: str, allowed_origins: List[str]) -> None:
        if not url.startswith(("data:", "blob:")) and not any(
            url.startswith(origin + "/") for origin in allowed_origins
        ):
            self.foreign_requests.append(url)


# A desktop window and a phone's screen (most people open the page on a phone).
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(VIEWPORTS))
def page(browser: Browser, page_url: str, bot_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    phone = request.param == "phone"
    context = browser.new_context(viewport=VIEWPORTS[request.param], locale="zh-CN", is_mobile=phone, has_touch=phone)
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    opened.watch = Watch(opened, [f"http://localhost:{urlsplit(page_url).port}", bot_url])  # type: ignore[attr-defined]
    yield opened
    OUTPUT.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(OUTPUT / f"{request.node.name}-last.png"))
    context.close()


# --- helpers -------------------------------------------------------------------------------


def open_widget(page: Page, url: str) -> None:
    """Opens the page and the widget, and waits for the greeting (the widget's init payload)."""
    page.goto(url)
    # The chat is open on load: no launcher to find first.
    page.locator(".rw-new-message").wait_for(state="visible")
    assert page.locator(".rw-launcher").count() == 0
    page.locator(".rw-messages-container .rw-message").last.locator(".rw-replies .rw-reply").first.wait_for(
        state="visible"
    )
    page.wait_for_function("() => !document.querySelector('.rw-typing-indication')")


def counts(page: Page) -> Dict[str, int]:
    return {
        "before": page.locator(".rw-messages-container .rw-message").count(),
        "cardsBefore": page.locator(".rw-messages-container .advice-card").count(),
    }


def wait_for_bot_turn(page: Page, before: Dict[str, int], questions: List[Tuple[str, str]]) -> Dict[str, Any]:
    handle = page.wait_for_function(BOT_TURN_OVER, arg={**before, "questions": questions}, timeout=TIMEOUT_MS)
    return handle.json_value()


def type_message(page: Page, text: str) -> None:
    box = page.locator(".rw-new-message")
    box.fill(text)
    box.press("Enter")


def click_quick_reply(page: Page, title: str) -> None:
    last = page.locator(".rw-messages-container .rw-message").last
    last.locator(".rw-replies .rw-reply").get_by_text(title, exact=True).click()


def client_texts(page: Page) -> List[str]:
    return [text.strip() for text in page.locator(".rw-messages-container .rw-client").all_inner_texts()]


def session_id(page: Page) -> str:
    return page.evaluate("JSON.parse(localStorage.getItem('chat_session') || '{}').session_id || ''")


def assert_page_clean(page: Page) -> None:
    watch: Watch = page.watch  # type: ignore[attr-defined]
    assert watch.dialogs == [], "a dialog opened"
    assert watch.errors == [], f"script errors: {watch.errors}"
    assert watch.foreign_requests == [], f"requests outside the page and the bot: {watch.foreign_requests}"
    assert page.evaluate("window.__cspViolations") == [], "Content-Security-Policy violations"


def advice_payload(bot: Bot, sender: str) -> Dict[str, Any]:
    for event in reversed(bot.tracker(sender, rest=False)["events"]):  # a socket.io conversation
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        if isinstance(custom, dict) and "advice" in custom:
            return custom["advice"]
    raise AssertionError("the bot sent no advice payload")


def feedback_slot(bot: Bot, sender: str, timeout_s: float = 10.0) -> Any:
    """The advice_feedback slot once the turn is stored (socket.io saves just after replying)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = bot.tracker(sender, rest=False)["slots"].get("advice_feedback")
        if value is not None or time.monotonic() > deadline:
            return value
        time.sleep(0.1)  # between two looks at the store


# --- tests -----------------------------------------------------------------------------------


def test_diagnosis_ends_in_an_advice_card_that_survives_a_reload(page: Page, page_url: str, web_bot: Bot) -> None:
    questions = question_texts()
    open_widget(page, page_url)

    before = counts(page)
    type_message(page, OPENING)
    asked: List[str] = []
    for _ in range(len(ANSWERS) + 2):
        state = wait_for_bot_turn(page, before, questions)
        if state["kind"] == "advice":
            break
        assert state["kind"] == "question", f"expected a diagnosis question after {asked}, got {state}"
        asked.append(state["slot"])
        how, answer = ANSWERS[state["slot"]]
        before = counts(page)
        if how == "click":
            assert answer in state["replies"], f"{state['slot']}: no quick reply {answer!r} in {state['replies']}"
            click_quick_reply(page, answer)
        else:
            type_message(page, answer)
    else:
        pytest.fail(f"no advice card after {asked}")
    assert asked, "the bot gave advice without asking anything"
    assert any(ANSWERS[slot][0] == "click" for slot in asked), f"no quick reply was clicked ({asked})"

    card = page.locator(".advice-card").last
    steps = card.locator(".advice-steps li")
    assert steps.count() >= 1
    assert card.locator(".advice-step-number").first.inner_text() == "1"
    assert card.locator(".advice-reasons li").count() >= 1
    # The card shows exactly the payload the bot sent, with Chinese titles (no raw codes).
    signed = session_id(page)  # "<conversation>.<signature>", issued by the bot (channels/webchat.py)
    sender = signed.split(".")[0]
    payload = advice_payload(web_bot, sender)
    assert steps.evaluate_all("items => items.map(li => li.dataset.code)") == payload["steps"]
    labels = build_web.advice_labels()
    # In the wording of the user's situation, as the text channels have it (advisor/render.py).
    assert steps.locator(".advice-step-title").all_inner_texts() == [
        step_text(code, payload["wording"].get(code, payload["situation"]))["title"] for code in payload["steps"]
    ]
    assert card.locator(".advice-card-heading").inner_text() == labels["topics"][payload["topic"]]
    # The advice is shown once: the card, beside a one-line text (no list of reasons or steps).
    card_message = page.locator(".rw-messages-container .rw-message").filter(has=page.locator(".advice-card")).last
    bot_lines = page.locator(".rw-messages-container .rw-response .rw-message-text").all_inner_texts()
    render = labels["render"]
    assert not [
        text for text in bot_lines if render["steps_header"] in text or render["reasons_header"] in text
    ], bot_lines
    # Each step opens on a tap to what to do.
    first_step = steps.first
    first_step.locator("summary").click()
    detail = first_step.locator(".advice-step-detail")
    detail.wait_for(state="visible")
    assert (
        detail.inner_text().strip()
        == step_text(payload["steps"][0], payload["wording"].get(payload["steps"][0], payload["situation"]))[
            "detail"
        ].strip()
    )
    size = "phone" if (page.viewport_size or {}).get("width", 0) < 600 else "desktop"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    card_message.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / f"advice-card-{size}.png"))
    card.screenshot(path=str(OUTPUT / f"advice-card-only-{size}.png"))
    # On a phone the chat fills the screen's width.
    if size == "phone":
        box = page.locator(".rw-conversation-container").bounding_box()
        assert box and box["width"] >= 0.9 * 390, box

    # 👍 / 👎 under the advice: a tap on 👎 is answered and kept in the tracker (make review reads it).
    page.locator(".rw-replies .rw-reply").get_by_text("👎 没帮助", exact=True).last.click()
    sorry = load_conversation_texts()["feedback_unhelpful"]["text"].strip()
    page.locator(".rw-response .rw-message-text").filter(has_text=sorry[:10]).last.wait_for(state="visible")
    assert feedback_slot(web_bot, sender) == {"helpful": False, "topic": payload["topic"]}

    # A follow-up question is answered in text, its answer first; the card is not sent again.
    cards = page.locator(".advice-card").count()
    knowledge = load_advice_knowledge()
    reason = knowledge["reasons"][payload["reasons"][0]]["title"] if payload["reasons"] else ""
    answer = knowledge["answers"]["restore_limit"][payload["situation"]].format(reason=reason)
    type_message(page, "还能恢复吗")
    page.wait_for_function(
        """(answer) => [...document.querySelectorAll('.rw-response .rw-message-text')]
            .some((e) => e.innerText.trim().startsWith(answer))""",
        arg=answer,
        timeout=TIMEOUT_MS,
    )
    assert page.locator(".advice-card").count() == cards

    conversation = client_texts(page)
    assert conversation[0] == OPENING
    message_count = page.locator(".rw-messages-container .rw-message").count()

    page.reload()
    page.locator(".advice-card .advice-steps li").first.wait_for(state="visible")
    assert client_texts(page) == conversation
    assert page.locator(".rw-messages-container .rw-message").count() == message_count
    assert session_id(page) == signed, "the socket.io session changed on reload"
    page.locator(".advice-card").last.scroll_into_view_if_needed()
    page.screenshot(path=str(OUTPUT / f"after-reload-{size}.png"))
    assert_page_clean(page)


def test_html_typed_by_the_user_is_shown_as_text(page: Page, page_url: str) -> None:
    questions = question_texts()
    open_widget(page, page_url)

    before = counts(page)
    type_message(page, HTML_INPUT)
    wait_for_bot_turn(page, before, questions)

    assert client_texts(page)[-1] == HTML_INPUT
    messages = page.locator(".rw-messages-container")
    assert messages.locator("img[src='x']").count() == 0
    assert messages.locator("img").count() == 0
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "html-as-text.png"))

    # 重新开始 forgets the browser's copy and opens a new session with a new greeting.
    signed = session_id(page)
    assert signed
    page.get_by_role("button", name="重新开始").click()
    page.wait_for_function(
        "(old) => { const s = JSON.parse(localStorage.getItem('chat_session') || '{}'); "
        "return s.session_id && s.session_id !== old; }",
        arg=signed,
    )
    page.locator(".rw-messages-container .rw-message").last.locator(".rw-replies .rw-reply").first.wait_for(
        state="visible"
    )
    assert client_texts(page) == []
    assert HTML_INPUT not in page.evaluate("localStorage.getItem('chat_session') || ''")
    assert_page_clean(page)
