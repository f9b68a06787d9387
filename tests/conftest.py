"""Shared fixtures: the trained model, and a running bot for end-to-end tests (started once)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from devtools.local_bot import MODEL, ROOT, Bot, running_bot
from tests.loopback import serve_blueprint  # noqa: F401  (a fixture for the channel tests)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model `make` trains; trained here (once, cached by Rasa) if missing."""
    if not MODEL.exists():
        subprocess.run(["make", "-s", "train"], cwd=ROOT, check=True)
    return MODEL


# The WeChat channel of the end-to-end bot verifies signatures with this token.
WECHAT_TEST_TOKEN = "e2e-wechat-token"


@pytest.fixture(scope="session")
def bot(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    env = {"WECHAT_TOKEN": WECHAT_TEST_TOKEN, "WECHAT_APPID": "", "WECHAT_AES_KEY": ""}
    with running_bot(tmp_path_factory.mktemp("bot"), trained_model, extra_env=env) as running:
        yield running
