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
from actions.diagnosis import ActionGiveAdvice, ActionStartDiagnosis, ActionUpdateAdvice
from actions.diagnosis_form import ValidateDiagnosisForm, asked_slots
from actions.fallback import ActionDefaultAskAffirmation, ActionDefaultAskRephrase, ActionDefaultFallback
from actions.faq import ActionAnswerFaq
from actions.feedback import ActionRecordFeedback
from actions.session import ActionSessionStart
from advisor.answers import check_range
from advisor.knowledge import load_conversation_texts, load_diagnosis_config, load_faq, load_intent_labels
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
]


def make_tracker(
    intent: str = "inform",
    text: str = "",
    slots: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
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
    return Tracker("tester", all_slots, latest, history, False, None, {}, "action_listen")


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


def test_faq_without_an_entry_says_what_the_bot_can_do():
    messages, _ = run(ActionAnswerFaq(), make_tracker("affirm"))
    assert messages[0]["response"] == "utter_out_of_scope"


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
def test_start_diagnosis_names_the_topic_and_resets_bookkeeping(intent, topic):
    tracker = make_tracker(intent, slots={"unknown_facts": ["debt_ratio"], "answer_failures": 1.0})
    messages, events = run(ActionStartDiagnosis(), tracker)
    assert slot_events(events) == {"diagnosis_topic": topic, "unknown_facts": [], "answer_failures": 0.0}
    assert messages and messages[0]["text"]


def test_start_diagnosis_skips_the_intro_when_nothing_needs_asking():
    facts = {"has_overdue": True, "overdue_days": 45.0}
    messages, _ = run(ActionStartDiagnosis(), make_tracker("ask_cannot_borrow", slots=facts))
    assert messages == []


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


def test_update_advice_without_a_topic_asks_what_the_problem_is():
    messages, events = run(ActionUpdateAdvice(), make_tracker(slots={"recent_applications": True}))
    assert not messages[0].get("custom")
    assert messages[0]["buttons"] == load_diagnosis_config()["texts"]["topic_buttons"]
    assert events == []


def test_update_advice_after_a_correction():
    slots = {"diagnosis_topic": "limit_dropped", "has_overdue": False, "overdue_days": 40.0}
    messages, events = run(ActionUpdateAdvice(), make_tracker(slots=slots))
    assert slot_events(events) == {"overdue_days": None}
    advice = messages[0]["custom"]["advice"]
    assert "overdue" not in advice["reasons"]
    assert messages[0]["text"].startswith(load_diagnosis_config()["texts"]["updated_lead"])


# --- session start and fallback ---------------------------------------------------------


def test_session_start_carries_facts_over_and_shows_the_disclaimer():
    slots = {"has_overdue": True, "requested_slot": "debt_ratio", "answer_failures": 1.0}
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
    assert messages[-1]["text"].endswith(str(load_diagnosis_config()["questions"]["symptom_days"]["text"]).strip())
    assert "overdue_days" not in slot_events(events)


@pytest.mark.parametrize(
    "slot", ["has_overdue", "recent_applications", "account_inactive", "abnormal_transactions", "security_issue"]
)
def test_yes_no_questions_offer_yes_no_dont_know(slot):
    payloads = [b["payload"] for b in load_diagnosis_config()["questions"][slot]["buttons"]]
    assert payloads == ["/affirm", "/deny", "/dont_know"]


def test_terminal_gets_the_advice_as_text_only():
    tracker = make_tracker(slots={"diagnosis_topic": "cannot_borrow", "debt_ratio": 70.0})
    tracker.events[0]["input_channel"] = "cmdline"
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
