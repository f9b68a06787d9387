"""Rules of the domain that several parts of the advisor apply, each defined here once."""

from __future__ import annotations

from advisor.contract import UNKNOWN


def overdue_implied_by_days(has_overdue: object, overdue_days: object) -> object:
    """``has_overdue`` as a stated overdue length implies it: a length above zero means there
    was an overdue, unless the user said there was none (False). Otherwise unchanged."""
    if has_overdue is False or has_overdue is True:
        return has_overdue
    if isinstance(overdue_days, bool) or not isinstance(overdue_days, (int, float)) or overdue_days <= 0:
        return has_overdue
    return True if has_overdue in (None, UNKNOWN) else has_overdue
