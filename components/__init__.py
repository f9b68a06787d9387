"""Custom Rasa NLU components. Importing the package also tunes how Rasa calls the action
server (components/action_calls.py): a compiled response check and a bounded wait."""
from components.action_calls import install as _install_action_call_tuning

_install_action_call_tuning()
