"""Which diagnosis topic a limit question starts.

Each limit intent has its topic (advisor.contract.TOPIC_BY_INTENT); a message about not having
Jiebei at all — the user wants to open it, cannot open it, never saw it in Alipay, or an
application for Jiebei itself failed — takes the topic `not_opened`, whichever limit intent the
classifier gave it (by docs/LABELLING.md it is ask_limit_closed; the training data still splits
such messages). A limit that was there and is gone (「没有借呗了」「找不到借呗了」), re-opening
after a closure (「重新开通」), a Jiebei opened that does not lend (「开通了借不出来」) or someone
offering to open it for a fee are not this topic.
"""

from __future__ import annotations

import re
from typing import Optional

from advisor.contract import TOPIC_BY_INTENT
from advisor.normalize import normalized

NOT_OPENED = "not_opened"

_JIEBEI = r"(?:蚂蚁)?借呗"
# What may not follow: the message is about a limit, a loan or a repayment of a Jiebei they have.
_NOT_ABOUT_A_LIMIT = r"(?!额度|的额度|提额|调额|恢复|了|过|还款|借款|借钱|利息|逾期|分期)"
_NOT_OPENED_BEFORE = r"(?<!重新)(?<!再次)(?<!再)(?<!在)(?<!代)(?<!帮我)(?<!已)(?<!以)(?<!已经)(?<!主动)"
_PATTERNS = (
    # 我想开通借呗, 怎么开通借呗, 开通借呗提示有风险
    rf"{_NOT_OPENED_BEFORE}开通{_JIEBEI}{_NOT_ABOUT_A_LIMIT}",
    # 借呗怎么开通, 借呗在哪开通 (not 借呗开通了 / 开通过)
    rf"{_JIEBEI}(?:要|该)?(?:怎么|如何|怎样|在哪|在哪里|去哪)(?:才能|才可以|可以)?开通(?!了|过|后|之后)",
    # 借呗开通不了, 开不了借呗, 借呗申请不了
    rf"{_JIEBEI}(?:开通|开|申请)不了|开不了{_JIEBEI}|开不通{_JIEBEI}",
    # 为什么我没有借呗, 我的支付宝里为什么没有借呗, 有花呗没有借呗
    r"(?:我|为什么|为啥|怎么|咋|有花呗|支付宝)(?:的支付宝)?(?:里|里边|里面|上)?(?:为什么|为啥|怎么)?(?:还|一直|从来)?"
    rf"(?:没有|没|无|看不到|不显示|没开通){_JIEBEI}{_NOT_ABOUT_A_LIMIT}",
    # 我想申请借呗, 申请借呗没通过, 为什么无法申请借呗
    rf"{_NOT_OPENED_BEFORE}申请{_JIEBEI}{_NOT_ABOUT_A_LIMIT}",
    # 借呗的开通条件, 借呗有什么年龄限制, 怎么才能有借呗
    rf"{_JIEBEI}(?:的)?(?:申请|开通)(?:条件|门槛|要求|资格)",
    rf"{_JIEBEI}(?:的|有)?(?:什么)?(?:年龄|准入|开通)(?:的)?(?:限制|要求|门槛)",
    rf"(?:怎么|怎样|如何)(?:才能|才可以)?(?:有|获得|拥有|开|得到){_JIEBEI}",
)
_NO_JIEBEI = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))


def has_no_jiebei(text: str) -> bool:
    """True when `text` is about not having Jiebei at all (never opened, cannot open it)."""
    return bool(_NO_JIEBEI.search(str(normalized(text)).replace(" ", "")))


def faq_key(intent: str, topic: Optional[str]) -> str:
    """The knowledge/faq.yml entry that opens `topic` when `intent` asked for it: not_opened has
    an entry of its own, every other topic its intent's."""
    return NOT_OPENED if topic == NOT_OPENED else intent


def diagnosis_topic(intent: Optional[str], text: str) -> Optional[str]:
    """The topic the limit question `intent` with `text` starts; None for any other intent."""
    topic = TOPIC_BY_INTENT.get(intent or "")
    if topic is None:
        return None
    return NOT_OPENED if has_no_jiebei(text) else topic
