"""Where things are in this checkout: every module finds the project from here."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
MODEL = ROOT / "models" / "jiebei.tar.gz"
KNOWLEDGE = ROOT / "knowledge"
LEXICON = ROOT / "lexicon" / "jieba"
DATA = ROOT / "data"
TESTS = ROOT / "tests"
DEPLOY = ROOT / "deploy"
WEB = ROOT / "web"
VAR = ROOT / "var"
