"""The compiled action-response check accepts and rejects exactly what Rasa's own check does."""
import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import components  # noqa: F401  (installs the compiled check)
from components.action_response_validation import validate_action_result

RESPONSES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "debt_ratio", "value": 30.0, "timestamp": None}],
     "responses": [{"text": "好的", "buttons": [{"title": "有", "payload": "/affirm"}], "custom": {}}]},
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
