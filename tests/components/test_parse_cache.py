"""The NLU result cache (components/parse_cache.py): bounded, keyed by the normalised text,
the same answers as a fresh parse, empty for every model Rasa loads."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from components.parse_cache import ParseCache, cache_key, processor_cache


def test_the_cache_keeps_the_most_recently_used_results_up_to_its_size() -> None:
    cache = ParseCache(2)
    cache.put("a", {"intent": {"name": "a"}})
    cache.put("b", {"intent": {"name": "b"}})
    assert cache.get("a") == {"intent": {"name": "a"}}  # a is now the most recent
    cache.put("c", {"intent": {"name": "c"}})
    assert len(cache) == 2 and cache.get("b") is None and cache.get("c") is not None
    assert (cache.hits, cache.misses) == (2, 1)


def test_a_cached_result_cannot_be_changed_through_a_copy() -> None:
    cache = ParseCache(4)
    result: Dict[str, Any] = {"entities": []}
    cache.put("k", result)
    result["entities"].append("changed after put")
    served = cache.get("k")
    assert served == {"entities": []}
    served["entities"].append("changed after get")
    assert cache.get("k") == {"entities": []}


def test_size_zero_keeps_nothing() -> None:
    cache = ParseCache(0)
    cache.put("k", {"x": 1})
    assert len(cache) == 0 and cache.get("k") is None


@pytest.mark.parametrize(
    "text, key",
    [
        ("沒有", "没有"),
        ("借唄額度", "借呗额度"),
        ("/greet", None),
        ("   ", None),
        (None, None),
    ],
)
def test_the_key_is_the_normalised_text_and_payloads_have_none(text: object, key: object) -> None:
    assert cache_key(text) == key


@pytest.fixture(scope="module")
def agent(trained_model: Path) -> Iterator[Any]:
    from rasa.core.agent import Agent

    yield Agent.load(str(trained_model))


def parse(agent: Any, text: str) -> Dict[str, Any]:
    return asyncio.run(agent.parse_message(text))


def test_a_repeated_message_is_answered_from_the_cache_with_the_same_result(
    agent: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []
    graph = agent.processor.graph_runner
    original = graph.run
    monkeypatch.setattr(graph, "run", lambda *a, **k: runs.append(1) or original(*a, **k))

    first = parse(agent, "借呗额度突然降了怎么办")
    again = parse(agent, "借唄額度突然降了怎麼辦")  # traditional: the same normalised text
    assert len(runs) == 1
    assert again == first and first["intent"]["name"] == "ask_limit_dropped"

    parse(agent, "/greet")
    parse(agent, "/greet")
    assert len(runs) == 3, "button payloads are parsed every time"


def test_a_newly_loaded_model_starts_with_an_empty_cache(agent: Any, trained_model: Path) -> None:
    from rasa.core.agent import Agent

    parse(agent, "我没有逾期")
    assert len(processor_cache(agent.processor)) >= 1
    reloaded = Agent.load(str(trained_model))
    assert len(processor_cache(reloaded.processor)) == 0
