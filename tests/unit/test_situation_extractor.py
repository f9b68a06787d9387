"""extract_facts (spaCy patterns over jieba tokens) and the SituationExtractor component."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from advisor import contract, fact_patterns
from advisor.facts import KeywordSegmenter, compile_pattern, extract_facts, find_facts, find_products
from advisor.normalize import normalize_text


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "借呗有额度但借不出来，我上个月逾期了十天，每个月还款占工资一半",
            {"has_overdue": True, "overdue_days": 10.0, "debt_ratio": 50.0},
        ),
        # symptom_days: how long the problem has lasted, said in the opening
        ("借呗一直借不出来快两个月了", {"symptom_days": 60.0}),
        ("额度降了，已经一个多月了", {"symptom_days": 30.0}),
        ("借呗被拒三天了", {"symptom_days": 3.0}),
        ("借呗有额度借不出来半年了，负债三成", {"debt_ratio": 30.0, "symptom_days": 180.0}),
        ("借呗一直借不出来快两个月了，逾期过五天", {"symptom_days": 60.0, "has_overdue": True, "overdue_days": 5.0}),
        ("我逾期两个月了", {"has_overdue": True, "overdue_days": 60.0}),  # the overdue's length, not the problem's
        ("两个月没用支付宝了", {}),  # not using Alipay is not how long the problem has lasted
        ("如果借不出来两个月了会怎样", {}),
        # has_overdue / overdue_days
        ("我上个月逾期了五天", {"has_overdue": True, "overdue_days": 5.0}),
        ("逾期了三十五天", {"has_overdue": True, "overdue_days": 35.0}),
        ("逾期了一个多月", {"has_overdue": True, "overdue_days": 30.0}),
        ("我借唄逾期了兩個月", {"has_overdue": True, "overdue_days": 60.0}),
        ("逾期了，大概十来天", {"has_overdue": True, "overdue_days": 10.0}),
        ("晚还了三天", {"has_overdue": True, "overdue_days": 3.0}),
        ("逾期两次", {"has_overdue": True}),
        ("花呗也逾期过", {"has_overdue": True}),
        ("有过一次逾期", {"has_overdue": True}),
        ("没按时还款", {"has_overdue": True}),
        ("不对，我没有逾期", {"has_overdue": False}),
        ("我没逾期过", {"has_overdue": False}),
        ("从来没有逾期过", {"has_overdue": False}),
        ("一次都没有逾期", {"has_overdue": False}),
        ("没有过逾期", {"has_overdue": False}),
        ("无逾期记录", {"has_overdue": False}),
        ("逾期记录都没有", {"has_overdue": False}),
        ("我一直按时还款", {"has_overdue": False}),
        ("还款都很按时", {"has_overdue": False}),
        # corrections: the last statement wins, and a denial drops the length
        ("我没逾期，哦不对，逾期了五天", {"has_overdue": True, "overdue_days": 5.0}),
        ("逾期了十天，不对，我没有逾期", {"has_overdue": False}),
        # debt_ratio
        ("其实负债只有三成", {"debt_ratio": 30.0}),
        ("月收入一万月供六千", {"debt_ratio": 60.0}),
        ("工资8000每月还4000", {"debt_ratio": 50.0}),
        ("收入2万，每个月要还1.5万", {"debt_ratio": 75.0}),
        ("负债率大概百分之八十", {"debt_ratio": 80.0}),
        ("没有负债", {"debt_ratio": 0.0}),
        # recent_applications
        ("最近申请了好几个网贷", {"recent_applications": True}),
        ("在好几个平台借了钱", {"recent_applications": True}),
        ("最近频繁申请贷款", {"recent_applications": True}),
        ("征信查询次数很多", {"recent_applications": True}),
        ("最近点了很多借款口子", {"recent_applications": True}),
        ("下载了好多借款APP", {"recent_applications": True}),
        ("没申请过别的贷款", {"recent_applications": False}),
        ("从来不碰网贷", {"recent_applications": False}),
        # account_inactive
        ("半年没用过支付宝了", {"account_inactive": True}),
        ("很少用支付宝", {"account_inactive": True}),
        ("支付宝很久没用了", {"account_inactive": True}),
        ("不怎么用支付宝", {"account_inactive": True}),
        ("好久没登录支付宝了", {"account_inactive": True}),
        ("两个多月没用支付宝", {"account_inactive": True}),
        ("我天天用支付宝", {"account_inactive": False}),
        # security_issue
        ("账号被盗过", {"security_issue": True}),
        ("密码泄露了", {"security_issue": True}),
        ("实名认证没完成", {"security_issue": True}),
        ("还没实名认证", {"security_issue": True}),
        ("手机号被别人用了", {"security_issue": True}),
        ("从来没有被盗过", {"security_issue": False}),
        ("账户很安全", {"security_issue": False}),
        ("实名认证已经完成了", {"security_issue": False}),
        # abnormal_transactions
        ("最近有几笔大额转账", {"abnormal_transactions": True}),
        ("有陌生的大额进账", {"abnormal_transactions": True}),
        ("转账很频繁", {"abnormal_transactions": True}),
        ("没有大额转账", {"abnormal_transactions": False}),
        # phrasing seen in the NLU data
        ("我现在还有一笔逾期没还", {"has_overdue": True, "overdue_repaid": False}),
        # Whether the overdue is repaid (issue 30): a short one repaid is kept up, not repaid first.
        ("我上个月逾期了两天，已经还了", {"has_overdue": True, "overdue_days": 2.0, "overdue_repaid": True}),
        ("信用卡逾期一周，第二天就还了", {"has_overdue": True, "overdue_days": 7.0, "overdue_repaid": True}),
        ("有过逾期，不过都还清了", {"has_overdue": True, "overdue_repaid": True}),
        ("逾期了十天还没还", {"has_overdue": True, "overdue_days": 10.0, "overdue_repaid": False}),
        ("逾期一个月了，还不上", {"has_overdue": True, "overdue_days": 30.0, "overdue_repaid": False}),
        ("逾期快两个月了", {"has_overdue": True, "overdue_days": 60.0}),
        ("上周房贷晚还了三天", {"has_overdue": True, "overdue_days": 3.0}),
        ("我从来没逾期过凭什么把我额度降了", {"has_overdue": False}),
        ("工资八千房贷车贷加起来五千", {"debt_ratio": 62.5}),
        ("我的征信最近被查了十几次", {"recent_applications": True}),
        ("最近没借过其他钱", {"recent_applications": False}),
        ("支付宝一年多没登录了", {"account_inactive": True}),
        ("我平时基本只用微信支付", {"account_inactive": True}),
        ("前几天有一笔十万的转账进来，我也不知道是谁转的", {"abnormal_transactions": True}),
        ("最近有陌生人给我转钱", {"abnormal_transactions": True}),
        ("最近有幾筆大額轉帳", {"abnormal_transactions": True}),
        ("密码好像泄露了，有人在别的手机上登录过", {"security_issue": True}),
        ("我的实名信息是完整的", {"security_issue": False}),
        # several facts in one message
        (
            "没逾期过，就是负债有点高，收入一万还款六千",
            {"has_overdue": False, "debt_ratio": 60.0},
        ),
        (
            "没逾期过，不过最近申请了好几个网贷，支付宝也很少用",
            {"has_overdue": False, "recent_applications": True, "account_inactive": True},
        ),
    ],
)
def test_extract_facts(text: str, expected: Dict[str, object]) -> None:
    assert extract_facts(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # questions, hypotheticals, other people, general statements
        "逾期了会降额吗",
        "负债率多少算高",
        "有逾期还能借吗",
        "大额转账会影响借呗吗",
        "账号被盗了怎么办",
        "如果逾期了会怎样",
        "逾期会影响征信",
        "我朋友逾期了",
        "很少用信用卡",
        "一直没用过借呗",
        # bare answers are the form validator's business
        "十天",
        "50%",
        "七成",
        "10",
        # nothing at all / bad input
        "你好",
        "借呗额度怎么突然降了",
        "",
        "😀😀",
        "\x00\x01",
        "<script>alert(1)</script>",
        "DROP TABLE users;",
        "123456789012345678",
        "额度" * 5000,
    ],
)
def test_no_facts(text: str) -> None:
    assert extract_facts(text) == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        # outside the form's ranges: left for the form to ask about
        ("每月还1.2万，工资才一万", {}),
        ("逾期了一万天", {"has_overdue": True}),
    ],
)
def test_implausible_values_are_dropped(text: str, expected: Dict[str, object]) -> None:
    assert extract_facts(text) == expected


def test_question_with_self_report_still_counts() -> None:
    assert extract_facts("我逾期了三天会降额吗") == {"has_overdue": True, "overdue_days": 3.0}


def test_spans_point_at_the_phrase() -> None:
    text = normalize_text("借呗有额度但借不出来，我上个月逾期了十天")
    (fact,) = [f for f in find_facts(text) if f.slot == "has_overdue"]
    assert text[fact.start : fact.end] == "逾期了十天"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("借唄和花唄都用不了", ["借呗", "花呗"]),
        ("蚂蚁借呗降额了", ["借呗"]),
        ("网商银行的网商贷", ["网商贷", "网商贷"]),
        ("你好", []),
    ],
)
def test_find_products(text: str, expected: List[str]) -> None:
    assert [name for name, _, _ in find_products(text)] == expected


# ---------------------------------------------------------------- segmentation


class _FakeJieba:
    """A jieba whose dictionary fuses words the patterns need apart."""

    def __init__(self, tokens: List[str]) -> None:
        self._tokens = tokens

    def cut(self, text: str, cut_all: bool = False) -> Iterator[str]:
        return iter(self._tokens)


@pytest.mark.parametrize(
    "fused, expected",
    [
        (["我", "没逾期过"], ["我", "没", "逾期", "过"]),
        (["一直", "按时还款"], ["一直", "按时", "还款"]),
        (["半年", "没用过", "支付宝"], ["半年", "没", "用过", "支付宝"]),
        (["支付宝", "很久没", "用"], ["支付宝", "很久", "没", "用"]),
        (["无逾期记录"], ["无", "逾期", "记录"]),
        (["没有", "逾期"], ["没有", "逾期"]),
    ],
)
def test_segmenter_splits_fused_words(fused: List[str], expected: List[str]) -> None:
    segmenter = KeywordSegmenter(_FakeJieba(fused), ["逾期", "按时", "还款", "用过", "支付宝", "没有", "记录"])
    assert list(segmenter.cut("".join(fused))) == expected


@pytest.mark.parametrize(
    "lexicon",
    [
        "",
        "没逾期过 50000\n按时还款 50000\n没用过支付宝 50000\n很少用支付宝 50000\n大额转账 50000\n申请了好几个 50000\n",
    ],
)
def test_facts_do_not_depend_on_the_lexicon(lexicon: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jieba

    from advisor import facts

    (tmp_path / "domain.txt").write_text(lexicon, encoding="utf-8")
    monkeypatch.setattr(facts, "LEXICON_DIR", tmp_path)
    # The fact layer shares the process's jieba; a fresh one holds only this test's lexicon.
    monkeypatch.setattr(jieba, "dt", jieba.Tokenizer())
    facts._pipeline.cache_clear()
    try:
        assert extract_facts("我没逾期过") == {"has_overdue": False}
        assert extract_facts("我一直按时还款") == {"has_overdue": False}
        assert extract_facts("半年没用过支付宝了") == {"account_inactive": True}
        assert extract_facts("很少用支付宝") == {"account_inactive": True}
        assert extract_facts("最近有几笔大额转账") == {"abnormal_transactions": True}
        assert extract_facts("最近申请了好几个网贷") == {"recent_applications": True}
    finally:
        facts._pipeline.cache_clear()


def test_every_pattern_compiles() -> None:
    for _, _, pattern in fact_patterns.FACT_PATTERNS:
        assert compile_pattern(pattern)
    for pattern in fact_patterns.DEBT_CONTEXT:
        assert compile_pattern(pattern)


def test_fact_slots_are_diagnosis_fact_slots() -> None:
    slots = {slot for slot, _, _ in fact_patterns.FACT_PATTERNS} - {"_none"}
    assert slots <= set(contract.FACT_SLOTS)


@pytest.mark.parametrize(
    "text, facts",
    [
        ("我征信有不良记录", {"credit_report_issue": True}),
        ("征信花了", {"credit_report_issue": True}),
        ("我的征信不太好", {"credit_report_issue": True}),
        ("征信上没有不良记录", {"credit_report_issue": False}),
        ("前几天账号被盗过，刚改了密码", {"security_issue": True}),
        ("上周有人往我账户转了十几万，又马上转走了", {"abnormal_transactions": True}),
        ("有人给我转了五万", {"abnormal_transactions": True}),
        ("有人在别的手机上登录过我的账号", {"security_issue": True}),
        ("我朋友逾期了", {}),
        ("我有不良记录吗？为什么借呗关闭了", {}),
    ],
)
def test_rarer_causes_stated_in_a_message(text: str, facts: dict) -> None:
    assert extract_facts(text) == facts


# ---------------------------------------------------------------- component


@pytest.fixture
def extractor(tmp_path: Path) -> Any:
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from components.situation_extractor import SituationExtractor

    return SituationExtractor.create(
        SituationExtractor.get_default_config(),
        LocalModelStorage.create(tmp_path),
        Resource("situation_extractor"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _entities(extractor: Any, text: Any) -> List[Dict[str, Any]]:
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text} if text is not None else {})
    (processed,) = extractor.process([message])
    return processed.get("entities") or []


def test_component_adds_contract_entities(extractor: Any) -> None:
    text = "借呗有额度但借不出来，我上个月逾期了十天，每个月还款占工资一半"
    entities = _entities(extractor, text)
    by_name = {e["entity"]: e for e in entities}
    assert by_name["has_overdue"]["value"] is True
    assert by_name["overdue_days"]["value"] == 10.0
    assert by_name["debt_ratio"]["value"] == 50.0
    assert by_name["product"]["value"] == "借呗"
    # Generic amounts, durations and percentages are not produced: nothing reads them.
    assert not {"duration_days", "percentage", "amount"} & set(by_name)
    for entity in entities:
        assert entity["extractor"] == "SituationExtractor"
        assert entity["confidence"] == 1.0
        assert 0 <= entity["start"] <= entity["end"] <= len(text)
    assert text[by_name["has_overdue"]["start"] : by_name["has_overdue"]["end"]] == "逾期了十天"


@pytest.mark.parametrize(
    "text, name, value",
    [
        ("半年没用过支付宝了", "account_inactive", True),
        ("不对，我没有逾期", "has_overdue", False),
        ("花唄也用不了", "product", "花呗"),
    ],
)
def test_component_values_are_normalised(extractor: Any, text: str, name: str, value: object) -> None:
    found = [e["value"] for e in _entities(extractor, text) if e["entity"] == name]
    assert found == [value]


def test_unnormalised_text_gets_whole_text_spans(extractor: Any) -> None:
    text = "我上個月逾期了十天"
    entities = _entities(extractor, text)
    assert {e["entity"] for e in entities} >= {"has_overdue", "overdue_days"}
    assert all((e["start"], e["end"]) == (0, len(text)) for e in entities)


@pytest.mark.parametrize(
    "text",
    [
        "10",
        "八十",
        '/inform{"has_overdue": true}',
        "",
        "   ",
        None,
        "😀😀",
        "\x00\x01",
        "逾期了会降额吗",
        "额度" * 5000,
    ],
)
def test_component_adds_nothing(extractor: Any, text: Any) -> None:
    assert _entities(extractor, text) == []


def test_component_keeps_existing_entities(extractor: Any) -> None:
    from rasa.shared.nlu.training_data.message import Message

    earlier = {"entity": "x", "value": "y", "start": 0, "end": 1}
    message = Message(data={"text": "账号被盗过", "entities": [earlier]})
    extractor.process([message])
    assert message.get("entities")[0] == earlier
    assert [e["entity"] for e in message.get("entities")[1:]] == ["security_issue"]


def test_value_spans_cover_their_clause_without_punctuation() -> None:
    text = "借呗有额度但借不出来，我上个月逾期了十天，每个月还款占工资一半。"
    spans = {f.slot: text[f.start : f.end] for f in find_facts(text)}
    assert spans == {
        "has_overdue": "逾期了十天",
        "overdue_days": "我上个月逾期了十天",
        "debt_ratio": "每个月还款占工资一半",
    }


@pytest.mark.parametrize("text", ["，，，", "。", "?？", " . "])
def test_punctuation_only(text: str) -> None:
    assert extract_facts(text) == {}
