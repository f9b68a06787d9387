"""Every change this project makes to Rasa's own code, in one place.

Rasa has no hook for these, so each replaces one attribute of Rasa 3.6; the replacement's
logic lives with its concern, named in the table below. ``install()`` applies them all, once per
process, and refuses to run on a Rasa version they were not written for (each replaced
attribute is private API and may change with any release).

Where it is called: the two packages that Rasa itself imports by name from this project —
``components/__init__.py`` (config.yml's pipeline, so every process that trains, tests or serves
the model) and ``stores/sql.py`` (endpoints.yml's tracker store) — and
``runtime/rasa_run.py`` before Rasa builds its HTTP API (its routes are made before the model
or the store loads). Nothing else patches Rasa
(tests/unit/test_rasa_patches.py), except that ``make bench`` wraps a few methods to time them
for one measurement and puts them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List

PATCHED_FOR = "3.6.21"


class UnsupportedRasaVersion(RuntimeError):
    pass


@dataclass(frozen=True)
class Patch:
    target: str  # what is replaced, as Rasa names it
    why: str
    apply: Callable[[], None]


def _action_response_check() -> None:
    from rasa.core.actions.action import RemoteAction

    from components.action_calls import validate_action_result

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[assignment]


def _action_call_timeout() -> None:
    import rasa.core.actions.action as rasa_action

    from components.action_calls import action_call_timeout

    rasa_action.DEFAULT_REQUEST_TIMEOUT = action_call_timeout()  # read at call time by RemoteAction.run


def _parse_cache() -> None:
    from rasa.core.processor import MessageProcessor

    from components.parse_cache import parse_with_cache

    MessageProcessor._parse_message_with_graph = parse_with_cache  # type: ignore[assignment]


def _fail_safe_store() -> None:
    from rasa.core.tracker_store import FailSafeTrackerStore

    from stores.sql import raise_or

    FailSafeTrackerStore.on_tracker_store_error = raise_or(  # type: ignore[method-assign]
        FailSafeTrackerStore.on_tracker_store_error
    )
    FailSafeTrackerStore.on_tracker_store_retrieve_error = raise_or(  # type: ignore[method-assign]
        FailSafeTrackerStore.on_tracker_store_retrieve_error
    )


def _api_token_header() -> None:
    import rasa.server

    from runtime.api_token import with_token_header

    if not getattr(rasa.server.requires_auth, "_token_header", False):
        patched = with_token_header(rasa.server.requires_auth)
        patched._token_header = True  # type: ignore[attr-defined]
        rasa.server.requires_auth = patched


PATCHES: List[Patch] = [
    Patch(
        "rasa.core.actions.action.RemoteAction._validate_action_result",
        "the same response check, compiled once (components/action_calls.py)",
        _action_response_check,
    ),
    Patch(
        "rasa.core.actions.action.DEFAULT_REQUEST_TIMEOUT",
        "a bounded wait for the action server, ACTION_CALL_TIMEOUT (components/action_calls.py)",
        _action_call_timeout,
    ),
    Patch(
        "rasa.core.processor.MessageProcessor._parse_message_with_graph",
        "an LRU cache of NLU results per loaded model (components/parse_cache.py)",
        _parse_cache,
    ),
    Patch(
        "rasa.core.tracker_store.FailSafeTrackerStore.on_tracker_store_error / _retrieve_error",
        "a store that must not forget fails the turn instead (stores/sql.py)",
        _fail_safe_store,
    ),
    Patch(
        "rasa.server.requires_auth",
        "the API token also in an X-Rasa-Token header, never needed in a URL (runtime/api_token.py)",
        _api_token_header,
    ),
]

_installed: List[str] = []


def rasa_version() -> str:
    from rasa.version import __version__

    return str(__version__)


def check_version(found: str) -> None:
    if found != PATCHED_FOR:
        raise UnsupportedRasaVersion(
            f"runtime/rasa_patches.py was written for Rasa {PATCHED_FOR}, this is Rasa {found}: "
            "check each patched attribute against the new Rasa before changing PATCHED_FOR"
        )


def install() -> None:
    """Applies every patch once; raises UnsupportedRasaVersion on another Rasa than PATCHED_FOR."""
    if _installed:
        return
    check_version(rasa_version())
    for patch in PATCHES:
        patch.apply()
        _installed.append(patch.target)


def installed() -> List[str]:
    return list(_installed)
