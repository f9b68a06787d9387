"""The terminal (`make chat`) behind the same input guard as every other channel.

`rasa shell` serves Rasa's stock REST input, so what is typed in the terminal would reach
the tracker store unmasked, uncut and unthrottled. `make chat` runs
``rasa run --connector channels.shell.GuardedShellInput`` instead: Rasa starts its console
for any channel named ``cmdline`` (rasa/core/run.py), and the console posts to
``/webhooks/rest/webhook``, which this channel serves through
:class:`channels.rest.GuardedRestInput`.
"""

from __future__ import annotations

from typing import Dict, Optional, Text

from channels.rest import GuardedRestInput
from channels.wechat_format import match_button


class GuardedShellInput(GuardedRestInput):
    """Also: 「0」 typed in the terminal starts over, as in WeChat (channels/wechat_format.py)."""

    def _read_body(self, body: bytes) -> tuple[str, Optional[str], str, Optional[Dict]]:
        sender, text, input_channel, metadata = super()._read_body(body)
        return sender, match_button(text, None) or text, input_channel, metadata

    @classmethod
    def name(cls) -> Text:
        return "cmdline"

    def url_prefix(self) -> Text:
        return GuardedRestInput.name()
