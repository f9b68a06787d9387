"""Runs a command with the servers it needs, and stops them however the command ends.

    python -m devtools.with_servers --actions 5055 [--web 8000 --bot-url URL]
        [--rasa 5005 --model M --endpoints E --interface I] -- COMMAND...

`make chat`, `make run` and `make web` start Rasa through this: the action server (on
127.0.0.1 unless ACTION_SERVER_HOST says otherwise; it answers only ACTION_SERVER_SECRET's
holder), for the web widget the page server (devtools/serve_web.py), and for `make chat` the
bot itself (`--rasa`: the guarded terminal channel, its log in var/log/rasa.log), while the
command (the terminal, channels/terminal.py) has the terminal. However the command ends —
/stop, Ctrl-C, Ctrl-D, or the terminal closed (SIGHUP) — the servers are stopped.
Everything the bot writes under var/ (tracker.db, logs) holds users' facts, so it is
owner-only: the umask is 077 for the servers and the command, and older files lose their wider
modes.
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

from advisor.knowledge import load_conversation_texts
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


def _terminal() -> Optional[int]:
    """The controlling terminal's descriptor, when stdin is one."""
    try:
        return sys.stdin.fileno() if os.isatty(sys.stdin.fileno()) else None
    except (OSError, ValueError):
        return None


def _give_terminal_to(fd: int, group: int) -> None:
    # A background process group that changes the terminal's foreground group gets SIGTTOU.
    previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        os.tcsetpgrp(fd, group)
    except OSError:
        pass
    finally:
        signal.signal(signal.SIGTTOU, previous)


def run_in_foreground(command: List[str]) -> int:
    """The command with the terminal, as a shell runs a job: in its own process group, which is
    made the terminal's foreground group, so a Ctrl-C reaches the command alone (it says goodbye
    and ends with status 0) and not `make` above it, which would die of it (status 130). A
    SIGTERM or a closed terminal (SIGHUP) is passed on, and this process lives on to stop the
    servers."""
    tty = _terminal()
    child = subprocess.Popen(command, preexec_fn=os.setpgrp if tty is not None else None)
    if tty is not None:
        _give_terminal_to(tty, child.pid)
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    previous_term = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    previous_hup = signal.signal(signal.SIGHUP, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        if tty is not None:
            _give_terminal_to(tty, os.getpgrp())
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGHUP, previous_hup)


def rasa_command(port: int, model: str, endpoints: str, interface: str) -> List[str]:
    """The bot with the terminal's guarded REST channel (channels/shell.py), no HTTP API."""
    return [
        sys.executable,
        "-m",
        "runtime.rasa_run",
        "--connector",
        "channels.shell.GuardedShellInput",
        "--model",
        model,
        "--port",
        str(port),
        "--interface",
        interface,
        "--endpoints",
        endpoints,
    ]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, required=True, metavar="PORT")
    parser.add_argument("--web", type=int, metavar="PORT")
    parser.add_argument("--bot-url", default="http://localhost:5005")
    parser.add_argument("--rasa", type=int, metavar="PORT", help="also run the bot for the terminal on PORT")
    parser.add_argument("--model", default="models/jiebei.tar.gz")
    parser.add_argument("--endpoints", default="var/endpoints.yml")
    parser.add_argument("--interface", default="127.0.0.1")
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
            if args.rasa:
                print(load_conversation_texts()["terminal"]["loading"], flush=True)
                host = "127.0.0.1" if args.interface in ("0.0.0.0", "") else args.interface
                servers.enter_context(
                    serving(
                        rasa_command(args.rasa, args.model, args.endpoints, args.interface),
                        logs / "rasa.log",
                        f"http://{host}:{args.rasa}/",
                        cwd=ROOT,
                        timeout=900,  # loading the model takes minutes on a busy machine
                    )
                )
        except (RuntimeError, TimeoutError) as error:
            print(f"a server did not start: {str(error).splitlines()[0]}", file=sys.stderr)
            return 1
        return run_in_foreground(command)


if __name__ == "__main__":
    sys.exit(main())
