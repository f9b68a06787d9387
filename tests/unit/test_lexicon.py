"""The jieba user dictionary in lexicon/jieba keeps domain terms whole.

Rasa's JiebaTokenizer (dictionary_path: lexicon/jieba) calls
``jieba.load_userdict`` on every file matched by ``glob(f"{path}/*")``; the
tests load the directory the same way, into a fresh ``jieba.Tokenizer`` so the
global jieba state is not touched.
"""

import glob
import re
from pathlib import Path

import jieba
import pytest

from runtime import paths

LEXICON_DIR = paths.LEXICON
DICT_FILES = sorted(glob.glob(f"{LEXICON_DIR}/*"))

# word, optional integer frequency, optional tag; single spaces as jieba expects
LINE_RE = re.compile(r"^(?P<word>[^\s]+)(?: (?P<freq>\d+))?(?: (?P<tag>[a-zA-Z]+))?$")


@pytest.fixture(scope="module")
def tokenizer():
    tk = jieba.Tokenizer()
    for path in DICT_FILES:
        tk.load_userdict(path)
    return tk


def test_dictionary_directory_has_files():
    assert DICT_FILES, f"no dictionary files in {LEXICON_DIR}"


@pytest.mark.parametrize("path", DICT_FILES, ids=lambda p: Path(p).name)
def test_every_line_parses(path):
    raw = Path(path).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    text = raw.decode("utf-8")
    words = set()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = LINE_RE.match(line)
        assert m, f"{Path(path).name}:{n}: bad line {line!r}"
        if m.group("freq") is not None:
            assert int(m.group("freq")) > 0, f"line {n}: frequency must be positive"
        assert m.group("word") not in words, f"line {n}: duplicate word {m.group('word')}"
        words.add(m.group("word"))


@pytest.mark.parametrize(
    "sentence, words",
    [
        ("我的借呗额度降了", ["借呗", "额度"]),
        ("花呗和借呗都用不了", ["花呗", "借呗"]),
        ("负债率太高怎么办", ["负债率"]),
        ("怎么查征信报告", ["征信报告"]),
        ("征信不好会影响借呗吗", ["征信", "借呗"]),
        ("蚂蚁借呗怎么提额", ["蚂蚁借呗", "提额"]),
        ("借呗突然降额了", ["借呗", "降额"]),
        ("借呗显示综合评估未通过", ["借呗", "综合评估"]),
        ("上个月逾期了十天", ["逾期"]),
        ("月收入一万月供六千", ["月收入", "月供"]),
        ("在哪上传收入证明和公积金", ["收入证明", "公积金"]),
        ("支付宝备用金能借吗", ["支付宝", "备用金"]),
        ("网商贷能借吗", ["网商贷"]),
        ("实名认证没弄完", ["实名认证"]),
        ("芝麻分高了能提额吗", ["芝麻分", "提额"]),
        ("有人说能代办提额", ["代办提额"]),
        ("借呗额度管理在哪", ["借呗", "额度管理"]),
        ("降额不合理怎么申诉", ["降额", "申诉"]),
        ("我要联系人工客服", ["人工客服"]),
        ("帮我转人工", ["转人工"]),
        ("最近申请了好几个网贷", ["网贷"]),
        ("风控升级了", ["风控"]),
        ("借呗显示暂无额度", ["借呗", "暂无额度"]),
    ],
)
def test_domain_terms_stay_whole(tokenizer, sentence, words):
    tokens = tokenizer.lcut(sentence)
    for word in words:
        assert word in tokens, f"{word!r} split in {sentence!r}: {tokens}"
