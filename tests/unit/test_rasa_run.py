"""How every Rasa server here is started (runtime/rasa_run.py)."""

from __future__ import annotations

from runtime.rasa_run import api_server_command


def test_every_api_server_here_listens_on_loopback_with_its_token_outside_argv() -> None:
    command = api_server_command("py", "m.tar.gz", 5005, "e.yml", "c.yml", "--cors", "x")
    assert command[:3] == ["py", "-m", "runtime.rasa_run"]
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert command[command.index("--port") + 1] == "5005" and "--enable-api" in command
    assert not [arg for arg in command if arg.startswith("--auth-token")]
    assert command[-2:] == ["--cors", "x"]
