"""How the test users answer each diagnosis question unless a test says otherwise: one table
for the end-to-end tests (tests/e2e/test_rest.py) and the scale tests (tests/scale/)."""

from typing import Dict

DEFAULT_ANSWERS: Dict[str, str] = {
    "has_overdue": "没有",
    "overdue_days": "五天",
    "debt_ratio": "两成",
    "recent_applications": "没有",
    "account_inactive": "不是，常用",
    "abnormal_transactions": "没有",
    "security_issue": "没有",
    "credit_report_issue": "没有",
    "recent_events": "都没有",
    "symptom_days": "就这几天",
}
