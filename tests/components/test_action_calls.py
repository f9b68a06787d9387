"""How Rasa calls the action server: the compiled response check accepts and rejects exactly
what Rasa's own check does, and the wait for an action is bounded."""

import jsonschema
import pytest
import rasa.core.actions.action as rasa_action
from rasa.core.actions.action import RemoteAction

import components  # noqa: F401  (installs the tuning)
from components.action_calls import action_call_timeout, validate_action_result
from runtime import rasa_patches

RESPONSES = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "debt_ratio", "value": 30.0, "timestamp": None}],
        "responses": [{"text": "好的", "buttons": [{"title": "有", "payload": "/affirm"}], "custom": {}}],
    },
    {"events": [{"event": "rewind"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"event": "slot"}], "responses": []},
]


def rasa_verdict(result):
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        return True
    except jsonschema.ValidationError:
        return False


@pytest.mark.parametrize("result", RESPONSES)
def test_same_verdict_as_rasa(result):
    expected = rasa_verdict(result)
    if expected:
        assert validate_action_result(RemoteAction("x", None), result) is True
    else:
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
            validate_action_result(RemoteAction("x", None), result)


def test_rasa_uses_the_compiled_check():
    assert RemoteAction._validate_action_result is validate_action_result
    assert sum(map(rasa_verdict, RESPONSES)) == 3  # the table holds both kinds


def test_the_wait_for_an_action_is_bounded(monkeypatch):
    monkeypatch.setenv("ACTION_CALL_TIMEOUT", "7.5")
    monkeypatch.setattr(rasa_action, "DEFAULT_REQUEST_TIMEOUT", rasa_action.DEFAULT_REQUEST_TIMEOUT)  # restored after
    next(p for p in rasa_patches.PATCHES if p.target.endswith("DEFAULT_REQUEST_TIMEOUT")).apply()
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == action_call_timeout() == 7.5
