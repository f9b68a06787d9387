"""Phrases that state a fact about the user's own situation, as data.

`FACT_PATTERNS` rows are (slot, value, pattern). A pattern is a space-separated
sequence of jieba tokens, compiled by `advisor.facts` into a spaCy `Matcher`
pattern:

* an UPPERCASE name is a token class below (`WORD_CLASSES`: any of the words;
  `REGEX_CLASSES`: a token matching the regular expression);
* `a|b|c` is any of these words (words and word-class names may be mixed);
* a trailing `?`, `*` or `+` is the spaCy operator (optional, any number, one or more).

Where patterns overlap, the longest match wins, so 「没按时还款」 (overdue) beats
「按时还款」 (not overdue) and 「没有逾期过」 beats 「逾期过」. The slot `_none` marks
blockers: longer phrases that look like a fact but are not one
(「很少用信用卡」 is not about an inactive Alipay account).

`DEBT_CONTEXT` patterns mark a clause as talking about repayments; the ratio itself
comes from `parse_percentage` on that clause.
"""

from __future__ import annotations

WORD_CLASSES: dict[str, tuple[str, ...]] = {
    # negation
    "NEG": (
        "没",
        "没有",
        "无",
        "未",
        "从没",
        "从未",
        "不曾",
        "未曾",
        "并没有",
        "并没",
        "从来没",
        "从来没有",
        "还没",
        "还没有",
    ),
    # adverbs and fillers that may stand before a verb without changing the fact
    "ADV": (
        "我",
        "我也",
        "本人",
        "从来",
        "从",
        "一直",
        "都",
        "也",
        "还",
        "根本",
        "一次",
        "完全",
        "真的",
        "确实",
        "基本",
        "基本上",
        "几乎",
        "并",
        "就",
        "其实",
        "向来",
        "一向",
        "始终",
        "目前",
        "暂时",
        "现在",
        "最近",
        "之前",
        "以前",
        "过去",
        "从来都",
        "倒是",
        "可是",
        "但是",
        "但",
        "已经",
        "已",
        "好像",
        "应该",
        "可能",
        "似乎",
        "大概",
        "估计",
    ),
    # hedges between a verb and a number: 逾期快两个月, 逾期大概十天
    "APPROX": ("快", "大概", "差不多", "将近", "约", "有", "都", "已经", "快要", "接近", "大约", "了"),
    # words that may follow a negation before the noun: 没有过逾期, 没有任何逾期, 没什么负债
    "ANY": ("过", "任何", "什么", "啥", "有", "过任何"),
    "OVERDUE": ("逾期", "拖欠", "晚还", "延期还款"),
    "NEVER": ("从不", "从来不", "不曾", "不会", "绝不", "从没有"),
    "ON_TIME": ("按时", "准时", "按期", "及时", "如期", "按月"),
    "REPAY": ("还", "还款", "还钱", "还贷", "还清", "还上"),
    "FORGOT": ("忘", "忘了", "忘记", "忘记了"),
    "APPLY": (
        "申请",
        "点",
        "借",
        "试",
        "注册",
        "下载",
        "开通",
        "查",
        "申",
        "办",
        "开",
        "用",
        "贷",
    ),
    "LOAN": (
        "网贷",
        "贷款",
        "借款",
        "平台",
        "口子",
        "信用卡",
        "app",
        "软件",
        "小贷",
        "借贷",
        "消费贷",
        "信用贷",
        "分期",
        "网商贷",
        "微粒贷",
        "白条",
        "金条",
        "借钱",
        "网贷平台",
    ),
    "OTHER": ("别的", "其他", "其它", "别家"),
    "OFTEN_APPLY": ("频繁", "到处", "多次", "反复", "四处", "多头", "经常", "老是", "总是"),
    "RECENTLY": ("最近", "近期", "这几个月", "前段时间", "这段时间", "近来", "前阵子", "这阵子", "最近几个月"),
    "MANY": ("很多", "太多", "多", "比较多", "特别多", "好多", "挺多", "非常多", "较多"),
    "FEW": ("不多", "很少", "少", "较少", "比较少", "不算多"),
    "USE": (
        "用",
        "用过",
        "使用",
        "使用过",
        "登录",
        "登陆",
        "登",
        "登过",
        "上",
        "打开",
        "碰",
        "动",
        "开",
        "玩",
    ),
    "ALIPAY": ("支付宝", "账户", "账号", "支付宝账户", "支付宝账号", "app"),
    "RARE": ("很少", "不怎么", "不常", "不太", "极少", "偶尔", "不经常", "没怎么", "很少很少", "基本不", "几乎不"),
    "OFTEN_USE": ("经常", "天天", "每天", "常常", "平时", "日常", "常", "每天都", "一直在", "天天都", "经常性"),
    "OTHER_PRODUCT": ("信用卡", "花呗", "借呗", "微信", "现金", "银行卡", "网贷", "淘宝"),
    "MOD": (
        "大额",
        "大笔",
        "大量",
        "巨额",
        "频繁",
        "陌生",
        "异常",
        "不明",
        "可疑",
        "来历不明",
        "莫名",
        "奇怪",
        "境外",
        "莫名其妙",
        "大钱",
    ),
    "TXN": (
        "转账",
        "进账",
        "转入",
        "转出",
        "入账",
        "出账",
        "交易",
        "收款",
        "资金",
        "打款",
        "流水",
        "汇款",
        "款项",
        "转款",
        "钱",
        "资金往来",
        "收付款",
        "进出",
    ),
    "SHADY": ("刷单", "套现", "赌博", "洗钱", "走账", "跑分"),
    "ACCOUNT": ("账号", "账户", "支付宝", "号", "支付宝账号", "支付宝账户", "手机号", "身份证", "银行卡"),
    "STOLEN": ("被盗", "被盗用", "被冒用", "被黑", "被盗刷", "盗号", "被人盗"),
    "LEAKED": ("泄露", "泄漏", "被盗", "被改", "被破解", "外泄", "被人知道", "被别人知道"),
    "OTHERS": ("别人", "他人", "人", "坏人", "陌生人", "骗子"),
    "MISUSE": ("盗", "盗用", "冒用", "登录", "登", "登过", "盗刷", "偷", "改", "用", "用过"),
    "DONE": ("完成", "通过", "认证", "做", "弄", "做完", "弄完", "认证完"),
    "SAFE": ("安全", "正常", "没问题", "挺安全"),
    "DEBT": ("负债", "债务", "欠款", "外债", "月供", "欠债"),
}

REGEX_CLASSES: dict[str, str] = {
    # 十天, 两次, 3, 一个多月, 半个月 — the number a duration or count starts with
    "NUMLIKE": r"^[\d一二两三四五六七八九十百几半]",
    # 一次, 两次, 几次
    "TIMES": r"^[\d一二两三四五六七八九十几]+次$",
    # 好几个, 很多, 三个, 几家, 一堆 (one loan alone is not "applied often")
    "QTY": r"^(好几|几|很多|好多|多|不少|一堆|一大堆|许多|各种|[两三四五六七八九十几\d]+)(个|家|笔|种|款|次)?$",
    # 很多, 十, 几次, 好几次 — more than one time (一次 is not "often")
    "MANYTIMES": r"^(很多|好多|好几|好|不少|[两三四五六七八九十几\d]+)次?$",
    # 五万, 十万, 1.5万, 20000 — a sum large enough to look unusual on an account
    "BIG_AMOUNT": r"^([\d.一二两三四五六七八九十几百千]*万多?(块|元)?|\d{5,})$",
    # 很久, 半年, 两年, 多月, 好几个月 …
    "LONG": (
        r"^(很久|好久|许久|好长时间|很长时间|长时间|长期|一直|很多天|好多天|好几天|"
        r"半年多?|一年多?|多年|几年|好几年|[两三四五六七八九十几\d]+年多?|多月|个多月|"
        r"几个月|好几个月|[两三四五六七八九十几\d]+个多?月|半个月|一个多月)$"
    ),
    # what may stand before LONG: 很 长时间, 两个 多月, 有 半年
    "LONG_PRE": r"^([\d一二两三四五六七八九十几好]+个?|很|好|有|快|近|差不多|大概|都)$",
}

# Words that REGEX_CLASSES match, so that a lexicon word fusing them with a
# neighbour (申请了好几个) is still split apart; see `advisor.facts.KeywordSegmenter`.
REGEX_CLASS_WORDS: tuple[str, ...] = (
    "好几个",
    "好几家",
    "几个",
    "几家",
    "很多",
    "好多",
    "多个",
    "多家",
    "不少",
    "一堆",
    "许多",
    "各种",
    "很久",
    "好久",
    "许久",
    "好长时间",
    "很长时间",
    "长时间",
    "长期",
    "半年",
    "一年",
    "几年",
    "多年",
    "几个月",
    "好几个月",
    "多月",
    "一个多月",
    "半个月",
    "一次",
    "两次",
    "几次",
    "好几次",
)

FACT_PATTERNS: list[tuple[str, object, str]] = [
    # ---- has_overdue
    ("has_overdue", False, "ADV* NEG ANY* OVERDUE 过|了?"),
    ("has_overdue", False, "ADV* NEG ANY* 逾期 记录|的 记录?"),
    ("has_overdue", False, "ADV* NEVER OVERDUE 过?"),
    ("has_overdue", False, "ADV* ON_TIME REPAY 的|了?"),
    ("has_overdue", False, "REPAY ADV* 很|非常|特别? ON_TIME"),
    ("has_overdue", False, "逾期 记录 ADV* 没有|无|没"),
    ("has_overdue", False, "征信 ADV* 很|非常|挺? 干净|良好|正常|没问题"),
    ("has_overdue", True, "有|有过|还有 过? TIMES|一笔|几笔|两笔? OVERDUE"),
    ("has_overdue", True, "逾期 了|过|NUMLIKE"),
    ("has_overdue", True, "逾期 APPROX+ NUMLIKE"),
    ("has_overdue", True, "OVERDUE ADV* NEG 还|还上|还清"),
    ("has_overdue", True, "逾期 ADV* 还清|还上|已还|还完|还 了"),
    ("has_overdue", True, "我 ADV* 逾期"),
    ("has_overdue", True, "晚 还|还款 了?"),
    ("has_overdue", True, "晚还 了|过|NUMLIKE"),
    ("has_overdue", True, "REPAY ADV* 晚 了"),
    ("has_overdue", True, "拖欠 了|过|NUMLIKE"),
    ("has_overdue", True, "NEG ON_TIME REPAY"),
    ("has_overdue", True, "FORGOT 了? REPAY"),
    # 「我有蚂蚁借呗的逾期还款记录」「有过信用卡逾期记录」
    ("has_overdue", True, "有|有过 蚂蚁|蚂蚁借呗|借呗|花呗|信用卡|网贷|贷款? 的? 逾期 还款? 记录"),
    # 「今天没有还上借呗」: a repayment that did not happen
    ("has_overdue", True, "NEG 按时? 还上|还进去"),
    # ---- recent_applications
    ("recent_applications", True, "APPLY 了|过? QTY 个? OTHER? LOAN+"),
    ("recent_applications", True, "在? QTY 个? 平台|网贷|网贷平台|app|口子|地方|银行"),
    ("recent_applications", True, "频繁|到处|多次|反复|四处 APPLY|借钱|借款|贷款|借贷"),
    ("recent_applications", True, "经常|老是|总是 APPLY 了? 网贷|小贷|贷款|借贷"),
    ("recent_applications", True, "多头 借贷|借款?"),
    ("recent_applications", True, "征信? 查询 次数|记录? ADV* MANY"),
    ("recent_applications", True, "硬查询 ADV* MANY"),
    ("recent_applications", True, "RECENTLY ADV* APPLY 了|过? QTY? OTHER? 网贷|贷款|小贷|信用卡|消费贷|信用贷"),
    ("recent_applications", True, "LOAN APPLY 了? QTY"),
    ("recent_applications", True, "APPLY 了|过? 好几家|几家|多家|好多家|很多家|好几个|几个|多个 平台? 的 钱"),
    ("recent_applications", True, "被查|被查询|查询 了|过? MANYTIMES+"),
    ("recent_applications", True, "被 查|查询 了|过? MANYTIMES+"),
    ("recent_applications", False, "ADV* NEG APPLY 过? ANY* OTHER? LOAN"),
    ("recent_applications", False, "ADV* NEG APPLY 过? OTHER 的? 钱"),
    ("recent_applications", False, "ADV* NEG ANY* OTHER? 网贷|小贷|借贷|多头"),
    ("recent_applications", False, "ADV* NEVER|不 碰|借|用|申请 网贷|小贷|贷款"),
    ("recent_applications", False, "ADV* NEG 频繁|到处|多次|反复|四处|多头 APPLY?"),
    ("recent_applications", False, "ADV* 只 APPLY 了|过? 借呗|花呗"),
    ("recent_applications", False, "征信? 查询 次数|记录? ADV* FEW"),
    # ---- account_inactive
    ("account_inactive", True, "LONG_PRE* LONG 多? ADV* NEG|不|没怎么 USE 过? 了? ALIPAY?"),
    ("account_inactive", True, "ALIPAY ADV* LONG_PRE* LONG? 多? ADV* NEG|不|没怎么 USE"),
    ("account_inactive", True, "ADV* RARE USE ALIPAY?"),
    ("account_inactive", True, "ALIPAY ADV* RARE USE"),
    ("account_inactive", True, "几乎|基本|基本上 不|没|没怎么 USE ALIPAY?"),
    ("account_inactive", True, "ALIPAY ADV* 闲置|不活跃|没活跃度|没怎么用"),
    ("account_inactive", True, "ADV* 只|只用 用? 微信|微信支付|现金|银行卡"),
    ("account_inactive", True, "ADV* 不|很少|没怎么 活跃"),
    # 「支付宝用得少」「支付宝用得很少」「平时都用微信」
    ("account_inactive", True, "ALIPAY ADV* 用得少|用的少|用得不多|用的不多"),
    ("account_inactive", True, "ALIPAY ADV* USE 得|的 FEW"),
    ("account_inactive", True, "OFTEN_USE ADV* USE 微信|微信支付|现金"),
    ("account_inactive", False, "ADV* OFTEN_USE ADV* 在? USE ALIPAY?"),
    ("account_inactive", False, "ALIPAY ADV* OFTEN_USE ADV* 在? USE"),
    ("account_inactive", False, "一直 在 USE"),
    ("_none", None, "ADV* RARE USE OTHER_PRODUCT"),
    ("_none", None, "LONG_PRE* LONG 多? ADV* NEG|不|没怎么 USE 过? 了? OTHER_PRODUCT"),
    # ---- abnormal_transactions
    ("abnormal_transactions", True, "MOD+ 的? MOD* TXN"),
    ("abnormal_transactions", True, "TXN ADV* 很|比较|特别|非常? 频繁|异常"),
    ("abnormal_transactions", True, "SHADY 了|过"),
    ("abnormal_transactions", True, "帮 别人|朋友|人 转账|收款|走账|刷单|过账|转钱"),
    ("abnormal_transactions", True, "BIG_AMOUNT 多? 的? 转账|进账|转入|转出|入账|汇款|打款|资金"),
    ("abnormal_transactions", True, "陌生人|陌生 人? 给 我? 转钱|转账|打钱|打款|汇款|转"),
    ("abnormal_transactions", True, "不 知道 是? 谁 转|打|汇|转的|打的"),
    # 「有人往我账户转了十几万」「账户里进了五万」: a large sum in, or out, of the account
    ("abnormal_transactions", True, "有人|别人|陌生人 往|给|向 我 的? ACCOUNT? 里? 转|打|汇|打款|转账 了? BIG_AMOUNT"),
    ("abnormal_transactions", True, "ACCOUNT 里? ADV* 进|转进|转入|进来|转出|转走 了 BIG_AMOUNT"),
    ("abnormal_transactions", True, "转|打|汇 了 BIG_AMOUNT 多? 进来|进|过来|出去|走"),
    # 「一笔二十万的钱转进来又马上转出去」「五万块钱进来又转走了」「转进来十万又转出去」: money in and out
    ("abnormal_transactions", True, "BIG_AMOUNT 的? 钱? 转|打|汇? 进来|转进来|转入|进账|打进来"),
    ("abnormal_transactions", True, "转|打|汇 进来 了? BIG_AMOUNT"),
    ("abnormal_transactions", True, "转进来|打进来 了? BIG_AMOUNT"),
    ("abnormal_transactions", True, "转|打|汇 了 BIG_AMOUNT 多? 钱 又|就? ADV* 转走|转出|出去|马上转"),
    ("abnormal_transactions", True, "进来|转进来|转入 了? 又|就|马上|立刻 ADV* 马上转|转走|转出|出去|转 走|出去"),
    ("abnormal_transactions", True, "帮 别人|朋友|人 走过|走 了? 账"),
    ("abnormal_transactions", True, "进出 的? TXN? 很|比较|特别|非常|挺? MANY|频繁"),
    ("abnormal_transactions", False, "ADV* NEG ANY* MOD+ 的? TXN?"),
    ("abnormal_transactions", False, "ADV* NEG|NEVER|不 ANY* SHADY"),
    ("abnormal_transactions", False, "TXN ADV* 很|都|一直? 正常"),
    # ---- security_issue
    ("security_issue", True, "ACCOUNT? ADV* STOLEN 了|过?"),
    ("security_issue", True, "ACCOUNT? ADV* 被 OTHERS MISUSE 了|过?"),
    ("security_issue", True, "密码 ADV* LEAKED"),
    ("security_issue", True, "实名 认证? ADV* NEG|没 ANY* DONE"),
    ("security_issue", True, "ADV* NEG ANY* 实名 认证?"),
    ("security_issue", True, "异地|陌生 设备|手机|电脑? 登录|登陆|登过"),
    ("security_issue", True, "异常 登录|登陆"),
    ("security_issue", True, "有人|别人|陌生人 在 别的|其他|陌生 手机|设备|地方 上? MISUSE 过?"),
    ("security_issue", True, "身份证 ADV* 过期|到期"),
    # 「身份证换了新的还没更新」: the account still has the old identity card
    ("security_issue", True, "身份证 换 了? 新 的? ADV* NEG 更新|上传|换|改"),
    ("security_issue", False, "ACCOUNT ADV* 很|都|挺? SAFE"),
    ("security_issue", False, "ACCOUNT? ADV* NEG ANY* STOLEN|LEAKED 过?"),
    ("security_issue", False, "密码 ADV* NEG ANY* LEAKED 过?"),
    ("security_issue", False, "实名 认证? ADV* 已经? 完成|通过|做完|弄完|认证完 了|过?"),
    ("security_issue", False, "实名 认证 了|过"),
    ("security_issue", False, "已|已经 实名 认证?"),
    ("security_issue", False, "实名 信息|认证 ADV* 是? 完整|齐全|完善"),
    ("security_issue", False, "ADV* NEG ANY* 异地|异常 登录|登陆"),
    # ---- credit_report_issue (not a contract slot: a bad record or an error on the credit report)
    ("credit_report_issue", True, "征信 ADV* 报告? 上|里? ADV* 有 ANY* 不良|污点|问题|黑 记录|信息?"),
    ("credit_report_issue", True, "征信 ADV* 很|太|比较|有点? 花|差|不好|黑|烂 了?"),
    ("credit_report_issue", True, "ADV* 有 ANY* 不良 记录|信用记录|信息"),
    ("credit_report_issue", True, "征信 ADV* 不太|不怎么|不是很 好"),
    ("credit_report_issue", True, "征信 报告? 上|里? ADV* 有 错误|错 的? 信息|记录?"),
    # 「征信报告上有一条不是我的贷款」
    ("credit_report_issue", True, "征信 报告? 上|里? ADV* 有 一条|一笔|几条|几笔 不 是 我 的"),
    ("credit_report_issue", False, "征信 报告? 上|里? ADV* NEG ANY* 不良|问题|污点 记录?"),
    ("credit_report_issue", False, "ADV* NEG ANY* 不良 记录|信用记录"),
    # ---- debt_ratio: only the explicit "no debt at all"; ratios come from DEBT_CONTEXT
    ("debt_ratio", 0.0, "ADV* NEG ANY* OTHER? DEBT"),
]

DEBT_CONTEXT: list[str] = [
    "DEBT",
    "负债率",
    "还款|还贷|房贷|车贷|贷款",
    "每月|每个月|月 要? 还",
    "每个 月 要? 还",
    "还 信用卡|花呗|借呗|网贷|房贷|车贷",
    "占 ADV* 工资|收入|月收入|月薪|薪水",
]

# Products for the `product` entity: canonical name → ways users write it.
PRODUCTS: dict[str, tuple[str, ...]] = {
    "借呗": ("借呗", "蚂蚁借呗"),
    "花呗": ("花呗", "蚂蚁花呗"),
    "备用金": ("备用金", "支付宝备用金"),
    "网商贷": ("网商贷", "网商银行"),
    "微粒贷": ("微粒贷",),
    "京东白条": ("京东白条", "白条"),
    "京东金条": ("京东金条", "金条"),
    "信用卡": ("信用卡",),
    "美团借钱": ("美团借钱", "美团生活费"),
    "度小满": ("度小满", "有钱花"),
    "招联金融": ("招联金融", "招联好期贷"),
    "360借条": ("360借条",),
    "安逸花": ("安逸花",),
}

# How long the problem has lasted (symptom_days), said in the opening: 「借呗一直借不出来快两个月
# 了」, 「额度降了，已经一个多月了」. A duration ending in 了/以来 in a clause that names the
# problem (or right after one that does); a clause about an overdue or about not using Alipay
# gives another fact's duration. The number of days comes from advisor.parsing.parse_since.
LASTING_PATTERN: str = (
    r"((?:\d+|[一二两三四五六七八九十半几好]+)多?个?多?(?:天|周|星期|礼拜|月|年)多?|好久|很久|这几天|好几个月)"
    r"(?:了|以来)"
)
SYMPTOM_CUES: tuple[str, ...] = (
    "借不出",
    "借不了",
    "借不到",
    "用不了",
    "被拒",
    "借款失败",
    "没额度",
    "没有额度",
    "额度没了",
    "降额",
    "降了",
    "被关",
    "关闭",
    "冻结",
    "额度为0",
    "额度为零",
    "额度变成0",
    "额度变成零",
)
NOT_SYMPTOM_CUES: tuple[str, ...] = ("逾期", "没还", "没用", "很少用", "不用")

# Whether an overdue has been repaid (overdue_repaid, a fact beyond the contract's: a short overdue
# already repaid is "keep paying on time", not "repay it first"). Read per clause, the last one
# that says it wins; the advice uses it only for a user with an overdue (advisor/engine.py).
NOT_REPAID_PATTERN: str = r"(还没|没有?|未|还未|没能)(有)?(还清|还上|还完|结清|还钱|还款|还)|还不上|拖着没还"
REPAID_PATTERN: str = (
    r"(已经|已|早就|早已|早|都|全部|全都|马上就|当天就|第二天就|后来)(都)?(还清|还上|还完|结清|还了|补上|还进去)|"
    r"已还|还清了|还上了|还完了|结清了|补上了|补还了|还进去了|[天周月][就才后]?还[了上清]"
)

# A clause with one of these is not about the user's own current situation.
HYPOTHETICAL_MARKERS: tuple[str, ...] = ("如果", "要是", "假如", "万一", "的话", "假设", "一旦", "倘若", "假若")

# Questions: 「逾期了会降额吗」 asks, it does not tell. 不怎么/没多少/没什么 are statements.
QUESTION_PATTERN: str = (
    r"[?？吗]|会不会|能不能|可不可以|是不是|有没有|要不要|算不算|影不影响|为什么|为啥|如何|怎样|"
    r"怎么办|咋|多少算|多久|哪里|哪儿|哪个|是什么|什么意思|(?<![不没])怎么|(?<![不没])多少|"
    r"(?<![不没为])什么|(?<![不没为])啥|可以么|能么"
)

# A clause that begins with someone else is about them (「我朋友逾期了」), unless what they
# did was to the user (「有人给我转了五万」「有人登录过我的账号」).
THIRD_PERSON_PATTERN: str = (
    r"^(?:我的?|听说|据说)?(?:朋友|同事|同学|家人|老公|老婆|爸爸|妈妈|爸|妈|父母|亲戚|他|她|别人|有人|人家|网友|室友|哥哥|姐姐|弟弟|妹妹)"
    r"(?!.*我)"
)
