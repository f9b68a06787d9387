"""Cached, validated loaders for the YAML files in knowledge/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import yaml

from advisor.contract import ALL_BOOL_SLOTS, ALL_TOPICS, FACT_SLOTS, QUESTIONS, REASONS, RECENT_EVENTS, SLOTS, STEPS
from advisor.situation import FACT_WORDINGS, SITUATIONS
from runtime import paths

KNOWLEDGE_DIR = paths.KNOWLEDGE
SOURCES = frozenset({"A", "B"})
DIAGNOSIS_TEXTS = (
    "start",
    "skip",
    "noted_without_topic",
    "updated_lead",
    "updated_facts",
    "update_unclear",
    "updated_unchanged",
    "assessment_debt_ok",
    "assessment_debt_high",
    "back_to_question",
)
CONVERSATION_TEXTS = (
    "disclaimer",
    "ask_rephrase",
    "default",
    "feedback_helpful",
    "feedback_unhelpful",
    "already_answered",
    "same_topic",
    "stray_offer",
    "stray_ack",
)


class KnowledgeError(ValueError):
    """A knowledge file is missing or malformed."""


def _read(name: str) -> dict[str, Any]:
    path = KNOWLEDGE_DIR / name
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise KnowledgeError(f"{path}: file not found") from error
    except yaml.YAMLError as error:
        raise KnowledgeError(f"{path}: invalid YAML: {error}") from error
    if not isinstance(data, dict):
        raise KnowledgeError(f"knowledge/{name}: top level must be a mapping")
    return data


def _check(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise KnowledgeError(f"knowledge/{where}: {message}")


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_button(button: object, where: str) -> None:
    if not isinstance(button, dict):
        raise KnowledgeError(f"knowledge/{where}: a button must be a mapping")
    _check(_is_text(button.get("title")), where, "a button needs a title")
    payload = button.get("payload")
    _check(isinstance(payload, str) and payload.startswith("/"), where, "payload must start with /")


def _check_message(entry: object, where: str) -> None:
    """A message the bot sends: {text, buttons}."""
    if not isinstance(entry, dict):
        raise KnowledgeError(f"knowledge/{where}: text is required")
    _check(_is_text(entry.get("text")), where, "text is required")
    buttons = entry.get("buttons") or []
    _check(isinstance(buttons, list), where, "buttons must be a list")
    for button in buttons:
        _check_button(button, where)


def _check_sources(sources: object, where: str, allow_empty: bool) -> None:
    if not isinstance(sources, list):
        raise KnowledgeError(f"knowledge/{where}: sources must be a list")
    _check(allow_empty or bool(sources), where, "sources must not be empty")
    _check(set(sources) <= SOURCES, where, f"sources must be within {sorted(SOURCES)}")


@lru_cache(maxsize=None)
def load_faq() -> dict[str, dict[str, Any]]:
    """Intent (or conversation key) → {text, buttons, sources[, intro]}."""
    data = _read("faq.yml")
    for key, entry in data.items():
        where = f"faq.yml:{key}"
        _check(isinstance(entry, dict), where, "entry must be a mapping")
        _check(_is_text(entry.get("text")), where, "text is required")
        buttons = entry.get("buttons")
        _check(isinstance(buttons, list) and len(buttons) <= 3, where, "buttons: a list of 0–3")
        for button in buttons:
            _check_button(button, where)
        _check_sources(entry.get("sources"), where, allow_empty=True)
    return data


ADVICE_RENDER_TEXTS = (
    "reasons_header",
    "steps_header",
    "path",
    "unchanged",
    "new_reasons_header",
    "new_steps_header",
    "order",
    "order_separator",
    "rest_same",
    "as_said",
    "card_hint",
)
SITUATION_ANSWERS = ("restore_limit", "when_retry")  # one answer per situation
TOPIC_ANSWERS = ("cause", "cause_none", "increase_limit", "increase_limit_none", "not_opened", "not_opened_none")
# Questions after the advice (advisor/followup_answers.py) and the texts each needs.
FOLLOWUP_TEXTS = {
    "next_step": ("first", "then", "before_advice"),
    "reason": ("personal", "not_personal", "others_list", "before_advice"),
    "credit_report_effect": ("overdue", "clean", "check_step", "check"),
}


def _check_followups(data: dict[str, Any]) -> None:
    followups = data.get("followups")
    _check(isinstance(followups, dict), "advice.yml", "'followups' mapping is required")
    assert isinstance(followups, dict)
    for kind, keys in FOLLOWUP_TEXTS.items():
        entry = followups.get(kind)
        where = f"advice.yml:followups.{kind}"
        _check(
            isinstance(entry, dict) and all(_is_text(entry.get(key)) for key in keys),
            where,
            f"texts required: {', '.join(keys)}",
        )
        assert isinstance(entry, dict)
        _check_sources(entry.get("sources"), where, allow_empty=False)


def _check_variants(variants: object, where: str) -> None:
    """A step's wording for some situations, or for a fact: {situation | fact wording: {title?, detail?, sources}}."""
    if variants is None:
        return
    _check(isinstance(variants, dict), where, "variants must be a mapping")
    assert isinstance(variants, dict)
    for situation, variant in variants.items():
        at = f"{where}.variants.{situation}"
        names = SITUATIONS + FACT_WORDINGS
        _check(situation in names, at, f"must be one of {', '.join(names)}")
        _check(
            isinstance(variant, dict) and bool({"title", "detail"} & set(variant)), at, "title or detail is required"
        )
        for field in ("title", "detail"):
            _check(field not in variant or _is_text(variant[field]), at, f"'{field}' must be text")
        _check(isinstance(variant.get("path", ""), str), at, "'path' must be text (empty: none)")
        _check_sources(variant.get("sources"), at, allow_empty=False)


def _check_situations(data: dict[str, Any], steps: set[str], reasons: set[str]) -> None:
    for situation in SITUATIONS:
        entry = data["situations"].get(situation)
        where = f"advice.yml:situations.{situation}"
        _check(isinstance(entry, dict) and _is_text(entry.get("outlook")), where, "an outlook is required")
        _check_sources(entry.get("sources"), where, allow_empty=False)
        if "case" in entry or "case_for" in entry:
            case_for = entry.get("case_for")
            _check(
                _is_text(entry.get("case")) and isinstance(case_for, list) and set(case_for) <= reasons,
                where,
                "a case needs its text and case_for: the reason codes it is about",
            )
    path = data["situations"]["long_path"].get("steps")
    _check(
        isinstance(path, list) and bool(path) and set(path) <= steps,
        "advice.yml:situations.long_path",
        "steps: a list of known step codes",
    )
    answers = data["answers"]
    for question in SITUATION_ANSWERS:
        texts = answers.get(question)
        _check(
            isinstance(texts, dict) and all(_is_text(texts.get(s)) for s in SITUATIONS),
            f"advice.yml:answers.{question}",
            f"an answer for every situation is required: {', '.join(SITUATIONS)}",
        )
    for key in TOPIC_ANSWERS:
        _check(_is_text(answers.get(key)), f"advice.yml:answers.{key}", "text is required")


@lru_cache(maxsize=None)
def load_advice_knowledge() -> dict[str, Any]:
    """{topics, reasons, steps, situations, answers, followups, evidence, default_followups, render} from advice.yml."""
    data = _read("advice.yml")
    for section in ("topics", "reasons", "steps", "situations", "answers", "evidence", "render"):
        _check(isinstance(data.get(section), dict), "advice.yml", f"'{section}' mapping is required")
    for topic in ALL_TOPICS:
        _check(_is_text(data["topics"].get(topic)), "advice.yml", f"topic '{topic}' has no name")
    for kind, codes, fields in (
        ("reasons", REASONS, ("title", "why", "applies_when")),
        ("steps", STEPS, ("title", "detail")),
    ):
        missing = set(codes) - set(data[kind])
        _check(not missing, "advice.yml", f"{kind} missing contract codes {sorted(missing)}")
        for code, entry in data[kind].items():
            where = f"advice.yml:{kind}.{code}"
            _check(isinstance(entry, dict), where, "entry must be a mapping")
            for field in fields:
                _check(_is_text(entry.get(field)), where, f"'{field}' is required")
            _check_sources(entry.get("sources"), where, allow_empty=False)
            if kind == "reasons":
                _check_button(entry.get("followup"), where)
            if "path" in entry:
                _check(_is_text(entry["path"]), where, "path must be text when given")
            _check_variants(entry.get("variants"), where)
    _check_situations(data, set(data["steps"]), set(data["reasons"]))
    _check_followups(data)
    for key in ADVICE_RENDER_TEXTS:
        _check(_is_text(data["render"].get(key)), f"advice.yml:render.{key}", "text is required")
    for button in data.get("default_followups") or []:
        _check_button(button, "advice.yml:default_followups")
    return data


@lru_cache(maxsize=None)
def load_diagnosis_config() -> dict[str, Any]:
    """{max_questions, main_questions, order: topic → slots, reask: slot → text,
    invalid: slot → {min, max, text}, texts}."""
    data = _read("diagnosis.yml")
    max_questions = data.get("max_questions")
    _check(isinstance(max_questions, int) and max_questions > 0, "diagnosis.yml", "max_questions must be > 0")
    order: Any = data.get("order")
    _check(isinstance(order, dict), "diagnosis.yml", "'order' mapping is required")
    main: Any = data.get("main_questions")
    _check(
        isinstance(main, list) and bool(main) and set(main) <= set(QUESTIONS),
        "diagnosis.yml:main_questions",
        f"a list of questions from {', '.join(QUESTIONS)} is required",
    )
    recent: Any = data.get(RECENT_EVENTS)
    _check(
        isinstance(recent, dict) and _is_text(recent.get("text")) and _is_text(recent.get("reask")),
        f"diagnosis.yml:{RECENT_EVENTS}",
        "text and reask are required",
    )
    options: Any = recent.get("options")
    _check(isinstance(options, list) and bool(options), f"diagnosis.yml:{RECENT_EVENTS}", "options are required")
    for option in options:
        _check(
            isinstance(option, dict) and option.get("slot") in ALL_BOOL_SLOTS and _is_text(option.get("title")),
            f"diagnosis.yml:{RECENT_EVENTS}.options",
            "each option needs a yes/no fact slot and a title",
        )
    for key in ("none", "unknown"):
        _check_button(recent.get(key), f"diagnosis.yml:{RECENT_EVENTS}.{key}")
    option_slots = {option["slot"] for option in options}
    for topic in ALL_TOPICS:
        questions = order.get(topic)
        where = f"diagnosis.yml:order.{topic}"
        _check(
            isinstance(questions, list) and bool(questions) and questions[0] == "has_overdue",
            where,
            "a list starting with has_overdue is required",
        )
        _check(
            len(set(questions)) == len(questions) and set(questions) <= set(QUESTIONS),
            where,
            f"each question once, from {', '.join(QUESTIONS)}",
        )
        if topic != "increase_limit":  # raising a limit is not explained by a cause
            covered = set(questions) | (option_slots if RECENT_EVENTS in questions else set())
            _check(set(SLOTS) <= covered, where, f"must cover every contract fact: {sorted(set(SLOTS) - covered)}")
    reask: Any = data.get("reask")
    _check(isinstance(reask, dict), "diagnosis.yml", "'reask' mapping is required")
    for slot in FACT_SLOTS:
        _check(_is_text(reask.get(slot)), f"diagnosis.yml:reask.{slot}", "text is required")
    texts: Any = data.get("texts")
    _check(isinstance(texts, dict), "diagnosis.yml", "'texts' mapping is required")
    for key in DIAGNOSIS_TEXTS:
        _check(_is_text(texts.get(key)), f"diagnosis.yml:texts.{key}", "text is required")
    _check(isinstance(texts.get("topic_buttons"), list), "diagnosis.yml:texts", "topic_buttons list is required")
    for button in texts["topic_buttons"]:
        _check_button(button, "diagnosis.yml:texts.topic_buttons")
    asked: Any = data.get("questions")
    _check(isinstance(asked, dict), "diagnosis.yml", "'questions' mapping is required")
    for slot in FACT_SLOTS:
        _check_message(asked.get(slot), f"diagnosis.yml:questions.{slot}")
    understood: Any = data.get("understood")
    _check(isinstance(understood, dict), "diagnosis.yml", "'understood' mapping is required")
    for slot in FACT_SLOTS:
        entry = understood.get(slot)
        keys = ("true", "false") if slot in ALL_BOOL_SLOTS else ("value",)
        _check(
            isinstance(entry, dict) and all(_is_text(entry.get(k)) for k in keys),
            f"diagnosis.yml:understood.{slot}",
            f"texts for {', '.join(keys)} are required",
        )
    for slot, rule in (data.get("invalid") or {}).items():
        where = f"diagnosis.yml:invalid.{slot}"
        _check(isinstance(rule, dict) and _is_text(rule.get("text")), where, "text is required")
        _check(
            isinstance(rule.get("min"), (int, float)) and isinstance(rule.get("max"), (int, float)),
            where,
            "numeric min and max are required",
        )
    return data


@lru_cache(maxsize=None)
def load_intent_labels() -> dict[str, str]:
    """Intent → short Chinese label for the 「您是想问…吗？」 fallback button."""
    data = _read("intent_labels.yml")
    for intent, label in data.items():
        _check(_is_text(label), f"intent_labels.yml:{intent}", "label must be text")
    return data


@lru_cache(maxsize=None)
def load_conversation_texts() -> dict[str, Any]:
    """{disclaimer, ask_rephrase, default, feedback_*} → {text, buttons}, sent by actions;
    feedback_buttons: the 👍 / 👎 buttons under every advice; did_you_mean: the question of the
    two-stage fallback ({label} is the likeliest intent's) and its none_of_these button."""
    data = _read("conversation.yml")
    for key in CONVERSATION_TEXTS:
        _check_message(data.get(key), f"conversation.yml:{key}")
    feedback_buttons: Any = data.get("feedback_buttons")
    _check(
        isinstance(feedback_buttons, list) and len(feedback_buttons) == 2,
        "conversation.yml:feedback_buttons",
        "two buttons (helpful, unhelpful) are required",
    )
    for button in feedback_buttons:
        _check_button(button, "conversation.yml:feedback_buttons")
    did_you_mean: Any = data.get("did_you_mean")
    _check(
        isinstance(did_you_mean, dict) and "{label}" in str(did_you_mean.get("text")),
        "conversation.yml:did_you_mean",
        "a text with {label} is required",
    )
    _check_button(did_you_mean.get("none_of_these"), "conversation.yml:did_you_mean.none_of_these")
    text_channel: Any = data.get("text_channel")
    _check(
        isinstance(text_channel, dict)
        and all(_is_text(text_channel.get(k)) for k in ("option", "restart", "truncated")),
        "conversation.yml:text_channel",
        "option, restart and truncated texts are required",
    )
    _check(
        "{number}" in text_channel["option"] and "{title}" in text_channel["option"],
        "conversation.yml:text_channel.option",
        "{number} and {title} are required",
    )
    terminal: Any = data.get("terminal")
    _check(
        isinstance(terminal, dict)
        and all(_is_text(terminal.get(k)) for k in ("loading", "welcome", "prompt", "goodbye")),
        "conversation.yml:terminal",
        "loading, welcome, prompt and goodbye texts are required",
    )
    return data


@lru_cache(maxsize=1)
def _guard_file() -> dict[str, Any]:
    return _read("guard.yml")


@lru_cache(maxsize=None)
def load_guard_texts(keys: Sequence[str]) -> Mapping[str, str]:
    """The channels' own replies (knowledge/guard.yml), sent without asking the bot or when it
    could not answer (`busy`, also the reply of a failed action); `keys` are those the caller
    needs (channels.guard.TEXT_KEYS), each must be there."""
    data = _guard_file()
    missing = [key for key in keys if not _is_text(data.get(key))]
    _check(not missing, "guard.yml", f"missing or empty texts: {', '.join(missing)}")
    return MappingProxyType({key: str(data[key]).strip() for key in keys})


def busy_text() -> str:
    """「抱歉，系统繁忙…」: the one text for a turn the bot could not answer, whoever noticed."""
    return load_guard_texts(("busy",))["busy"]
