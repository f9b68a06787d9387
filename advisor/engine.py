"""Ranks the likely reasons and next steps for one user from their diagnosis facts.

Every rule is a row in a small table below: a fact adds points to a reason, the topic
scales them, and each reason passes a share of its points on to its remedy steps
(a step keeps the best share it gets, plus a small bonus for the topic).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

from advisor.contract import ALL_TOPICS, UNKNOWN
from advisor.domain_rules import overdue_implied_by_days
from advisor.knowledge import load_advice_knowledge
from advisor.situation import Signals, classify

Facts = Mapping[str, object]


@dataclass(frozen=True)
class Rule:
    """A yes/no fact adds `yes` points to `reason` (`unknown` points if the user is unsure)."""

    fact: str
    reason: str
    yes: float
    unknown: float = 0.0
    topics: tuple[str, ...] = ()  # empty: every topic


BOOL_RULES: tuple[Rule, ...] = (
    Rule("has_overdue", "overdue", 75, 10),
    Rule("has_overdue", "credit_report", 25, 5),
    Rule("security_issue", "account_security", 80, 10),
    Rule("abnormal_transactions", "abnormal_activity", 65, 10),
    Rule("abnormal_transactions", "spending_pattern", 20),
    Rule("abnormal_transactions", "risk_control", 15),
    Rule("abnormal_transactions", "misuse", 30, topics=("limit_closed",)),
    Rule("recent_applications", "multi_loan", 60, 10),
    Rule("recent_applications", "credit_report", 25),
    Rule("recent_applications", "spending_pattern", 15),
    Rule("account_inactive", "inactive_account", 55, 10),
    Rule("credit_report_issue", "credit_report", 80, 10),
)

# An overdue of 30+ days doubles the overdue score to 150, above anything else can reach.
DECISIVE_OVERDUE_DAYS = 30.0
# A short overdue the user has already repaid weighs less (still a cause: the record stays a
# while), so that a high debt ratio, say, leads the advice before it.
REPAID_OVERDUE_FACTOR = 0.7
REPAID_OVERDUE_FACTS = frozenset({"has_overdue"})
DECISIVE_OVERDUE_BONUS = 75.0
DECISIVE_CREDIT_REPORT_BONUS = 10.0

# Debt ratio (percent of income): ≤ 30 no reason, 30–50 a minor one, > 50 a leading one.
DEBT_MINOR, DEBT_HIGH = 30.0, 50.0
DEBT_HIGH_BASE, DEBT_HIGH_SLOPE = 55.0, 0.8
DEBT_UNKNOWN_POINTS = 10.0

# Two or more clear risk signals together suggest the limit is about to be withdrawn.
SEVERAL_SIGNALS = 2
ZERO_LIMIT_POINTS = 30.0

# A user without any risk signal: the cause is most likely on the platform's side.
BASELINE: dict[str, float] = {"risk_control": 40, "observation_period": 35, "regulation": 20}
# A user without Jiebei and without a risk signal: the overall assessment has not offered it yet.
TOPIC_BASELINE: dict[str, dict[str, float]] = {"not_opened": {"not_offered": 45}}

# How long the problem has lasted, for a user without a risk signal (B): a refusal of a few days
# is most likely a passing fluctuation or a temporary risk-control adjustment (wait a few days
# to a week); one that lasts a month or more is a suspension while the platform re-evaluates
# (an observation period: keep using the account normally and wait for the re-evaluation).
SHORT_SYMPTOM_DAYS, LONG_SYMPTOM_DAYS = 14.0, 30.0
SYMPTOM_POINTS = 30.0

# A personal cause with at least this score explains the user's problem on its own: the
# planner asks nothing more (advisor/planner.py). Every yes to a risk fact reaches it; a
# debt ratio does from just over 50 %; an "I don't know" never does.
EXPLAINS_POINTS = 50.0
PLATFORM_SOURCES = frozenset({"none", "symptom_days"})

TOPIC_REASON_FACTOR: dict[str, dict[str, float]] = {
    "cannot_borrow": {"observation_period": 1.2, "risk_control": 1.1, "zero_limit_warning": 1.3},
    "limit_dropped": {"regulation": 1.3, "inactive_account": 1.1},
    "restore_limit": {},
    "limit_closed": {"account_security": 1.3, "abnormal_activity": 1.3, "zero_limit_warning": 1.2},
    "increase_limit": {"inactive_account": 1.2, "high_debt": 1.1, "zero_limit_warning": 0.5},
    # No limit to withdraw from someone who has none.
    "not_opened": {"inactive_account": 1.2, "account_security": 1.2, "zero_limit_warning": 0.0},
}

# Reason → its remedy steps, most important first. Also the tie-break order of reasons.
REMEDIES: dict[str, tuple[str, ...]] = {
    "overdue": ("repay_on_time", "check_credit_report", "wait_and_retry"),
    "account_security": ("secure_account", "check_account_status", "appeal_support"),
    "high_debt": ("reduce_debt", "spend_rationally", "cash_reserve"),
    # Money rushing in and out: have support look at the account (and explain the transfers),
    # make sure it is not someone else using it, then keep ordinary activity.
    "abnormal_activity": ("appeal_support", "secure_account", "keep_active", "check_account_status"),
    "multi_loan": ("wait_and_retry", "check_credit_report", "reduce_debt"),
    "credit_report": ("check_credit_report", "wait_and_retry"),
    "inactive_account": ("keep_active", "diversify_usage"),
    "misuse": ("appeal_support", "check_account_status"),
    "zero_limit_warning": ("alternatives", "cash_reserve", "check_account_status"),
    "spending_pattern": ("spend_rationally", "cash_reserve"),
    "risk_control": ("wait_and_retry", "smaller_amount", "keep_active", "alternatives"),
    "observation_period": ("keep_active", "update_profile", "wait_and_retry"),
    "regulation": ("wait_and_retry", "alternatives", "cash_reserve"),
    "not_offered": ("keep_active", "update_profile", "diversify_usage", "check_account_status"),
}
# A reason gives its n-th remedy this share of its score; a step keeps its best share.
STEP_DECAY: tuple[float, ...] = (1.0, 0.6, 0.4, 0.3)

# Points a topic adds to a step whatever the reasons (only steps that fit anyone).
TOPIC_STEP_BONUS: dict[str, dict[str, float]] = {
    "cannot_borrow": {"smaller_amount": 10},
    "limit_dropped": {"check_account_status": 20},
    "restore_limit": {"wait_and_retry": 30, "update_profile": 10},
    "limit_closed": {"appeal_support": 35, "check_account_status": 10},
    "increase_limit": {"update_profile": 40, "keep_active": 30, "join_activities": 15, "diversify_usage": 10},
    # Where to look in the app, and the conditions A and B name: activity and the profile.
    "not_opened": {"check_account_status": 30, "keep_active": 25, "update_profile": 25},
}
# Factors a topic applies to steps the reasons already earned (zero stays zero).
TOPIC_STEP_FACTOR: dict[str, dict[str, float]] = {
    "restore_limit": {"repay_on_time": 1.5},
    "limit_closed": {"smaller_amount": 0.0},  # nothing left to borrow a small part of
    # Nothing to borrow, retry or appeal yet without Jiebei.
    "not_opened": {"smaller_amount": 0.0, "wait_and_retry": 0.0, "alternatives": 0.0, "appeal_support": 0.5},
}
# Tie-break order of steps.
STEP_ORDER: tuple[str, ...] = (
    "repay_on_time",
    "secure_account",
    "reduce_debt",
    "check_credit_report",
    "update_profile",
    "keep_active",
    "wait_and_retry",
    "appeal_support",
    "check_account_status",
    "smaller_amount",
    "spend_rationally",
    "diversify_usage",
    "join_activities",
    "alternatives",
    "cash_reserve",
)

MAX_REASONS = 4
MAX_STEPS = 5


@dataclass(frozen=True)
class Advice:
    """Ranked reason and step codes for one user; explanations: reason → why, for this user."""

    topic: str
    reasons: tuple[str, ...]
    steps: tuple[str, ...]
    explanations: dict[str, str] = field(default_factory=dict)
    situation: str = "undiagnosed"  # advisor/situation.py: sets the steps' wording and time frames
    # Steps worded by a fact rather than by the situation (step_wording): step → variant name.
    wording: Mapping[str, str] = field(default_factory=dict)

    def variant(self, step: str) -> str:
        """The variant (knowledge/advice.yml, the step's `variants`) `step` is worded in."""
        return self.wording.get(step, self.situation)

    def payload(self) -> dict[str, dict[str, object]]:
        """The contract's custom payload for the advice card, plus the situation and the
        fact-chosen wording (added keys: the card words the steps as the text does,
        advisor/render.step_text)."""
        return {
            "advice": {
                "topic": self.topic,
                "reasons": list(self.reasons),
                "steps": list(self.steps),
                "situation": self.situation,
                "wording": dict(self.wording),
            }
        }


@dataclass(frozen=True)
class _Points:
    """Points a reason got from one piece of evidence (a slot, 'none' or 'several_signals')."""

    reason: str
    source: str
    state: str  # "yes" | "unknown"
    points: float


def _state(value: object) -> str:
    """A yes/no slot value as yes | no | unknown | none."""
    if value is True or value == "yes":
        return "yes"
    if value is False or value == "no":
        return "no"
    if value == UNKNOWN:
        return "unknown"
    return "none"


def _number(value: object) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _bool_states(facts: Facts) -> dict[str, str]:
    facts = {**facts, "has_overdue": overdue_implied_by_days(facts.get("has_overdue"), facts.get("overdue_days"))}
    return {rule.fact: _state(facts.get(rule.fact)) for rule in BOOL_RULES}


def _debt_points(ratio: float) -> float:
    ratio = min(ratio, 100.0)
    if ratio <= DEBT_MINOR:
        return 0.0
    if ratio <= DEBT_HIGH:
        return ratio - DEBT_MINOR
    return DEBT_HIGH_BASE + (ratio - DEBT_HIGH) * DEBT_HIGH_SLOPE


def _evidence(topic: str, facts: Facts) -> list[_Points]:
    states = _bool_states(facts)
    repaid_short = repaid_short_overdue(facts)
    found: list[_Points] = []
    for rule in BOOL_RULES:
        if rule.topics and topic not in rule.topics:
            continue
        state = states[rule.fact]
        points = rule.yes if state == "yes" else rule.unknown if state == "unknown" else 0.0
        if repaid_short and rule.fact in REPAID_OVERDUE_FACTS:
            points *= REPAID_OVERDUE_FACTOR
        if points > 0:
            found.append(_Points(rule.reason, rule.fact, state, points))

    if decisive_overdue(facts):
        found.append(_Points("overdue", "overdue_days", "yes", DECISIVE_OVERDUE_BONUS))
        found.append(_Points("credit_report", "overdue_days", "yes", DECISIVE_CREDIT_REPORT_BONUS))

    ratio = _number(facts.get("debt_ratio"))
    if ratio is not None and _debt_points(ratio) > 0:
        found.append(_Points("high_debt", "debt_ratio", "yes", _debt_points(ratio)))
    elif facts.get("debt_ratio") == UNKNOWN:
        found.append(_Points("high_debt", "debt_ratio", "unknown", DEBT_UNKNOWN_POINTS))

    signals = sum(state == "yes" for state in states.values()) + int(ratio is not None and ratio > DEBT_HIGH)
    if signals == 0:
        baseline = TOPIC_BASELINE.get(topic, BASELINE)
        found.extend(_Points(reason, "none", "yes", points) for reason, points in baseline.items())
        lasted = _number(facts.get("symptom_days")) if topic not in TOPIC_BASELINE else None
        if lasted is not None and lasted <= SHORT_SYMPTOM_DAYS:
            found.append(_Points("risk_control", "symptom_days", "yes", SYMPTOM_POINTS))
        elif lasted is not None and lasted >= LONG_SYMPTOM_DAYS:
            found.append(_Points("observation_period", "symptom_days", "yes", SYMPTOM_POINTS))
    elif signals >= SEVERAL_SIGNALS:
        found.append(_Points("zero_limit_warning", "several_signals", "yes", ZERO_LIMIT_POINTS))
    return found


def explains(topic: str, facts: Facts) -> bool:
    """True when a personal cause in `facts` is strong enough to explain the problem on its own."""
    _check_topic(topic)
    personal: dict[str, float] = {}
    for item in _evidence(topic, facts):
        if item.source not in PLATFORM_SOURCES and item.state == "yes":
            personal[item.reason] = personal.get(item.reason, 0.0) + item.points
    return any(points >= EXPLAINS_POINTS for points in personal.values())


def decisive_overdue(facts: Facts) -> bool:
    """An overdue of DECISIVE_OVERDUE_DAYS or more: it explains the case and outweighs everything."""
    days = _number(facts.get("overdue_days"))
    return _bool_states(facts)["has_overdue"] == "yes" and days is not None and days >= DECISIVE_OVERDUE_DAYS


def overdue_repaid(facts: Facts) -> bool:
    """The user had an overdue and says it is repaid."""
    return _bool_states(facts)["has_overdue"] == "yes" and facts.get("overdue_repaid") is True


def repaid_short_overdue(facts: Facts) -> bool:
    """An overdue of less than DECISIVE_OVERDUE_DAYS (or of unknown length) the user says is repaid."""
    return overdue_repaid(facts) and not decisive_overdue(facts)


# Steps worded for a topic whatever the situation: without Jiebei, the step that looks at the
# Jiebei page looks for its entry instead.
TOPIC_WORDING: dict[str, dict[str, str]] = {
    "not_opened": {"check_account_status": "not_opened", "keep_active": "not_opened", "update_profile": "not_opened"}
}


def step_wording(topic: str, facts: Facts) -> dict[str, str]:
    """Steps whose wording a fact or the topic chooses instead of the situation: an overdue
    already repaid is "keep repaying on time" (its `repaid` variant), not "repay the overdue
    first"; a long one still takes the months of the long path (the situation's other steps and
    outlook)."""
    wording = dict(TOPIC_WORDING.get(topic, {}))
    if overdue_repaid(facts):
        wording["repay_on_time"] = "repaid"
    return wording


def _check_topic(topic: str) -> None:
    if topic not in ALL_TOPICS:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(ALL_TOPICS)}")


def _score(topic: str, evidence: list[_Points]) -> dict[str, float]:
    factors = TOPIC_REASON_FACTOR.get(topic, {})
    scores: dict[str, float] = {}
    for item in evidence:
        scores[item.reason] = scores.get(item.reason, 0.0) + item.points * factors.get(item.reason, 1.0)
    order = list(REMEDIES)
    ranked = sorted((r for r, v in scores.items() if v > 0), key=lambda r: (-scores[r], order.index(r)))
    return {reason: scores[reason] for reason in ranked}


def reason_scores(topic: str, facts: Facts) -> dict[str, float]:
    """Every reason with a positive score for these facts, highest first (ties: REMEDIES order)."""
    _check_topic(topic)
    return _score(topic, _evidence(topic, facts))


def _rank_steps(topic: str, reasons: Mapping[str, float]) -> tuple[str, ...]:
    scores: dict[str, float] = {}
    for reason, score in reasons.items():
        for step, share in zip(REMEDIES[reason], STEP_DECAY):
            scores[step] = max(scores.get(step, 0.0), score * share)
    for step, factor in TOPIC_STEP_FACTOR.get(topic, {}).items():
        if step in scores:
            scores[step] *= factor
    for step, bonus in TOPIC_STEP_BONUS.get(topic, {}).items():
        scores[step] = scores.get(step, 0.0) + bonus
    ranked = sorted((s for s, v in scores.items() if v > 0), key=lambda s: (-scores[s], STEP_ORDER.index(s)))
    return tuple(ranked[:MAX_STEPS])


def _format_value(value: object) -> str:
    number = _number(value)
    if number is None:
        return ""
    return str(int(number)) if number.is_integer() else f"{number:.1f}"


def _explanations(facts: Facts, found: list[_Points], reasons: tuple[str, ...]) -> dict[str, str]:
    knowledge = load_advice_knowledge()
    templates = knowledge["evidence"]
    strongest: dict[str, _Points] = {}
    for item in found:
        # On a tie the later, more specific evidence wins (overdue_days over has_overdue).
        if item.reason not in strongest or item.points >= strongest[item.reason].points:
            strongest[item.reason] = item
    texts: dict[str, str] = {}
    quoted: set[str] = set()
    for reason in reasons:
        why = knowledge["reasons"][reason]["why"]
        item = strongest[reason]
        template = templates.get(item.source, {}).get(item.state, "")
        evidence = template.format(value=_format_value(facts.get(item.source)))
        # One answer is quoted once, in front of the first reason it supports.
        texts[reason] = ("" if evidence in quoted else evidence) + why
        quoted.add(evidence)
    return texts


def situation_of(topic: str, facts: Facts, complete: bool = True, closed: bool = False) -> str:
    """advisor.situation.classify for these facts; `complete`: the diagnosis is over; `closed`:
    the limit was said to be closed earlier in the conversation (「还能恢复吗」 after it)."""
    _check_topic(topic)
    return classify(
        Signals(
            topic=topic,
            closed=closed or topic == "limit_closed",
            decisive_overdue=decisive_overdue(facts),
            personal_cause=explains(topic, facts),
            abnormal_transactions=_state(facts.get("abnormal_transactions")) == "yes",
            symptom_days=_number(facts.get("symptom_days")),
            unsure=any(value == UNKNOWN for value in facts.values()),
            complete=complete,
        )
    )


# How many of the top reason's own steps go before the long path (a closed limit after an
# account-security problem still starts with securing the account).
LONG_PATH_OWN_STEPS = 2


def _long_path_steps(topic: str, facts: Facts, reasons: Mapping[str, float]) -> tuple[str, ...]:
    """A's months-long path (knowledge/advice.yml, situations.long_path.steps), repaying and
    checking the credit report only for someone who was overdue (or whose report is a reason),
    the re-evaluation last. Unless an overdue leads, the best
    ranked steps outside the path go first (a closed limit after a security problem still
    starts with securing the account)."""
    path = [str(step) for step in load_advice_knowledge()["situations"]["long_path"]["steps"]]
    if _bool_states(facts)["has_overdue"] != "yes":
        path = [step for step in path if step != "repay_on_time"]
        if "credit_report" not in reasons:
            path = [step for step in path if step != "check_credit_report"]
    if next(iter(reasons), None) == "overdue":
        own: list[str] = []
    else:
        own = [step for step in _rank_steps(topic, reasons) if step not in path][:LONG_PATH_OWN_STEPS]
    return tuple((own + path[:-1])[: MAX_STEPS - 1] + path[-1:])


def rank_advice(topic: str, facts: Mapping[str, object], complete: bool = True, closed: bool = False) -> Advice:
    """Likely reasons (≤ 4) and recommended steps (≤ 5) for `topic`, most important first,
    weighted by the user's situation (advisor/situation.py)."""
    _check_topic(topic)
    found = _evidence(topic, facts)
    top = dict(list(_score(topic, found).items())[:MAX_REASONS])
    reasons = tuple(top)
    situation = situation_of(topic, facts, complete, closed)
    steps = _long_path_steps(topic, facts, top) if situation == "long_path" else _rank_steps(topic, top)
    return Advice(
        topic=topic,
        reasons=reasons,
        steps=steps,
        explanations=_explanations(facts, found, reasons),
        situation=situation,
        wording=step_wording(topic, facts),
    )
