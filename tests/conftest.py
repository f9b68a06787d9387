"""Shared fixtures: the trained model, and a running bot for end-to-end tests (started once)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from scripts.local_bot import MODEL, ROOT, Bot, running_bot
from tests.loopback import serve_blueprint  # noqa: F401  (a fixture for the channel tests)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model `make` trains; trained here (once, cached by Rasa) if missing."""
    if not MODEL.exists():
        subprocess.run(["make", "-s", "train"], cwd=ROOT, check=True)
    return MODEL


@pytest.fixture(scope="session")
def bot(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    with running_bot(tmp_path_factory.mktemp("bot"), trained_model) as running:
        yield running

