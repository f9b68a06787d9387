"""A bounded cache of NLU results, keyed by the normalised message text.

Rasa parses every message through the whole NLU graph; real conversations repeat the same
short answers (没有, 有, 不清楚, 谢谢, 你好) again and again. The NLU graph here reads nothing
but the text (no component uses the tracker or the metadata), and its first step replaces
the text with `normalize_text(text)`, so two messages with the same normalised text get the
same result: the cache returns a copy of it.

The cache belongs to the MessageProcessor, which Rasa makes anew for every model it loads,
so a retrained or replaced model starts with an empty cache. Button payloads ("/intent{…}")
and calls that ask for every property (message id, metadata) are not cached.
`NLU_CACHE_SIZE` (entries, default 4096; 0 turns the cache off) bounds it.

Installed when Rasa imports this package for the NLU components (see components/__init__.py).
"""

from __future__ import annotations

import copy
import os
from collections import OrderedDict
from typing import Any, Dict, Optional, Text

from rasa.core.processor import MessageProcessor

from advisor.normalize import normalize_text

CACHE_ATTRIBUTE = "_nlu_result_cache"


class ParseCache:
    """Least recently used NLU results, at most `size` of them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._results: "OrderedDict[str, Dict[Text, Any]]" = OrderedDict()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._results)

    def get(self, key: str) -> Optional[Dict[Text, Any]]:
        result = self._results.get(key)
        if result is None:
            self.misses += 1
            return None
        self._results.move_to_end(key)
        self.hits += 1
        return copy.deepcopy(result)

    def put(self, key: str, result: Dict[Text, Any]) -> None:
        if self.size <= 0:
            return
        self._results[key] = copy.deepcopy(result)
        self._results.move_to_end(key)
        while len(self._results) > self.size:
            self._results.popitem(last=False)


def cache_size() -> int:
    try:
        return max(0, int(os.environ.get("NLU_CACHE_SIZE", "4096")))
    except ValueError:
        return 4096


def cache_key(text: object) -> Optional[str]:
    if not isinstance(text, str) or not text.strip() or text.startswith("/"):
        return None
    return normalize_text(text)


def processor_cache(processor: MessageProcessor) -> ParseCache:
    cache = processor.__dict__.get(CACHE_ATTRIBUTE)
    if cache is None:
        cache = processor.__dict__[CACHE_ATTRIBUTE] = ParseCache(cache_size())
    return cache


_original = MessageProcessor._parse_message_with_graph


def parse_with_cache(
    self: MessageProcessor, message: Any, tracker: Any, only_output_properties: bool = True
) -> Dict[Text, Any]:
    """Drop-in for `MessageProcessor._parse_message_with_graph`."""
    key = cache_key(message.text) if only_output_properties else None
    cache = processor_cache(self)
    if key is None or cache.size <= 0:
        return _original(self, message, tracker, only_output_properties)
    result = cache.get(key)
    if result is None:
        result = _original(self, message, tracker, only_output_properties)
        cache.put(key, result)
    return result
