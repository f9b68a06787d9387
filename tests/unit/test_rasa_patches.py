"""Rasa is changed in one module only (runtime/rasa_patches.py), and only on the Rasa it was
written for."""

from __future__ import annotations

import ast
from typing import List, Set

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import FailSafeTrackerStore

import components  # noqa: F401  (installs the patches, as Rasa's import of the pipeline does)
import stores.sql  # noqa: F401
from components.action_calls import validate_action_result
from components.parse_cache import parse_with_cache
from runtime import rasa_patches
from runtime.paths import ROOT

# devtools/bench.py wraps Rasa's methods to time them for one measurement and puts them back.
MEASURING_ONLY = {"devtools/bench.py"}
PROJECT_CODE = ["actions", "advisor", "channels", "components", "deploy", "devtools", "quality", "runtime", "stores"]


def test_the_installed_rasa_is_the_one_the_patches_were_written_for() -> None:
    assert rasa_patches.rasa_version() == rasa_patches.PATCHED_FOR


@pytest.mark.parametrize("version", ["3.6.20", "3.7.0", "3.10.0"])
def test_another_rasa_refuses_the_patches(version: str) -> None:
    with pytest.raises(rasa_patches.UnsupportedRasaVersion, match=version):
        rasa_patches.check_version(version)


def test_every_patch_is_installed_once() -> None:
    assert rasa_patches.installed() == [patch.target for patch in rasa_patches.PATCHES]
    assert RemoteAction._validate_action_result is validate_action_result
    assert MessageProcessor._parse_message_with_graph is parse_with_cache
    hook = FailSafeTrackerStore.on_tracker_store_error
    rasa_patches.install()
    assert FailSafeTrackerStore.on_tracker_store_error is hook
    assert "raise_or" in hook.__qualname__


def _rasa_names(tree: ast.Module) -> Set[str]:
    names: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rasa":
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                alias.asname or alias.name.split(".")[0] for alias in node.names if alias.name.split(".")[0] == "rasa"
            )
    return names


def test_nothing_else_assigns_to_rasa() -> None:
    """An assignment like `RemoteAction.x = …` or `rasa_action.X = …` outside runtime/rasa_patches.py."""
    found: List[str] = []
    for folder in PROJECT_CODE:
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "runtime" / "rasa_patches.py" or str(path.relative_to(ROOT)) in MEASURING_ONLY:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            rasa = _rasa_names(tree)
            for node in ast.walk(tree):
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else ([node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else [])
                )
                for target in targets:
                    base = target
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if isinstance(target, ast.Attribute) and isinstance(base, ast.Name) and base.id in rasa:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], found
