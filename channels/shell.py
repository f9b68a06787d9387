"""The terminal (`make chat`) behind the same input guard as every other channel.

`rasa shell` serves Rasa's stock REST input, so what is typed in the terminal would reach
the tracker store unmasked, uncut and unthrottled. `make chat` runs
``rasa run --connector channels.shell.GuardedShellInput`` instead: Rasa starts its console
for any channel named ``cmdline`` (rasa/core/run.py), and the console posts to
``/webhooks/rest/webhook``, which this channel serves through
:class:`channels.rest.GuardedRestInput`.
"""
from __future__ import annotations

from typing import Text

from channels.rest import GuardedRestInput


class GuardedShellInput(GuardedRestInput):
    @classmethod
    def name(cls) -> Text:
        return "cmdline"

    def url_prefix(self) -> Text:
        return GuardedRestInput.name()
