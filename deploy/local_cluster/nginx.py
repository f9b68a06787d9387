"""The cluster's nginx in front of the replicas (deploy/nginx.conf.template): REST round robin,
socket.io sticky by client address, a per-address rate limit, the web widget on the same origin,
and the channels' own 「系统繁忙」/「发送得太快」 replies when no replica can answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional, Sequence

from channels.guard import BUSY, RATE_LIMITED
from channels.guard_texts import guard_text
from devtools.processes import wait_until_up
from devtools.serve_web import WEB, content_security_policy
from runtime.paths import DEPLOY

from .packages import program
from .processes import children, chown_tree
from .settings import fill_template
from .supervisor import Supervisor


def reply_json(key: str) -> str:
    """A REST reply list with the channels' text `key` (knowledge/guard.yml), for nginx's own
    replies (「系统繁忙」 when no replica answers, 「发送得太快」 over the per-client limit)."""
    text = json.dumps([{"text": guard_text(key)}], ensure_ascii=False)
    assert "'" not in text and "{{" not in text
    return text


class NginxFront(Supervisor):
    port: int
    replicas: int
    client_rate: str
    client_burst: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_nginx_conf(self, rest_replicas: Optional[Sequence[int]] = None) -> Path:
        """nginx.conf from deploy/nginx.conf.template; REST/API goes to `rest_replicas` (default all)."""
        directory = self.base / "nginx"
        for sub in ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]:
            (directory / sub).mkdir(parents=True, exist_ok=True)
        worker_user = "nobody" if os.geteuid() == 0 else None
        if worker_user:  # the master (root) drops to `nobody` for the workers, which write tmp/
            chown_tree(directory / "tmp", worker_user)
        rest = range(self.replicas) if rest_replicas is None else rest_replicas

        def servers(indices: Sequence[int]) -> str:
            return "\n".join(
                f"        server 127.0.0.1:{self.ports[f'rasa-{i}']} max_fails=1 fail_timeout=5s;" for i in indices
            )

        conf = directory / "nginx.conf"
        conf.write_text(
            fill_template(
                (DEPLOY / "nginx.conf.template").read_text(),
                dir=directory,
                port=self.port,
                user=f"user {worker_user} nogroup;" if worker_user else "",
                rest_servers=servers(list(rest)),
                socketio_servers=servers(range(self.replicas)),
                busy_reply=reply_json(BUSY),
                rate_limited_reply=reply_json(RATE_LIMITED),
                client_rate=self.client_rate,
                client_burst=self.client_burst,
                web=WEB,
                web_csp=content_security_policy(None),
            )
        )
        return conf

    def start_nginx(self) -> None:
        conf = self.write_nginx_conf()
        nginx = program("nginx")
        error_log = str(self.base / "nginx" / "error.log")
        for log in (self.base / "nginx").glob("*.log"):  # from an earlier run
            log.chmod(0o600)
        check = subprocess.run(
            [nginx, "-t", "-q", "-c", str(conf), "-e", error_log],
            capture_output=True,
            text=True,
            preexec_fn=lambda: os.umask(0o077),
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx configuration rejected: {check.stderr}")
        process = self._spawn("nginx", [nginx, "-c", str(conf), "-e", error_log], marker=str(conf), umask=0o077)
        wait_until_up(f"{self.url}/webhooks/rest/", process, self.log_dir / "nginx.log", timeout=30)

    def route_rest_to(self, replicas: Sequence[int]) -> None:
        """Rewrites the REST/API upstream and reloads nginx (SIGHUP: no connection is dropped)."""
        self.write_nginx_conf(replicas)
        pid = json.loads((self.base / "nginx.pid").read_text())["pid"]
        old_workers = children(pid)
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and set(children(pid)) & set(old_workers):
            time.sleep(0.1)
        time.sleep(0.5)  # the new workers accept connections
