"""Names fixed by ../shared/CONTRACT.md: intents, diagnosis slots, advice codes."""

from __future__ import annotations

TOPICS: tuple[str, ...] = (
    "cannot_borrow",
    "limit_dropped",
    "restore_limit",
    "limit_closed",
    "increase_limit",
)
# Topics beyond the contract's: the user has no Jiebei at all (never opened, cannot open it;
# advisor/topics.py). Started by a limit question, so no intent of its own.
ADDED_TOPICS: tuple[str, ...] = ("not_opened",)
ALL_TOPICS: tuple[str, ...] = TOPICS + ADDED_TOPICS

REASONS: tuple[str, ...] = (
    "overdue",
    "credit_report",
    "high_debt",
    "multi_loan",
    "inactive_account",
    "abnormal_activity",
    "account_security",
    "risk_control",
    "observation_period",
)

STEPS: tuple[str, ...] = (
    "repay_on_time",
    "check_credit_report",
    "reduce_debt",
    "keep_active",
    "secure_account",
    "update_profile",
    "wait_and_retry",
    "appeal_support",
    "alternatives",
)

BOOL_SLOTS: tuple[str, ...] = (
    "has_overdue",
    "recent_applications",
    "account_inactive",
    "abnormal_transactions",
    "security_issue",
)
NUMERIC_SLOTS: tuple[str, ...] = ("overdue_days", "debt_ratio")
SLOTS: tuple[str, ...] = (
    "has_overdue",
    "overdue_days",
    "debt_ratio",
    "recent_applications",
    "account_inactive",
    "abnormal_transactions",
    "security_issue",
)

# Facts the diagnosis also keeps, beyond the contract's (the contract allows adding slots):
# a bad record or error on the credit report (reason credit_report), and how many days the
# problem has lasted (a passing risk-control refusal or an observation period).
EXTRA_BOOL_SLOTS: tuple[str, ...] = ("credit_report_issue",)
EXTRA_NUMERIC_SLOTS: tuple[str, ...] = ("symptom_days",)
FACT_SLOTS: tuple[str, ...] = SLOTS + EXTRA_BOOL_SLOTS + EXTRA_NUMERIC_SLOTS
ALL_BOOL_SLOTS: tuple[str, ...] = BOOL_SLOTS + EXTRA_BOOL_SLOTS
ALL_NUMERIC_SLOTS: tuple[str, ...] = NUMERIC_SLOTS + EXTRA_NUMERIC_SLOTS
# Facts kept when the user states them, never asked: whether the overdue was repaid (a short
# overdue already repaid is worded "keep repaying on time", advisor.engine.step_wording).
STATED_SLOTS: tuple[str, ...] = ("overdue_repaid",)

# The multiple-choice question about the rarer causes (knowledge/diagnosis.yml → recent_events).
# Its slot only records that it was answered; the answers go to the fact slots of its options.
RECENT_EVENTS = "recent_events"
# Everything the diagnosis form can ask: one fact each, or the multiple-choice question.
QUESTIONS: tuple[str, ...] = FACT_SLOTS + (RECENT_EVENTS,)

# The limit questions: each starts the diagnosis on its topic (data/rules/, "a limit
# question starts the diagnosis"; tests/unit/test_contract_rules.py keeps the two in step).
TOPIC_BY_INTENT: dict[str, str] = {
    "ask_limit_dropped": "limit_dropped",
    "ask_restore_limit": "restore_limit",
    "ask_cannot_borrow": "cannot_borrow",
    "ask_limit_closed": "limit_closed",
    "ask_increase_limit": "increase_limit",
}
DIAGNOSIS_INTENTS: tuple[str, ...] = tuple(TOPIC_BY_INTENT)
# General questions answered from knowledge/faq.yml (data/rules/, "answer a general question").
FAQ_INTENTS: tuple[str, ...] = (
    "ask_credit_report",
    "ask_debt_ratio",
    "ask_alternatives",
    "ask_when_retry",
    "ask_submit_proof",
    "ask_appeal",
    "request_human",
    "ask_boost_service",
    "ask_next_step",  # added: what to do first, answered from the advice shown
    "ask_reason",  # added: why (me), answered from the reasons shown
)
# The user asks something (as opposed to answering, stating a fact or small talk).
QUESTION_INTENTS: tuple[str, ...] = DIAGNOSIS_INTENTS + FAQ_INTENTS

INTENTS: tuple[str, ...] = QUESTION_INTENTS + (
    "inform",
    "affirm",
    "deny",
    "dont_know",
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "out_of_scope",
    "feedback",  # 👍 / 👎 on an advice
)

# Value a slot holds when the user said they do not know.
UNKNOWN = "unknown"
