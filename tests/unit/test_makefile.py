"""`make help` lists every target the Makefile declares, each with what it does."""

from __future__ import annotations

import re
import subprocess

from runtime.paths import ROOT


def declared_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    names: set[str] = set()
    for line in re.findall(r"^\.PHONY:(.*)$", text, flags=re.M):
        names.update(line.split())
    return names - {"FORCE"}


def test_help_lists_every_target_with_a_description() -> None:
    shown = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    listed = dict(re.findall(r"^  make (\S+)\s+(\S.*)$", shown, flags=re.M))
    assert declared_targets() <= set(listed), sorted(declared_targets() - set(listed))
    assert {"chat", "test", "lint", "test-unit"} <= set(listed)
