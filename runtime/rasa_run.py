"""`rasa run` with the HTTP API token taken from $RASA_TOKEN instead of the command line.

Every local user can read a process's arguments (/proc/PID/cmdline, `ps`), so
``rasa run --auth-token SECRET`` shows the token to all of them; the environment
(/proc/PID/environ) is readable by the owner only. This starts Rasa in this process with
the token appended to its own argument list, which the kernel's copy never sees::

    RASA_TOKEN=... python -m runtime.rasa_run --enable-api --model ... --port ...

With ``--enable-api`` and no RASA_TOKEN (nor ``--jwt-secret``) it refuses to start: an open
HTTP API lets anyone replace the model or rewrite conversations.

It also keeps jax, which Rasa never uses, out of the process (`keep_out_unused_modules`).
Rasa's own code is changed by runtime/rasa_patches.py only, installed when Rasa imports this
project's components/ (config.yml) and stores/ (endpoints.yml), however Rasa was started.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional


def api_server_command(python: str, model: str, port: int, endpoints: str, credentials: str, *extra: str) -> List[str]:
    """The command line of a Rasa server with its HTTP API on loopback, run through this module
    (its token goes in RASA_TOKEN): the test bots and the cluster's replicas."""
    return [
        python,
        "-m",
        "runtime.rasa_run",
        "--model",
        model,
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--enable-api",
        "--endpoints",
        endpoints,
        "--credentials",
        credentials,
        *extra,
    ]


def rasa_arguments(argv: List[str], token: Optional[str]) -> List[str]:
    if "--auth-token" in argv or any(arg.startswith("--auth-token=") for arg in argv):
        raise SystemExit("pass the token as RASA_TOKEN, not --auth-token (it would be in ps)")
    if token:
        return ["rasa", "run", *argv, "--auth-token", token]
    if "--enable-api" in argv and "--jwt-secret" not in argv:
        raise SystemExit("--enable-api needs RASA_TOKEN (or --jwt-secret): the API must not be open")
    return ["rasa", "run", *argv]


# Modules that Rasa imports but never uses. TensorFlow's TFLite helpers import jax when it is
# installed (TensorFlow 2.12 requires it) to convert jax models, which Rasa never does; the
# import costs about 100 MB of every server's memory. A None entry makes `import jax` raise
# ImportError, which TensorFlow expects and handles (tensorflow/lite/python/util.py).
UNUSED_MODULES = ("jax",)


def keep_out_unused_modules() -> None:
    for name in UNUSED_MODULES:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main() -> None:
    sys.argv = rasa_arguments(sys.argv[1:], os.environ.pop("RASA_TOKEN", "") or None)
    keep_out_unused_modules()
    from runtime import rasa_patches

    rasa_patches.install()  # before Rasa's HTTP API is built: the X-Rasa-Token header (runtime/api_token.py)
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
