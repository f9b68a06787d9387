"""Custom actions with tracker fixtures (like RasaHQ/financial-demo): no Rasa server needed."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.ask import question_entry
from actions.conversation import ActionStrayAnswer
from actions.diagnosis import ActionGiveAdvice, ActionStartDiagnosis, ActionUpdateAdvice
from actions.diagnosis_form import ValidateDiagnosisForm, asked_slots
from actions.fallback import ActionDefaultAskAffirmation, ActionDefaultAskRephrase, ActionDefaultFallback
from actions.faq import ActionAnswerFaq, ActionOutOfScope
from actions.feedback import ActionRecordFeedback
from actions.session import ActionSessionStart
from advisor.answers import check_range
from advisor.knowledge import (
    load_advice_knowledge,
    load_conversation_texts,
    load_diagnosis_config,
    load_faq,
    load_intent_labels,
)
from runtime.paths import ROOT

DOMAIN: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
FAQ_INTENTS = [
    "ask_credit_report",
    "ask_debt_ratio",
    "ask_alternatives",
    "ask_when_retry",
    "ask_submit_proof",
    "ask_appeal",
    "request_human",
    "ask_boost_service",
    "ask_increase_limit",
    "ask_next_step",
]


def make_tracker(
    intent: str = "inform",
    text: str = "",
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
) -> Tracker:
    """A tracker whose latest user message is `text`; `events` are added after it."""
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots["requested_slot"] = None
    all_slots.update(slots or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": ranking or [],
        "entities": [],
    }
    history = [{"event": "user", "text": text, "parse_data": latest}] + (events or [])
    loop = {"name": active_loop} if active_loop else {}
    return Tracker("tester", all_slots, latest, history, False, None, loop, "action_listen")


# Every diagnosis fact answered, none of them a cause.
NOTHING_WRONG: Dict[str, Any] = {
    "has_overdue": False,
    "debt_ratio": 20.0,
    "recent_applications": False,
    "account_inactive": False,
    "abnormal_transactions": False,
    "security_issue": False,
    "credit_report_issue": False,
    "symptom_days": 3.0,
}


def run(action, tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, DOMAIN))
    return dispatcher.messages, events


def slot_events(events) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


# --- FAQ ---------------------------------------------------------------------------


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_faq_answer_comes_from_knowledge(intent):
    messages, events = run(ActionAnswerFaq(), make_tracker(intent))
    entry = load_faq()[intent]
    assert messages[0]["text"] == entry["text"].strip()
    assert [b["payload"] for b in messages[0]["buttons"]] == [b["payload"] for b in entry.get("buttons") or []]
    assert events == []


def test_a_question_answered_before_is_referred_to_not_repeated():
    entry = load_faq()["ask_credit_report"]
    earlier = [{"event": "bot", "text": entry["text"].strip()}]
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_credit_report", events=earlier))
    assert messages[0]["text"] == load_conversation_texts()["already_answered"]["text"].strip()
    # A new session starts afresh: the answer is given again.
    restarted = earlier + [{"event": "session_started"}]
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_credit_report", events=restarted))
    assert messages[0]["text"] == entry["text"].strip()


def test_a_faq_answer_leaves_out_a_paragraph_sent_before():
    entry = load_faq()["ask_appeal"]
    lines = [line for line in entry["text"].strip().splitlines() if len(line.strip()) >= 12]
    assert len(lines) >= 2, "the test needs an answer of several paragraphs"
    earlier = [{"event": "bot", "text": lines[-1]}]
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_appeal", events=earlier))
    assert messages[0]["text"].splitlines()[0] == entry["text"].strip().splitlines()[0]
    assert lines[-1] not in messages[0]["text"]


def test_when_to_retry_without_a_diagnosis_says_what_it_depends_on():
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_when_retry"))
    assert messages[0]["text"] == load_faq()["ask_when_retry"]["text"].strip()
    assert "取决于" in messages[0]["text"] or "如果" in messages[0]["text"]


def test_when_to_retry_after_advice_on_a_closed_limit_and_an_overdue_speaks_of_months():
    answers = yaml.safe_load((ROOT / "knowledge" / "advice.yml").read_text(encoding="utf-8"))["answers"]
    slots = {
        "diagnosis_topic": "limit_closed",
        "has_overdue": True,
        "overdue_days": 60.0,
        "last_advice": {"topic": "limit_closed", "situation": "long_path", "reasons": ["overdue"], "steps": []},
    }
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_when_retry", slots=slots))
    text = messages[0]["text"]
    assert text.startswith(answers["when_retry"]["long_path"])
    assert "几天到一周" not in text


def test_when_to_retry_with_nothing_personal_is_days_not_to_retry_over_and_over():
    slots = {
        "diagnosis_topic": "cannot_borrow",
        "has_overdue": False,
        "debt_ratio": 10.0,
        "recent_applications": False,
        "account_inactive": False,
        "abnormal_transactions": False,
        "security_issue": False,
        "symptom_days": 2.0,
        "last_advice": {"topic": "cannot_borrow", "situation": "transient", "reasons": [], "steps": []},
    }
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_when_retry", slots=slots))
    assert messages[0]["text"].startswith("建议隔几天到一周再试一次，别在短时间内反复点借款。")


CLOSED_AFTER_OVERDUE = {
    "diagnosis_topic": "limit_closed",
    "has_overdue": True,
    "overdue_days": 60.0,
    "last_advice": {
        "topic": "limit_closed",
        "situation": "long_path",
        "reasons": ["overdue", "credit_report"],
        "steps": ["repay_on_time", "check_credit_report", "keep_active", "update_profile", "wait_and_retry"],
    },
}


def test_what_to_do_first_after_advice_names_its_first_step_without_buttons():
    messages, _ = run(
        ActionAnswerFaq(), make_tracker("ask_next_step", "那我现在该先做什么", slots=CLOSED_AFTER_OVERDUE)
    )
    assert messages[0]["text"].startswith("先做上面建议的第 1 步：「先还清逾期，之后按时还款」。")
    assert "第 2 步「查征信，保持记录干净」" in messages[0]["text"]
    assert messages[0]["buttons"] == []


def test_what_to_do_first_during_the_questions_says_the_rest_depends_on_them():
    slots = {"diagnosis_topic": "limit_dropped", "requested_slot": "has_overdue"}
    tracker = make_tracker("ask_next_step", "先做什么", slots=slots, active_loop="diagnosis_form")
    messages, _ = run(ActionAnswerFaq(), tracker)
    texts = yaml.safe_load((ROOT / "knowledge" / "advice.yml").read_text(encoding="utf-8"))["followups"]
    assert messages[0]["text"] == texts["next_step"]["before_advice"]


def test_does_it_affect_the_credit_report_after_advice_on_an_overdue():
    texts = yaml.safe_load((ROOT / "knowledge" / "advice.yml").read_text(encoding="utf-8"))["followups"]
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_credit_report", "影响征信吗", slots=CLOSED_AFTER_OVERDUE))
    lines = messages[0]["text"].splitlines()
    assert lines[0] == texts["credit_report_effect"]["overdue"]
    assert "第 2 步" in lines[1]
    # how to check is still answered in general
    messages, _ = run(ActionAnswerFaq(), make_tracker("ask_credit_report", "怎么查征信", slots=CLOSED_AFTER_OVERDUE))
    assert messages[0]["text"] == load_faq()["ask_credit_report"]["text"].strip()


def test_what_to_do_first_asked_again_is_referred_to():
    tracker = make_tracker("ask_next_step", "先做什么", slots=CLOSED_AFTER_OVERDUE)
    first, _ = run(ActionAnswerFaq(), tracker)
    earlier = [{"event": "bot", "text": first[0]["text"]}, {"event": "user", "text": "第一步做啥"}]
    again, _ = run(ActionAnswerFaq(), make_tracker("ask_next_step", "第一步做啥", CLOSED_AFTER_OVERDUE, earlier))
    assert again[0]["text"] == load_conversation_texts()["already_answered"]["text"].strip()


def test_stray_answers_after_advice_offer_once_then_say_goodbye_then_acknowledge():
    texts = load_conversation_texts()
    offer, ack = texts["stray_offer"]["text"].strip(), texts["stray_ack"]["text"].strip()
    goodbye = DOMAIN["responses"]["utter_goodbye"][0]["text"]
    events: List[Dict[str, Any]] = [{"event": "bot", "text": "您的情况最可能是「近期有逾期记录」。"}]
    replies = []
    for text, intent in (("没有", "deny"), ("都没有", "deny"), ("好的", "affirm"), ("嗯", "affirm")):
        messages, _ = run(ActionStrayAnswer(), make_tracker(intent, text, events=events))
        reply = messages[0].get("text") or DOMAIN["responses"][messages[0]["response"]][0]["text"]
        replies.append(reply)
        events = events + [{"event": "user", "text": text}, {"event": "bot", "text": reply}]
    assert replies == [offer, goodbye, ack, ack]


def test_faq_without_an_entry_says_what_the_bot_can_do():
    messages, _ = run(ActionAnswerFaq(), make_tracker("affirm"))
    assert messages[0]["response"] == "utter_out_of_scope"


OUT_OF_SCOPE_TEXT = DOMAIN["responses"]["utter_out_of_scope"][0]["text"]


def test_out_of_scope_says_what_the_bot_can_do_the_first_time():
    messages, _ = run(ActionOutOfScope(), make_tracker("out_of_scope"))
    assert [m["response"] for m in messages] == ["utter_out_of_scope"]


def test_a_second_out_of_scope_question_is_not_answered_with_the_same_paragraph():
    earlier = [{"event": "bot", "text": OUT_OF_SCOPE_TEXT}, {"event": "user", "text": "信用卡逾期了怎么办"}]
    messages, _ = run(ActionOutOfScope(), make_tracker("out_of_scope", events=earlier))
    again = load_conversation_texts()["out_of_scope_again"]
    assert messages[0]["text"] == again["text"].strip()
    assert OUT_OF_SCOPE_TEXT not in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == [b["payload"] for b in again["buttons"]]


def test_out_of_scope_in_a_new_session_says_what_the_bot_can_do_again():
    earlier = [{"event": "bot", "text": OUT_OF_SCOPE_TEXT}, {"event": "session_started"}]
    messages, _ = run(ActionOutOfScope(), make_tracker("out_of_scope", events=earlier))
    assert [m["response"] for m in messages] == ["utter_out_of_scope"]


# --- starting the diagnosis ----------------------------------------------------------


@pytest.mark.parametrize(
    "intent, topic",
    [
        ("ask_limit_dropped", "limit_dropped"),
        ("ask_restore_limit", "restore_limit"),
        ("ask_cannot_borrow", "cannot_borrow"),
        ("ask_limit_closed", "limit_closed"),
        ("ask_increase_limit", "increase_limit"),
    ],
)
def test_start_diagnosis_names_the_topic_resets_retries_and_keeps_unknowns(intent, topic):
    tracker = make_tracker(intent, slots={"unknown_facts": ["debt_ratio"], "answer_failures": 1.0})
    messages, events = run(ActionStartDiagnosis(), tracker)
    assert slot_events(events) == {"diagnosis_topic": topic, "answer_failures": 0.0}
    assert messages and messages[0]["text"]


def test_start_diagnosis_skips_the_intro_when_nothing_needs_asking():
    facts = {"has_overdue": True, "overdue_days": 45.0}
    messages, _ = run(ActionStartDiagnosis(), make_tracker("ask_cannot_borrow", slots=facts))
    assert messages == []


def test_start_diagnosis_skips_the_intro_when_only_answers_the_user_did_not_know_are_missing():
    """「还能恢复吗」 after an advice in which the user did not know about overdues: nothing will
    be asked, so no 「我先了解一下您的情况」 before the answer."""
    facts = {**NOTHING_WRONG, "has_overdue": None, "unknown_facts": ["has_overdue"]}
    messages, _ = run(ActionStartDiagnosis(), make_tracker("ask_restore_limit", slots=facts))
    assert messages == []
    messages, _ = run(ActionStartDiagnosis(), make_tracker("ask_restore_limit", slots={**facts, "unknown_facts": []}))
    assert messages and messages[0]["text"]


# --- the form validator ---------------------------------------------------------------


def validate(requested: str, intent: str, text: str, slots=None, events=None, topic="cannot_borrow"):
    base = {"requested_slot": requested, "diagnosis_topic": topic}
    tracker = make_tracker(intent, text, {**base, **(slots or {})}, events=events)
    # the question was asked before the user's reply
    tracker.events = [{"event": "slot", "name": "requested_slot", "value": requested}] + tracker.events
    return run(ValidateDiagnosisForm(), tracker)


def test_no_overdue_moves_to_the_next_most_telling_question():
    _, events = validate("has_overdue", "deny", "没有")
    slots = slot_events(events)
    assert slots["has_overdue"] is False
    assert slots["requested_slot"] == load_diagnosis_config()["order"]["cannot_borrow"][2]


def test_overdue_asks_how_long():
    _, events = validate("has_overdue", "affirm", "有过")
    assert slot_events(events)["requested_slot"] == "overdue_days"


def test_long_overdue_ends_the_questions():
    _, events = validate("overdue_days", "inform", "两个多月", slots={"has_overdue": True})
    slots = slot_events(events)
    assert slots["overdue_days"] == 60.0 and slots["requested_slot"] is None


def test_a_question_interrupts_the_form():
    messages, events = validate("debt_ratio", "ask_debt_ratio", "负债率是什么意思", slots={"has_overdue": False})
    assert events == [] and messages == []


def test_dont_know_marks_the_slot_unknown_and_moves_on():
    _, events = validate("debt_ratio", "dont_know", "不清楚", slots={"has_overdue": False})
    slots = slot_events(events)
    assert slots["unknown_facts"] == ["debt_ratio"]
    assert slots["requested_slot"] not in (None, "debt_ratio")


def test_out_of_range_ratio_from_an_entity_is_asked_again():
    events = [{"event": "slot", "name": "debt_ratio", "value": 500.0, "timestamp": 1}]
    messages, result = validate(
        "debt_ratio", "inform", "负债率500%", slots={"has_overdue": False, "debt_ratio": 500.0}, events=events
    )
    slots = slot_events(result)
    assert slots["debt_ratio"] is None and slots["requested_slot"] == "debt_ratio"
    assert messages[0]["text"] == load_diagnosis_config()["invalid"]["debt_ratio"]["text"]


def test_unclear_answer_is_reasked_then_skipped():
    messages, events = validate("debt_ratio", "nlu_fallback", "asdf", slots={"has_overdue": False})
    assert slot_events(events)["answer_failures"] == 1.0
    assert messages[0]["text"] == load_diagnosis_config()["reask"]["debt_ratio"]
    messages, events = validate(
        "debt_ratio", "nlu_fallback", "qwer", slots={"has_overdue": False, "answer_failures": 1.0}
    )
    slots = slot_events(events)
    assert "debt_ratio" in slots["unknown_facts"] and slots["requested_slot"] != "debt_ratio"
    assert messages[0]["text"] == load_diagnosis_config()["texts"]["skip"]


def test_correction_clears_the_overdue_length():
    events = [{"event": "slot", "name": "has_overdue", "value": False, "timestamp": 1}]
    _, result = validate(
        "debt_ratio", "inform", "不对，我没有逾期", slots={"has_overdue": False, "overdue_days": 10.0}, events=events
    )
    slots = slot_events(result)
    assert slots["overdue_days"] is None and slots["requested_slot"] == "debt_ratio"
    assert "debt_ratio" not in {k for k, v in slots.items() if v is not None and k != "requested_slot"}


def test_an_answer_is_said_back_before_the_next_question():
    messages, events = validate("debt_ratio", "deny", "没有", slots={"has_overdue": False})
    assert slot_events(events)["debt_ratio"] == 0
    assert messages[-1]["text"].startswith("好的，按「没有负债」记。\n【第")
    messages, _ = validate("debt_ratio", "dont_know", "不清楚", slots={"has_overdue": False})
    assert messages[-1]["text"].startswith(load_diagnosis_config()["texts"]["understood_unknown"] + "\n")


def test_a_correction_of_an_earlier_answer_replaces_it_and_the_open_question_is_asked_again():
    # 「不对，有四成」 while the next question is open: the NLU's debt_ratio entity filled the slot.
    slots = {"has_overdue": False, "debt_ratio": 0.0}
    history = [
        {"event": "slot", "name": "requested_slot", "value": "has_overdue"},
        {"event": "slot", "name": "requested_slot", "value": "debt_ratio"},
    ]
    tracker = make_tracker(
        "inform",
        "不对，有四成",
        {**slots, "requested_slot": "recent_applications", "diagnosis_topic": "cannot_borrow"},
        events=[{"event": "slot", "name": "debt_ratio", "value": 40.0}],
    )
    tracker.events = (
        history + [{"event": "slot", "name": "requested_slot", "value": "recent_applications"}] + tracker.events
    )
    messages, events = run(ValidateDiagnosisForm(), tracker)
    assert slot_events(events)["debt_ratio"] == 40.0
    assert "recent_applications" not in slot_events(events)  # 「有」 here was not an answer to it
    assert slot_events(events)["requested_slot"] == "recent_applications"
    assert messages[-1]["text"].startswith("好的，按「每月还款约占收入的40%」记。")
    # The open question is not sent word for word a second time: it is introduced as asked before.
    question = str(load_diagnosis_config()["questions"]["recent_applications"]["text"]).strip()
    assert messages[-1]["text"].endswith(load_diagnosis_config()["texts"]["back_to_question"] + question)


def test_question_budget_is_respected():
    asked = [
        "has_overdue",
        "debt_ratio",
        "recent_applications",
        "account_inactive",
        "abnormal_transactions",
        "security_issue",
    ]
    history = [{"event": "action", "name": "action_start_diagnosis"}] + [
        {"event": "slot", "name": "requested_slot", "value": s} for s in asked
    ]
    facts = {"has_overdue": False, "debt_ratio": 20.0, "recent_applications": False}
    _, events = validate("recent_applications", "deny", "没有", slots=facts, events=[])
    # without history the budget is not exhausted: the next question is asked
    assert slot_events(events)["requested_slot"] == "recent_events"
    tracker = make_tracker(
        "deny", "没有", {**facts, "requested_slot": "security_issue", "diagnosis_topic": "cannot_borrow"}
    )
    tracker.events = history + tracker.events
    _, events = run(ValidateDiagnosisForm(), tracker)
    assert slot_events(events)["requested_slot"] is None


CHOICE_FACTS = {"has_overdue": False, "debt_ratio": 20.0, "recent_applications": False}


@pytest.mark.parametrize(
    "intent, text, expected",
    [
        ("inform", "2", {"abnormal_transactions": True}),
        ("inform", "1 3", {"account_inactive": True, "security_issue": True}),
        ("inform", "第五个", {"credit_report_issue": True}),
        (
            "deny",
            "都没有",
            {
                "account_inactive": False,
                "abnormal_transactions": False,
                "security_issue": False,
                "credit_report_issue": False,
            },
        ),
        (
            "deny",
            "/deny",
            {
                "account_inactive": False,
                "abnormal_transactions": False,
                "security_issue": False,
                "credit_report_issue": False,
            },
        ),
    ],
)
def test_multiple_choice_answers_fill_their_facts(intent, text, expected):
    _, events = validate("recent_events", intent, text, slots=CHOICE_FACTS, events=[])
    slots = slot_events(events)
    assert {k: slots[k] for k in expected} == expected
    assert slots["recent_events"] == "answered"
    assert slots["requested_slot"] != "recent_events"


def test_a_tapped_option_or_typed_fact_answers_the_multiple_choice():
    # The entity mapping set the slot in this turn, as a tapped /inform{"security_issue": true} does.
    _, events = validate(
        "recent_events",
        "inform",
        "前几天账号被盗过",
        slots={**CHOICE_FACTS, "security_issue": True},
        events=[{"event": "slot", "name": "security_issue", "value": True}],
    )
    slots = slot_events(events)
    assert slots["recent_events"] == "answered" and slots["requested_slot"] is None  # the cause is found


def test_dont_know_to_the_multiple_choice_moves_on():
    _, events = validate("recent_events", "dont_know", "不清楚", slots=CHOICE_FACTS, events=[])
    slots = slot_events(events)
    assert "recent_events" in slots["unknown_facts"] and slots["requested_slot"] == "symptom_days"


def test_an_unclear_multiple_choice_answer_is_asked_again():
    messages, events = validate("recent_events", "inform", "嗯嗯", slots=CHOICE_FACTS, events=[])
    assert slot_events(events)["requested_slot"] == "recent_events"
    assert any("序号" in m["text"] for m in messages)


def test_asked_slots_restart_with_each_diagnosis():
    events = [
        {"event": "slot", "name": "requested_slot", "value": "has_overdue"},
        {"event": "action", "name": "action_start_diagnosis"},
        {"event": "slot", "name": "requested_slot", "value": "debt_ratio"},
        {"event": "slot", "name": "requested_slot", "value": None},
    ]
    tracker = make_tracker()
    tracker.events = events
    assert asked_slots(tracker) == ["debt_ratio"]


# --- advice ----------------------------------------------------------------------------


def test_give_advice_sends_text_buttons_and_the_contract_payload():
    slots = {"diagnosis_topic": "cannot_borrow", "has_overdue": False, "debt_ratio": 70.0}
    messages, _ = run(ActionGiveAdvice(), make_tracker(slots=slots))
    advice = messages[0]["custom"]["advice"]
    assert advice["topic"] == "cannot_borrow" and advice["reasons"][0] == "high_debt"
    assert "1." in messages[0]["text"] and messages[0]["buttons"]


def test_every_advice_ends_with_thumbs_up_and_down_after_its_follow_ups():
    slots = {"diagnosis_topic": "limit_dropped", "has_overdue": True, "overdue_days": 40.0}
    messages, _ = run(ActionGiveAdvice(), make_tracker(slots=slots))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-2:] == ['/feedback{"helpful": "yes"}', '/feedback{"helpful": "no"}']
    assert len(payloads) >= 4 and all(p.startswith("/ask_") for p in payloads[:-2])


@pytest.mark.parametrize(
    "text, helpful",
    [
        ('/feedback{"helpful": "yes"}', True),
        ('/feedback{"helpful": "no"}', False),
        ("你的建议很有帮助", True),
        ("建议不错", True),
        ("这个回答没用", False),
        ("你的分析不准", False),
    ],
)
def test_feedback_is_thanked_and_kept_with_the_topic(text: str, helpful: bool):
    tracker = make_tracker("feedback", text, slots={"diagnosis_topic": "limit_closed"})
    if text.startswith("/"):
        value = json.loads(text[len("/feedback") :])["helpful"]
        tracker.latest_message["entities"] = [{"entity": "helpful", "value": value}]
    messages, events = run(ActionRecordFeedback(), tracker)
    key = "feedback_helpful" if helpful else "feedback_unhelpful"
    assert messages[0]["text"] == load_conversation_texts()[key]["text"].strip()
    assert slot_events(events) == {"advice_feedback": {"helpful": helpful, "topic": "limit_closed"}}


def test_unknown_facts_reach_the_engine():
    slots = {"diagnosis_topic": "cannot_borrow", "has_overdue": False, "unknown_facts": ["security_issue"]}
    messages, _ = run(ActionGiveAdvice(), make_tracker(slots=slots))
    assert "account_security" in messages[0]["custom"]["advice"]["reasons"]


def test_can_it_come_back_after_a_closed_limit_keeps_the_closed_limit_s_weight():
    """「还能恢复吗」 after an advice on a closed limit with unusual money movements: the answer
    is that of a suspected misuse, not "it depends on how the reason is handled"."""
    answers = yaml.safe_load((ROOT / "knowledge" / "advice.yml").read_text(encoding="utf-8"))["answers"]
    facts = {"has_overdue": False, "abnormal_transactions": True}
    first, events = run(ActionGiveAdvice(), make_tracker(slots={**facts, "diagnosis_topic": "limit_closed"}))
    history = [
        {"event": "slot", "name": "diagnosis_topic", "value": "limit_closed"},
        {"event": "bot", "text": first[0]["text"]},
        {"event": "slot", "name": "diagnosis_topic", "value": "restore_limit"},
    ]
    slots = {**facts, "diagnosis_topic": "restore_limit", "last_advice": slot_events(events)["last_advice"]}
    messages, _ = run(ActionGiveAdvice(), make_tracker("ask_restore_limit", slots=slots, events=history))
    assert messages[0]["text"].startswith(answers["restore_limit"]["misuse"])
    # After a restart (which clears every slot) the earlier topic no longer counts.
    restarted = history[:2] + [{"event": "restart"}] + history[2:]
    slots = {**slots, "last_advice": None}
    messages, _ = run(ActionGiveAdvice(), make_tracker("ask_restore_limit", slots=slots, events=restarted))
    assert not messages[0]["text"].startswith(answers["restore_limit"]["misuse"])


def test_can_it_come_back_after_an_advice_keeps_its_steps_and_answers_first():
    """「那我多久能恢复」 after the advice on a lowered limit asks about the same limit: the answer,
    and nothing of the advice again (no re-ranked steps, no second card on the web)."""
    facts = {**NOTHING_WRONG, "debt_ratio": 30.0, "symptom_days": 2.0}
    first, events = run(ActionGiveAdvice(), make_tracker(slots={**facts, "diagnosis_topic": "limit_dropped"}))
    history = [{"event": "bot", "text": first[0]["text"]}]
    slots = {**facts, "diagnosis_topic": "restore_limit", "last_advice": slot_events(events)["last_advice"]}
    for channel in ("rest", "socketio"):
        tracker = make_tracker("ask_restore_limit", "那我多久能恢复", slots=slots, events=history)
        tracker.events[0]["input_channel"] = channel
        messages, events = run(ActionGiveAdvice(), tracker)
        lines = messages[0]["text"].splitlines()
        assert lines[0] == "大概率能恢复，一般几天到一周。"
        assert lines[1:] == [load_advice_knowledge()["render"]["unchanged"]]
        assert slot_events(events)["last_advice"]["steps"] == first[0]["custom"]["advice"]["steps"]
        assert bool(messages[0].get("custom")) == (channel != "socketio")  # no second card on the web


def test_update_advice_without_a_topic_asks_what_the_problem_is():
    messages, events = run(ActionUpdateAdvice(), make_tracker(slots={"recent_applications": True}))
    assert not messages[0].get("custom")
    assert messages[0]["buttons"] == load_diagnosis_config()["texts"]["topic_buttons"]
    assert events == []


def test_update_advice_that_reads_no_fact_says_so_instead_of_claiming_an_update():
    slots = {"diagnosis_topic": "limit_closed", "has_overdue": False, "security_issue": True}
    messages, events = run(ActionUpdateAdvice(), make_tracker(text="我还有个情况", slots=slots))
    assert [m["text"] for m in messages] == [load_diagnosis_config()["texts"]["update_unclear"]]
    assert events == []


SHORT_OVERDUE_ADVISED = {
    "diagnosis_topic": "cannot_borrow",
    "has_overdue": True,
    "overdue_days": 2.0,
    "last_advice": {
        "topic": "cannot_borrow",
        "situation": "personal",
        "reasons": ["overdue", "credit_report"],
        "steps": ["repay_on_time", "check_credit_report", "wait_and_retry", "smaller_amount"],
    },
}


def test_a_late_debt_share_that_changes_nothing_is_one_sentence():
    from advisor.engine import rank_advice
    from advisor.followup import Shown

    advice = rank_advice("cannot_borrow", {"has_overdue": True, "overdue_days": 2.0, "debt_ratio": 20.0})
    slots = {**SHORT_OVERDUE_ADVISED, "last_advice": Shown.of(advice).value()}
    messages, events = run(ActionUpdateAdvice(), make_tracker(text="两成", slots=slots))
    texts = load_diagnosis_config()["texts"]
    assert [m["text"] for m in messages] == [
        texts["updated_unchanged"].format(facts="每月还款约占收入的20%", assessment=texts["assessment_debt_ok"])
    ]
    assert slot_events(events) == {"debt_ratio": 20.0}
    assert not messages[0].get("custom")  # no second advice card either


def test_a_late_fact_that_changes_the_advice_shows_only_the_change():
    from advisor.engine import rank_advice
    from advisor.followup import Shown

    advice = rank_advice("cannot_borrow", {"has_overdue": True, "overdue_days": 2.0})
    slots = {**SHORT_OVERDUE_ADVISED, "last_advice": Shown.of(advice).value()}
    messages, events = run(ActionUpdateAdvice(), make_tracker(text="八成", slots=slots))
    assert slot_events(events)["debt_ratio"] == 80.0
    text = messages[0]["text"]
    assert text.startswith("好的，按「每月还款约占收入的80%」记，根据您补充的情况")
    assert "负债" in text and "可能的原因：" not in text  # the new reason alone, under its own header


def test_update_advice_after_a_correction():
    slots = {"diagnosis_topic": "limit_dropped", "has_overdue": False, "overdue_days": 40.0}
    messages, events = run(ActionUpdateAdvice(), make_tracker(slots=slots))
    changed = slot_events(events)
    assert changed["overdue_days"] is None
    advice = messages[0]["custom"]["advice"]
    assert "overdue" not in advice["reasons"]
    assert changed["last_advice"]["reasons"] == advice["reasons"]
    assert messages[0]["text"].startswith(load_diagnosis_config()["texts"]["updated_lead"].format(facts=""))


def test_update_advice_says_what_was_understood_and_only_what_changed():
    """「不对，有六成」 after an advice: the share is said back, then only the changed part."""
    before = {"diagnosis_topic": "cannot_borrow", "has_overdue": False, "debt_ratio": 0.0}
    first, events = run(ActionGiveAdvice(), make_tracker(slots=before))
    earlier = slot_events(events)["last_advice"]
    tracker = make_tracker(
        text="不对，有六成",
        slots={**before, "debt_ratio": 60.0, "last_advice": earlier},
        events=[{"event": "bot", "text": first[0]["text"]}],
    )
    tracker.latest_message["entities"] = [{"entity": "debt_ratio", "value": 60.0}]
    messages, _ = run(ActionUpdateAdvice(), tracker)
    text = messages[0]["text"]
    assert text.startswith("好的，按「每月还款约占收入的60%」记，")
    assert "负债率偏高" in text and "high_debt" in messages[0]["custom"]["advice"]["reasons"]
    repeated = {line for line in text.splitlines() if len(line) >= 12} & set(first[0]["text"].splitlines())
    assert not repeated


# --- session start and fallback ---------------------------------------------------------


def test_session_start_carries_facts_over_and_shows_the_disclaimer():
    shown = {"topic": "cannot_borrow", "situation": "personal", "reasons": ["overdue"], "steps": ["repay_on_time"]}
    slots = {"has_overdue": True, "requested_slot": "debt_ratio", "answer_failures": 1.0, "last_advice": shown}
    messages, events = run(ActionSessionStart(), make_tracker(slots=slots))
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    assert slot_events(events) == {"has_overdue": True}
    assert len(messages) == 1 and messages[0]["text"] == load_conversation_texts()["disclaimer"]["text"]


def test_fallback_offers_the_likeliest_intents():
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "ask_credit_report", "confidence": 0.3},
        {"name": "affirm", "confidence": 0.1},
        {"name": "ask_debt_ratio", "confidence": 0.1},
    ]
    messages, _ = run(ActionDefaultAskAffirmation(), make_tracker("nlu_fallback", ranking=ranking))
    labels = load_intent_labels()
    assert messages[0]["text"] == f"您是想问「{labels['ask_credit_report']}」吗？"
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_credit_report", "/ask_debt_ratio", "/out_of_scope"]


def test_fallback_without_candidates_asks_to_rephrase():
    messages, _ = run(ActionDefaultAskAffirmation(), make_tracker("nlu_fallback", ranking=[]))
    assert messages[0]["text"] == load_conversation_texts()["ask_rephrase"]["text"]


def test_default_fallback_says_what_the_bot_can_do_and_forgets_the_message():
    messages, events = run(ActionDefaultFallback(), make_tracker("nlu_fallback"))
    assert messages[0]["text"] == load_conversation_texts()["default"]["text"]
    assert events == [{"event": "rewind", "timestamp": None}]


def test_ask_rephrase():
    messages, _ = run(ActionDefaultAskRephrase(), make_tracker("nlu_fallback"))
    assert messages[0]["text"] == load_conversation_texts()["ask_rephrase"]["text"]


def test_the_domain_has_no_ask_actions_so_the_form_asks_nothing_itself():
    # Rasa's form would call action_ask_<slot> (a second action-server call per turn) if the
    # domain had one; the validator sends the question instead.
    assert not [name for name in DOMAIN["actions"] if name.startswith(("action_ask_", "utter_ask_"))]
    assert not [name for name in DOMAIN.get("responses", {}) if name.startswith("utter_ask_")]


@pytest.mark.parametrize("slot", sorted(load_diagnosis_config()["questions"]) + ["recent_events"])
def test_the_validator_ends_its_turn_with_the_question_it_chose(slot):
    answered = {
        "has_overdue": False,
        "overdue_days": None,
        "debt_ratio": 0.2,
        "recent_applications": False,
        "account_inactive": False,
        "abnormal_transactions": False,
        "security_issue": False,
        "credit_report_issue": False,
        "symptom_days": 3.0,
        "recent_events": "answered",
    }
    facts = {name: value for name, value in answered.items() if name != slot}
    tracker = make_tracker("greet", "", {**facts, "diagnosis_topic": "cannot_borrow"})
    messages, events = run(ValidateDiagnosisForm(), tracker)
    requested = slot_events(events)["requested_slot"]
    if requested is None:
        assert messages == [], f"{slot}: the plan asks nothing here, so nothing may be asked"
        return
    entry = question_entry(requested, {**facts}, [])
    assert messages[-1]["text"].endswith(str(entry["text"]).strip())
    assert [b["payload"] for b in messages[-1]["buttons"]] == [b["payload"] for b in entry.get("buttons") or []]


@pytest.mark.parametrize("slot", sorted(load_diagnosis_config()["questions"]))
def test_each_question_has_text_and_the_multiple_choice_lists_its_options(slot):
    question = question_entry(slot)
    assert str(question["text"]).strip()
    options = load_diagnosis_config()["recent_events"]["options"]
    choice = question_entry("recent_events", {}, [])
    assert [b["title"] for b in choice["buttons"]][: len(options)] == [o["title"] for o in options]
    assert all(f"{n}. " in choice["text"] for n in range(1, len(options) + 1))


def test_coming_back_after_an_interruption_asks_the_open_question_again_not_the_domain_order():
    # The form resumes after a rule answered 「还能恢复吗」: Rasa runs the validator with the
    # FAQ action as the latest action. The message is not an answer, and the question that is
    # asked again is the plan's (never overdue_days when there was no overdue).
    slots = {
        "requested_slot": "symptom_days",
        "diagnosis_topic": "cannot_borrow",
        "has_overdue": False,
        "debt_ratio": 0.3,
        "recent_applications": False,
        "recent_events": "answered",
    }
    latest = {
        "text": "还能恢复吗",
        "intent": {"name": "ask_restore_limit", "confidence": 0.9},
        "intent_ranking": [],
        "entities": [],
    }
    history = [
        {"event": "slot", "name": "requested_slot", "value": "symptom_days"},
        {"event": "user", "text": "还能恢复吗", "parse_data": latest},
        {"event": "action", "name": "action_answer_faq"},
    ]
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots.update(slots)
    tracker = Tracker(
        "tester",
        all_slots,
        latest,
        history,
        False,
        None,
        {"name": "diagnosis_form", "is_interrupted": True},
        "action_answer_faq",
    )
    messages, events = run(ValidateDiagnosisForm(), tracker)
    assert slot_events(events)["requested_slot"] == "symptom_days"
    question = str(load_diagnosis_config()["questions"]["symptom_days"]["text"]).strip()
    assert messages[-1]["text"].endswith(load_diagnosis_config()["texts"]["back_to_question"] + question)
    assert "overdue_days" not in slot_events(events)


@pytest.mark.parametrize(
    "slot", ["has_overdue", "recent_applications", "account_inactive", "abnormal_transactions", "security_issue"]
)
def test_yes_no_questions_offer_yes_no_dont_know(slot):
    payloads = [b["payload"] for b in load_diagnosis_config()["questions"][slot]["buttons"]]
    assert payloads == ["/affirm", "/deny", "/dont_know"]


@pytest.mark.parametrize("channel", ["terminal", "cmdline"])  # make chat (channels/shell.py), rasa shell
def test_terminal_gets_the_advice_as_text_only(channel):
    tracker = make_tracker(slots={"diagnosis_topic": "cannot_borrow", "debt_ratio": 70.0})
    tracker.events[0]["input_channel"] = channel
    messages, _ = run(ActionGiveAdvice(), tracker)
    assert not messages[0].get("custom") and "1." in messages[0]["text"]


def test_a_fact_stated_without_a_topic_is_said_back_with_the_topic_buttons():
    from actions.diagnosis import ActionUpdateAdvice

    tracker = make_tracker("inform", "我借呗逾期了四天", {"has_overdue": True, "overdue_days": 4.0})
    tracker.latest_message["entities"] = [
        {"entity": "has_overdue", "value": True},
        {"entity": "overdue_days", "value": 4.0},
    ]
    messages, _ = run(ActionUpdateAdvice(), tracker)
    assert messages[0]["text"].startswith("好的，我记下了：近期有过逾期，逾期约4天。")
    assert {b["payload"] for b in messages[0]["buttons"]} >= {"/ask_cannot_borrow", "/ask_limit_closed"}


def test_each_question_says_which_step_it_is_and_the_steps_add_up():
    # Four clean answers in a row: the step counts up and never passes the total.
    slots = {"diagnosis_topic": "cannot_borrow"}
    history = []
    seen = []
    for _slot, _value in [("has_overdue", False), ("debt_ratio", 20.0), ("recent_applications", False)]:
        tracker = make_tracker("inform", "", {**slots})
        tracker.events = history + tracker.events
        messages, events = run(ValidateDiagnosisForm(), tracker)
        requested = slot_events(events)["requested_slot"]
        heading = messages[-1]["text"].split("\n")[0]
        step, total = [int(n) for n in re.findall(r"\d+", heading)]
        seen.append((requested, step, total))
        history.append({"event": "slot", "name": "requested_slot", "value": requested})
        slots[requested] = {"has_overdue": False, "debt_ratio": 20.0, "recent_applications": False}.get(
            requested, False
        )
    steps = [step for _, step, _ in seen]
    assert steps == [1, 2, 3], seen
    assert all(step <= total for _, step, total in seen), seen
    assert [requested for requested, _, _ in seen][0] == "has_overdue"


@pytest.mark.parametrize(
    "slot, title, value",
    [
        ("debt_ratio", "三成以下", 20.0),
        ("debt_ratio", "五成以上", 60.0),
        ("overdue_days", "一个月以上", 45.0),
        ("overdue_days", "几天", 5.0),
    ],
)
def test_number_questions_offer_tap_to_answer_ranges_that_parse_to_a_value(slot, title, value):
    buttons = {b["title"]: b["payload"] for b in load_diagnosis_config()["questions"][slot]["buttons"]}
    assert buttons["不清楚"] == "/dont_know"
    payload = buttons[title]
    intent, entities = payload[1:].split("{", 1)
    assert intent == "inform"
    assert json.loads("{" + entities) == {slot: value}
    assert check_range(slot, value)


def test_the_web_widget_gets_the_card_and_one_line_not_the_advice_twice():
    from advisor.knowledge import load_advice_knowledge

    tracker = make_tracker(slots={"diagnosis_topic": "cannot_borrow", "debt_ratio": 70.0})
    tracker.events[0]["input_channel"] = "socketio"
    messages, _ = run(ActionGiveAdvice(), tracker)
    render = load_advice_knowledge()["render"]
    text = messages[0]["text"]
    assert "\n" not in text and render["steps_header"] not in text and render["reasons_header"] not in text
    assert load_advice_knowledge()["reasons"][messages[0]["custom"]["advice"]["reasons"][0]]["title"] in text
    assert messages[0]["buttons"]


def test_the_form_validator_has_rasa_sdk_s_shape():
    """extract_<slot> reads each question's answer, validate_<slot> checks each fact, and
    required_slots() is what is known followed by the planner's questions."""
    from actions.diagnosis_form import ValidateDiagnosisForm
    from advisor.contract import FACT_SLOTS, QUESTIONS

    form = ValidateDiagnosisForm()
    assert all(callable(getattr(form, f"extract_{slot}", None)) for slot in QUESTIONS)
    assert all(callable(getattr(form, f"validate_{slot}", None)) for slot in FACT_SLOTS)
    tracker = make_tracker("deny", "没有", {"has_overdue": False, "diagnosis_topic": "cannot_borrow"})
    required = asyncio.run(form.required_slots([], CollectingDispatcher(), tracker, DOMAIN))
    assert required[0] == "has_overdue" and required[1:] == form.plan(tracker)
    assert required[1] == load_diagnosis_config()["order"]["cannot_borrow"][2]
