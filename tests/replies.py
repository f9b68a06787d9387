"""Reading the bot's REST replies in tests."""

from typing import Any, Dict, List, Optional


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages if m.get("text"))


def advice_payload(messages: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and "advice" in custom:
            return custom["advice"]
    return None
