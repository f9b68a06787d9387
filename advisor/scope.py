"""Which limit questions are the bot's: about Jiebei, and about something done to the user.

The bot advises on Jiebei (借呗) limits only; the contract makes questions about 花呗, 网商贷,
credit cards or other lenders `out_of_scope`. A statistical classifier learns the limit
vocabulary (冻结, 降额, 用不了 …) from Jiebei questions and then reads 「花呗被冻结了」 as a
Jiebei question too, since the words are the same. The product a message names is a fact the
situation extractor already finds, so the line is drawn here, by rule.

The same words also ask the opposite question: 「借呗被关闭了」 is a closed limit, 「我想关闭借呗」
is a request to close it, which the contract puts out of scope (Alipay's own settings do that).
Cross-validation on the training data showed the classifiers reading such requests as limit
questions, so that line is drawn by rule too: `asks_to_stop_own_jiebei`.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from advisor.contract import DIAGNOSIS_INTENTS

JIEBEI = "借呗"

# Named as the user's situation far more often than as the subject of a question
# (「我信用卡上个月逾期了五天」 explains a Jiebei problem), so they do not move a message out.
CONTEXT_PRODUCTS = frozenset({"信用卡"})

# Intents that mean "my Jiebei limit …": the diagnosis intents, and when one can borrow again.
JIEBEI_LIMIT_INTENTS = frozenset(DIAGNOSIS_INTENTS) | {"ask_when_retry"}


# A wish or a how-to (想/怎么/帮我 …) followed closely by closing, pausing or lowering. 被/给/了/会
# between them, 了/的 after the verb, or a 为什么 anywhere make it something that happened
# (怎么给关闭了, 借呗怎么冻结了, 为什么给我关闭), which stays a limit question.
_STOP_REQUEST = re.compile(
    r"(想|要|怎么|怎样|如何|帮我|给我|能否|能不能|可以|请|申请|主动|临时|永久|自己|手动)"
    r"[^，。？！,?!给被了会]{0,4}"
    r"(关闭|关掉|注销|取消|暂停|删除|删掉|隐藏|调低|降低|冻结)(?!了|啦|的)"
)
# Getting it back after closing it oneself (自己关掉的借呗怎么重新打开) is a restore question.
_GETTING_BACK = re.compile(r"(恢复|重新|再次|再开|重开|解冻|打开|开通|开启)")
_WHY = re.compile(r"(为什么|为啥|凭什么|什么原因)")


def asks_to_stop_own_jiebei(text: str) -> bool:
    """True for a request to close, pause or lower one's own Jiebei (「帮我把借呗关掉」)."""
    return bool(_STOP_REQUEST.search(text)) and not _GETTING_BACK.search(text) and not _WHY.search(text)


def about_another_product(products: Iterable[str]) -> bool:
    """True when the message names products and Jiebei is not among them.

    A message naming no product is taken to be about Jiebei (the bot's subject); one naming
    Jiebei and another (「花呗还清了借呗还是用不了」) is about Jiebei too.
    """
    named = set(products) - CONTEXT_PRODUCTS
    return bool(named) and JIEBEI not in named


# What to do about another product's trouble, or what it leads to (「信用卡逾期了怎么办」
# 「信用卡逾期会坐牢吗」): a question about that product, even a context product, unless the
# Jiebei limit or the credit report comes into it (「信用卡逾期了借呗还能用吗」).
_TROUBLE_QUESTION = re.compile(r"怎么办|咋办|怎么处理|如何处理|会怎样|会怎么样|什么后果|起诉|坐牢|罚息|催收")
_ABOUT_JIEBEI = re.compile(r"借呗|额度|借款|借不|征信")


def asks_about_another_products_trouble(products: Iterable[str], text: str) -> bool:
    named = set(products)
    return (
        bool(named) and JIEBEI not in named and not _ABOUT_JIEBEI.search(text) and bool(_TROUBLE_QUESTION.search(text))
    )


def scoped_intent(intent: str, products: Iterable[str], text: str = "") -> str:
    """`out_of_scope` for a Jiebei-limit intent on a message about another product only, or on a
    request to close or lower one's own Jiebei; and for any intent, a question about what to
    do about another product's trouble. `text` is the normalised message."""
    products = list(products)
    if intent in JIEBEI_LIMIT_INTENTS and (about_another_product(products) or asks_to_stop_own_jiebei(text)):
        return "out_of_scope"
    if asks_about_another_products_trouble(products, text):
        return "out_of_scope"
    return intent


# How many of an unsure classifier's best readings are looked at (issue 33).
UNSURE_READINGS = 2


def unsure_means_out_of_scope(readings: Sequence[str]) -> bool:
    """Whether a message the classifier was unsure about (the FallbackClassifier's case) is taken
    as out_of_scope: when that is one of its best readings.

    Unsure messages are mostly near-domain product questions (最高额度, 分期, 就是贷款吗) that
    real users label out_of_scope; in the blocked cross-validation asking them to rephrase lost
    more of them than answering "not mine" lost limit questions. `readings`: intent names, best
    first, without the fallback intent.
    """
    return "out_of_scope" in readings[:UNSURE_READINGS]
