"""The terminal (`make chat`) behind the same input guard as every other channel.

`rasa shell` serves Rasa's stock REST input, so what is typed in the terminal would reach
the tracker store unmasked, uncut and unthrottled, and its console reads a question's buttons
with an arrow-key chooser that takes a typed 「没有」 for the highlighted 「有」. `make chat` runs
``rasa run --connector channels.shell.GuardedShellInput`` in the background instead, and
`channels/terminal.py` in the foreground, which posts what is typed to
``/webhooks/rest/webhook``, served here through :class:`channels.rest.GuardedRestInput`.
The channel is not named ``cmdline``: Rasa would start its own console for it (rasa/core/run.py).
"""

from __future__ import annotations

from typing import Dict, Optional, Text

from channels.rest import GuardedRestInput
from channels.wechat_format import match_button

# The input channel a terminal conversation is stored under (actions/diagnosis.TEXT_ONLY_CHANNELS).
TERMINAL_CHANNEL = "terminal"


class GuardedShellInput(GuardedRestInput):
    """Also: 「0」 typed in the terminal starts over, as in WeChat (channels/wechat_format.py)."""

    def _read_body(self, body: bytes) -> tuple[str, Optional[str], str, Optional[Dict]]:
        sender, text, input_channel, metadata = super()._read_body(body)
        return sender, match_button(text, None) or text, input_channel, metadata

    @classmethod
    def name(cls) -> Text:
        return TERMINAL_CHANNEL

    def url_prefix(self) -> Text:
        return GuardedRestInput.name()
