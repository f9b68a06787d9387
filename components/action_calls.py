"""How Rasa calls the action server: a compiled response check and a bounded wait.

Response check: Rasa 3.6 checks every custom action's response with `jsonschema.validate`, which re-validates
the (large) response schema itself on each call: about 30 ms per action on this machine, the
largest part of a turn's latency (a diagnosis turn runs two custom actions). The check stays
exactly the same — same schema, same `ValidationError` and message — only compiled once.

Bounded wait: Rasa waits up to 5 minutes for an action; a hung action server would hold the
user's turn that long. `ACTION_CALL_TIMEOUT` (seconds, default 10, above the action server's
own 5 s limit in actions/safety.py) bounds it; the channel then answers 「系统繁忙」.

Installed by runtime/rasa_patches.py.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, Dict, Text

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    """Drop-in for `RemoteAction._validate_action_result`."""
    try:
        _validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error


def action_call_timeout() -> float:
    return float(os.environ.get("ACTION_CALL_TIMEOUT", "10"))
