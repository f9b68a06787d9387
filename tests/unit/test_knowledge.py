"""The knowledge files: contract coverage, structure, and no copied article text."""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from advisor import contract, engine, knowledge
from advisor.knowledge import (
    KnowledgeError,
    load_advice_knowledge,
    load_diagnosis_config,
    load_faq,
    load_intent_labels,
)
from runtime.paths import ROOT as REPO

ARTICLES = [
    REPO.parent / "shared" / "seeds" / name for name in ("000_e2b15d78ddd105c0.txt", "003_dff69c9388615a81.txt")
]
COPY_RUN = 20

# The names in ../shared/CONTRACT.md, written out so a change to advisor/contract.py shows up.
SPEC_REASONS = {
    "overdue",
    "credit_report",
    "high_debt",
    "multi_loan",
    "inactive_account",
    "abnormal_activity",
    "account_security",
    "risk_control",
    "observation_period",
}
SPEC_STEPS = {
    "repay_on_time",
    "check_credit_report",
    "reduce_debt",
    "keep_active",
    "secure_account",
    "update_profile",
    "wait_and_retry",
    "appeal_support",
    "alternatives",
}
SPEC_SLOTS = {
    "has_overdue",
    "overdue_days",
    "debt_ratio",
    "recent_applications",
    "account_inactive",
    "abnormal_transactions",
    "security_issue",
}
SPEC_TOPICS = {"cannot_borrow", "limit_dropped", "restore_limit", "limit_closed", "increase_limit"}
NOT_LABELLED = {"affirm", "deny", "dont_know", "inform", "out_of_scope", "feedback"}  # never suggested by the fallback

FAQ_INTENTS = [
    "ask_credit_report",
    "ask_debt_ratio",
    "ask_alternatives",
    "ask_when_retry",
    "ask_submit_proof",
    "ask_appeal",
    "request_human",
    "ask_increase_limit",
    "ask_boost_service",
]
INTRO_INTENTS = ["ask_limit_dropped", "ask_restore_limit", "ask_cannot_borrow", "ask_limit_closed"]


def test_contract_module_matches_spec() -> None:
    assert set(contract.REASONS) == SPEC_REASONS
    assert set(contract.STEPS) == SPEC_STEPS
    assert set(contract.SLOTS) == SPEC_SLOTS
    assert set(contract.BOOL_SLOTS) | set(contract.NUMERIC_SLOTS) == SPEC_SLOTS
    assert set(contract.TOPICS) == SPEC_TOPICS


@pytest.mark.parametrize("kind, codes", [("reasons", SPEC_REASONS), ("steps", SPEC_STEPS)])
def test_contract_codes_present_with_title_and_sources(kind: str, codes: set) -> None:
    entries = load_advice_knowledge()[kind]
    assert codes <= set(entries)
    for code, entry in entries.items():
        assert entry["title"].strip(), code
        assert entry["sources"] and set(entry["sources"]) <= {"A", "B"}, code


def test_both_articles_are_used() -> None:
    knowledge_ = load_advice_knowledge()
    used = {s for kind in ("reasons", "steps") for entry in knowledge_[kind].values() for s in entry["sources"]}
    assert used == {"A", "B"}


def test_topics_named() -> None:
    assert set(load_advice_knowledge()["topics"]) == SPEC_TOPICS | set(contract.ADDED_TOPICS)


def test_engine_tables_match_yaml() -> None:
    knowledge_ = load_advice_knowledge()
    assert set(engine.REMEDIES) == set(knowledge_["reasons"])
    assert set(engine.STEP_ORDER) == set(knowledge_["steps"])
    remedies = {step for steps in engine.REMEDIES.values() for step in steps}
    assert remedies <= set(knowledge_["steps"])
    assert set(engine.TOPIC_REASON_FACTOR) == SPEC_TOPICS | set(contract.ADDED_TOPICS)


@pytest.mark.parametrize("intent", FAQ_INTENTS + INTRO_INTENTS)
def test_faq_entry_shape(intent: str) -> None:
    entry = load_faq()[intent]
    assert entry["text"].strip()
    assert isinstance(entry["buttons"], list) and len(entry["buttons"]) <= 3
    assert set(entry["sources"]) <= {"A", "B"}


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_faq_answers_are_sourced_and_sized(intent: str) -> None:
    entry = load_faq()[intent]
    assert entry["sources"]
    assert 3 <= len(entry["text"].strip().splitlines()) <= 8
    assert not entry.get("intro")


@pytest.mark.parametrize("intent", INTRO_INTENTS)
def test_intros_are_short(intent: str) -> None:
    entry = load_faq()[intent]
    assert entry["intro"] is True
    assert entry["sources"]
    assert 2 <= len(entry["text"].strip().splitlines()) <= 3


DOMAIN_RESPONSES = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["responses"]


def test_greet_offers_three_examples() -> None:
    assert len(DOMAIN_RESPONSES["utter_greet"][0]["buttons"]) == 3


@pytest.mark.parametrize(
    "intent, needle", [("request_human", "95188"), ("request_human", "我的客服"), ("ask_boost_service", "骗")]
)
def test_safety_facts_present(intent: str, needle: str) -> None:
    assert needle in load_faq()[intent]["text"]


@pytest.mark.parametrize("response, needle", [("utter_bot_challenge", "不是真人"), ("utter_bot_challenge", "95188")])
def test_conversation_safety_facts_present(response: str, needle: str) -> None:
    assert needle in DOMAIN_RESPONSES[response][0]["text"]


@pytest.mark.parametrize("needle", ["验证码", "密码", "蚂蚁集团", "支付宝"])
def test_disclaimer_says_what_the_bot_is_not(needle: str) -> None:
    assert needle in knowledge.load_conversation_texts()["disclaimer"]["text"]


def _all_buttons() -> Iterator[tuple[str, dict]]:
    for key, entry in load_faq().items():
        for button in entry["buttons"]:
            yield f"faq:{key}", button
    advice = load_advice_knowledge()
    for code, entry in advice["reasons"].items():
        yield f"reason:{code}", entry["followup"]
    for button in advice["default_followups"]:
        yield "default_followups", button
    for button in load_diagnosis_config()["texts"]["topic_buttons"]:
        yield "diagnosis:topic_buttons", button


@pytest.mark.parametrize("where, button", list(_all_buttons()))
def test_button_payloads_are_contract_intents(where: str, button: dict) -> None:
    assert button["title"].strip(), where
    assert button["payload"].startswith("/"), where
    assert button["payload"][1:] in contract.INTENTS, where


def test_intent_labels_cover_needed_intents() -> None:
    labels = load_intent_labels()
    needed = set(contract.INTENTS) - NOT_LABELLED
    assert needed <= set(labels)
    assert all(label.strip() for label in labels.values())


@pytest.mark.parametrize("topic", sorted(SPEC_TOPICS))
def test_diagnosis_order_covers_every_contract_slot_once(topic: str) -> None:
    config = load_diagnosis_config()
    order = config["order"][topic]
    assert len(order) == len(set(order)) and order[0] == "has_overdue"
    covered = set(order) | (
        {o["slot"] for o in config["recent_events"]["options"]} if "recent_events" in order else set()
    )
    if topic != "increase_limit":
        assert SPEC_SLOTS <= covered


def test_diagnosis_texts() -> None:
    config = load_diagnosis_config()
    assert config["max_questions"] == 6
    assert set(config["reask"]) == SPEC_SLOTS | {"credit_report_issue", "symptom_days"}
    assert all(text.strip() for text in config["reask"].values())
    assert {slot: (rule["min"], rule["max"]) for slot, rule in config["invalid"].items()} == {
        "debt_ratio": (0, 100),
        "overdue_days": (0, 3650),
        "symptom_days": (0, 3650),
    }
    assert all(config["texts"][key].strip() for key in knowledge.DIAGNOSIS_TEXTS)
    topics = {button["payload"] for button in config["texts"]["topic_buttons"]}
    assert topics == {
        "/ask_cannot_borrow",
        "/ask_limit_dropped",
        "/ask_limit_closed",
        "/ask_restore_limit",
        "/ask_increase_limit",
    }


def _normalise(text: str) -> str:
    """Only letters and digits (CJK included): whitespace and punctuation removed."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _article_runs() -> set[str]:
    runs: set[str] = set()
    for path in ARTICLES:
        text = _normalise(path.read_text(encoding="utf-8"))
        runs.update(text[i : i + COPY_RUN] for i in range(len(text) - COPY_RUN + 1))
    return runs


def _copied(text: str, runs: set[str]) -> list[str]:
    clean = _normalise(text)
    return [clean[i : i + COPY_RUN] for i in range(len(clean) - COPY_RUN + 1) if clean[i : i + COPY_RUN] in runs]


def test_source_articles_are_beside_the_project() -> None:
    assert all(p.exists() for p in ARTICLES), "../shared/seeds/ is needed to check for copied sentences"


@pytest.mark.parametrize("name", ["faq.yml", "advice.yml", "diagnosis.yml", "intent_labels.yml"])
def test_no_article_sentence_copied(name: str) -> None:
    import yaml

    runs = _article_runs()
    data = yaml.safe_load((knowledge.KNOWLEDGE_DIR / name).read_text(encoding="utf-8"))
    copied = [run for text in _strings(data) for run in _copied(text, runs)]
    assert not copied


def test_copy_check_catches_a_copied_sentence() -> None:
    runs = _article_runs()
    sentence = re.split(r"[。\n]", ARTICLES[1].read_text(encoding="utf-8"))
    longest = max(sentence, key=len)
    assert _copied("转述：" + longest.replace("，", " , "), runs)


@pytest.mark.parametrize(
    "name, content",
    [
        ("faq.yml", "- just a list\n"),
        ("faq.yml", "greet: {text: '', buttons: [], sources: []}\n"),
        ("faq.yml", "greet: {text: hi, buttons: [{title: x, payload: no_slash}], sources: []}\n"),
        ("faq.yml", "greet: {text: hi, buttons: [], sources: [C]}\n"),
        ("intent_labels.yml", "greet: [1, 2]\n"),
        ("diagnosis.yml", "max_questions: 4\norder: {}\n"),
        ("advice.yml", "topics: {}\n"),
        ("faq.yml", "greet: {text: 'unclosed\n"),
    ],
)
def test_malformed_file_raises_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    monkeypatch.setattr(knowledge, "KNOWLEDGE_DIR", tmp_path)
    loaders = (load_faq, load_advice_knowledge, load_diagnosis_config, load_intent_labels)
    for loader in loaders:
        loader.cache_clear()
    try:
        loader = {
            "faq.yml": load_faq,
            "advice.yml": load_advice_knowledge,
            "diagnosis.yml": load_diagnosis_config,
            "intent_labels.yml": load_intent_labels,
        }[name]
        with pytest.raises(KnowledgeError, match=name.split(".")[0]):
            loader()
    finally:
        for loader in loaders:
            loader.cache_clear()


# --- one loader, one text per meaning ------------------------------------------------------

CODE_FOLDERS = ("actions", "advisor", "channels", "components", "stores", "quality", "devtools", "deploy", "runtime")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _string_constants(tree: ast.Module) -> list[tuple[int, str]]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_a_situation_case_about_an_unknown_reason_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = yaml.safe_load((knowledge.KNOWLEDGE_DIR / "advice.yml").read_text(encoding="utf-8"))
    data["situations"]["long_path"]["case_for"] = ["no_such_reason"]
    (tmp_path / "advice.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(knowledge, "KNOWLEDGE_DIR", tmp_path)
    load_advice_knowledge.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match="situations.long_path.*case_for"):
            load_advice_knowledge()
    finally:
        load_advice_knowledge.cache_clear()


def test_only_the_knowledge_loader_reads_knowledge_files() -> None:
    readers = []
    for folder in CODE_FOLDERS:
        for path in (REPO / folder).rglob("*.py"):
            if path in (REPO / "advisor" / "knowledge.py", REPO / "runtime" / "paths.py"):
                continue
            for line, value in _string_constants(ast.parse(path.read_text(encoding="utf-8"))):
                if value == "knowledge" or (value.startswith("knowledge/") and value.endswith(".yml")):
                    readers.append(f"{path.relative_to(REPO)}:{line}")
    assert readers == []


def test_replies_are_not_written_in_python() -> None:
    """Chinese text a user reads lives in knowledge/ or domain.yml; the guard's masking patterns
    and placeholders (channels/guard.py) and the answer readers (advisor/) are logic, not replies."""
    found = []
    for folder in ("actions", "channels", "components", "stores"):
        for path in (REPO / folder).rglob("*.py"):
            if path == REPO / "channels" / "guard.py":
                continue
            for line, value in _string_constants(ast.parse(path.read_text(encoding="utf-8"))):
                if CJK.search(value):
                    found.append(f"{path.relative_to(REPO)}:{line}: {value[:30]}")
    assert found == []


def test_a_turn_the_bot_could_not_answer_gets_one_text_whoever_noticed() -> None:
    from channels.guard_texts import guard_text

    assert knowledge.busy_text() == guard_text("busy")
    busy_like = [
        f"{path.name}: {line.strip()}"
        for path in sorted((REPO / "knowledge").glob("*.yml"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if "繁忙" in line and not line.lstrip().startswith("#")
    ]
    assert len(busy_like) == 1, busy_like
