"""Custom Rasa NLU components. Importing the package also speeds up Rasa's validation of
action-server responses (components/action_response_validation.py)."""
from components.action_response_validation import install as _install_fast_action_validation

_install_fast_action_validation()
