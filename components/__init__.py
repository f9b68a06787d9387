"""Custom Rasa NLU components. Importing the package also tunes how Rasa calls the action
server (components/action_calls.py: a compiled response check and a bounded wait) and gives
its message processor a cache of NLU results (components/parse_cache.py)."""
from components.action_calls import install as _install_action_call_tuning
from components.parse_cache import install as _install_parse_cache

_install_action_call_tuning()
_install_parse_cache()
