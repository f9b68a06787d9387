"""Runs a command with the servers it needs, and stops them however the command ends.

    python -m devtools.with_servers --actions 5055 [--web 8000 --bot-url URL] -- COMMAND...

`make chat`, `make run` and `make web` start Rasa through this: the action server (on
127.0.0.1 unless ACTION_SERVER_HOST says otherwise; it answers only ACTION_SERVER_SECRET's
holder) and, for the web widget, the page server (devtools/serve_web.py). Everything the bot
writes under var/ (tracker.db, logs) holds users' facts, so it is owner-only: the umask is 077
for the servers and the command, and older files lose their wider modes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from devtools.processes import serving
from runtime.paths import ROOT, VAR

PRIVATE_UMASK = 0o077


def make_private(var: Path = VAR) -> Path:
    os.umask(PRIVATE_UMASK)
    logs = var / "log"
    logs.mkdir(parents=True, exist_ok=True)
    for path in [*logs.glob("*.log"), *var.glob("tracker.db*")]:
        path.chmod(0o600)
    return logs


def run_in_foreground(command: List[str]) -> int:
    """The command with the terminal; a Ctrl-C is the command's to handle, a SIGTERM is passed on."""
    child = subprocess.Popen(command)
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, required=True, metavar="PORT")
    parser.add_argument("--web", type=int, metavar="PORT")
    parser.add_argument("--bot-url", default="http://localhost:5005")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required (after --)")
    if not os.environ.get("ACTION_SERVER_SECRET"):
        parser.error("ACTION_SERVER_SECRET must be set (the Makefile exports it)")
    logs = make_private()
    python = sys.executable
    with contextlib.ExitStack() as servers:
        try:
            servers.enter_context(
                serving(
                    [python, "-m", "actions.server", "--port", str(args.actions)],
                    logs / "actions.log",
                    f"http://127.0.0.1:{args.actions}/health",
                    cwd=ROOT,
                    timeout=60,
                )
            )
            if args.web:
                servers.enter_context(
                    serving(
                        [python, "-m", "devtools.serve_web", "--port", str(args.web), "--bot-url", args.bot_url],
                        logs / "web.log",
                        f"http://127.0.0.1:{args.web}/",
                        cwd=ROOT,
                        timeout=30,
                    )
                )
        except (RuntimeError, TimeoutError) as error:
            print(f"a server did not start: {str(error).splitlines()[0]}", file=sys.stderr)
            return 1
        return run_in_foreground(command)


if __name__ == "__main__":
    sys.exit(main())
