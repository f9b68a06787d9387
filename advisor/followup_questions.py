"""The two short questions people ask after an advice that name no limit problem: what to do
first (「那我现在该先做什么」 → ask_next_step) and why (「为什么是我」 → ask_reason).

They are read by rule (components/followup_guard.py), not by the statistical classifier: they
are made of words every limit question also uses (怎么办, 为什么, 原因), so as classes of their
own they drew probability from the limit intents and pushed borderline limit questions under
the fallback threshold. A rule reads them only when the message is short and names no problem,
product or fact; anything else is left to the classifier (「借呗降额了怎么办」 stays a limit
question). Their training examples (data/nlu/faq.yml) are the rule's test cases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional

NEXT_STEP = "ask_next_step"
REASON = "ask_reason"
RULE_INTENTS: tuple[str, ...] = (NEXT_STEP, REASON)

# Longer messages say more than "what now" or "why": the classifier reads them.
MAX_CHARS = 16

_NEXT_STEP = re.compile(
    r"先(?:做|干|处理|弄)|第一步|下一步|接下来|从哪|哪一步|哪件事|先做哪|做哪个|处理哪|"
    r"怎么办|咋办|怎么做|怎样做|怎么处理|怎么弄|怎么操作|该做|要做|能做|做点|做些|干嘛|干什么|"
    r"补救|着手|下手|优先|最要紧|最重要的一步|马上"
)
_REASON = re.compile(
    r"为什么是我|为啥是我|凭什么是我|偏偏是我|我的问题|我的原因|自己的问题|谁的问题|"
    r"原因|"
    r"哪里有问题|哪里做|哪里没|做错|没干什么|为什么会这样|怎么会这样|为啥会这样|到底为啥|为什么|为啥|"
    r"出在哪|轮到我|就我"
)
# What may stand around the question itself (「那我现在该…呢」): a message with any other word
# asks about something (「失眠怎么办」「怎么做红烧肉」) and is left to the classifier.
_FILLER = frozenset(
    "那么我们咱你您现在目前接下来眼下应该该要得能先可以还好比较最具体首先呢啊呀吧了嗯哦的这些几步个"
    "说请问一下到底是什么啥哪些点事做干条多其实就又明明都没有不对吗会这样别人造成成还是开始起里一嘛怎"
    "平台问题主原因想知道"
)
# A message naming the problem, a product or a fact is a question of its own (or a statement).
_NAMES_SOMETHING = re.compile(
    r"借|额度|花呗|呗|贷|信用|卡|逾期|征信|负债|还款|还钱|利息|恢复|提额|提升|降|关|冻|封|"
    r"开通|申诉|客服|人工|机器人|钱|账户|账号|密码|实名|支付宝|资料|证明|骗|盗"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _only(pattern: re.Pattern[str], text: str) -> bool:
    """The text is `pattern`'s question and filler only."""
    if not pattern.search(text):
        return False
    rest = pattern.sub("", text)
    return all(char in _FILLER for char in _CJK.findall(rest))


def followup_question(text: str, products: Iterable[str] = ()) -> Optional[str]:
    """ask_next_step, ask_reason, or None when the message is not one of these short questions."""
    text = text.strip()
    if len(text) > MAX_CHARS or any(True for _ in products) or _NAMES_SOMETHING.search(text):
        return None
    if _only(_REASON, text):
        return REASON
    if _only(_NEXT_STEP, text):
        return NEXT_STEP
    return None
