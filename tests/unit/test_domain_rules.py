"""advisor/domain_rules.py: the rules several modules apply, defined once."""

from __future__ import annotations

import pytest

from advisor.answers import reconcile_facts
from advisor.domain_rules import overdue_implied_by_days


@pytest.mark.parametrize(
    "has_overdue, days, expected",
    [
        (None, 5, True),
        ("unknown", 5, True),
        (None, 0.5, True),
        (False, 5, False),
        (True, 5, True),
        (None, None, None),
        (None, 0, None),
        (None, -3, None),
        (None, True, None),
        (None, "5", None),
        ("unknown", None, "unknown"),
    ],
)
def test_an_overdue_length_implies_an_overdue(has_overdue: object, days: object, expected: object) -> None:
    assert overdue_implied_by_days(has_overdue, days) == expected


def test_the_form_and_the_engine_apply_the_same_rule() -> None:
    from advisor.engine import decisive_overdue

    assert reconcile_facts({"has_overdue": None, "overdue_days": 40}) == {"has_overdue": True}
    assert decisive_overdue({"has_overdue": None, "overdue_days": 40})
    assert not decisive_overdue({"has_overdue": False, "overdue_days": 40})
    assert reconcile_facts({"has_overdue": False, "overdue_days": 40}) == {"overdue_days": None}
