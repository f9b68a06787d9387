"""How serious the user's situation is, which sets the weight of the advice: its time frames,
the wording of its steps and the first sentence of the answer (knowledge/advice.yml,
`situations`, `answers` and the steps' `variants`).

- misuse: the limit is closed and money has moved in and out unusually; A warns that a
  suspected misuse (cash-out, arbitrage) can close Jiebei for good.
- long_path: an overdue of a month or more, or a closed limit (also when the user then asks
  whether it can come back: the limit is still closed); A's own case (a one-month
  overdue, the limit cut, back after about half a year of on-time repayment and new
  materials) is a matter of months, not of retrying next week.
- personal: a personal cause explains the problem (advisor.engine.explains), less than the two above.
- suspended: nothing personal, and it has lasted a month or more: B's observation period.
- transient: nothing personal and it has not lasted long: B's passing fluctuation or temporary
  risk control (wait a few days to a week, do not retry over and over).
- undiagnosed: too little is known to tell, still or because the user did not know an answer
  (the answer says what it depends on).
- not_offered: the user has no Jiebei (topic not_opened) and nothing personal stands in the way:
  whether it is offered is the platform's overall credit assessment (B), which a good record,
  an active account and an up-to-date profile feed (A).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

SITUATIONS: tuple[str, ...] = (
    "misuse",
    "long_path",
    "personal",
    "suspended",
    "transient",
    "undiagnosed",
    "not_offered",
)
# Wordings a fact chooses for one step, whatever the situation (advisor.engine.step_wording):
# repaid: an overdue the user has already repaid; not_opened: the topic of a user without Jiebei.
FACT_WORDINGS: tuple[str, ...] = ("repaid", "not_opened")

# B: a refusal that has lasted this long is an observation period, not a passing fluctuation.
SUSPENDED_DAYS = 30.0


@dataclass(frozen=True)
class Signals:
    """What the situation is decided from, as plain values (advisor.engine computes them)."""

    topic: str
    closed: bool  # the limit is closed (this topic, or one earlier in the conversation)
    decisive_overdue: bool  # an overdue of 30 days or more
    personal_cause: bool  # a personal cause strong enough to explain the problem
    abnormal_transactions: bool
    symptom_days: Optional[float]
    unsure: bool  # the user did not know some answer
    complete: bool  # the diagnosis has asked what it wanted to


def classify(signals: Signals) -> str:
    """One of SITUATIONS. A serious signal decides at once; "nothing personal" only once the
    diagnosis is complete and every answer known, since a missing answer may change it."""
    closed = signals.closed
    if closed and signals.abnormal_transactions:
        return "misuse"
    if signals.decisive_overdue or (closed and signals.complete):
        return "long_path"
    if signals.personal_cause:
        return "personal"
    if signals.topic == "not_opened":
        return "not_offered"  # nothing to wait out or restore: the platform has not offered it yet
    if not signals.complete or signals.unsure:
        return "undiagnosed"  # an unknown answer may hide a personal cause
    if signals.symptom_days is not None and signals.symptom_days >= SUSPENDED_DAYS:
        return "suspended"
    return "transient"
