"""The bot at scale on one machine: PostgreSQL (conversations), Redis (conversation locks),
action servers, Rasa replicas and nginx in front, all on 127.0.0.1 (README, "Deploying at scale").

    python -m deploy.local_cluster.cluster deps                     # apt-get install what is missing
    python -m deploy.local_cluster.cluster up [--port 8080]         # start everything (make scale)
    python -m deploy.local_cluster.cluster status
    python -m deploy.local_cluster.cluster down                     # stop exactly what `up` started (make scale-down)

`up` keeps its state in `var/scale/` (git-ignored): one pid file per process it started, the
generated configs, logs under `log/`, the PostgreSQL cluster under `pg/` (kept across
`down`/`up`, so conversations survive), secrets in `secrets.json`. The HTTP API token comes
from RASA_TOKEN, or one is generated and printed. Tests and devtools/load.py use `Cluster`
with a folder and ports of their own, so they never touch a running `make scale`.

The parts, one module each: packages.py (apt), processes.py (pids, service users, signals),
supervisor.py (pid files, logs, secrets), postgres.py, redis_service.py, replicas.py (action
servers and Rasa), nginx.py; settings.py holds what they share. This module puts them together.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence

from devtools.local_bot import Bot
from devtools.processes import free_port, open_private, wait_until_up
from runtime.paths import MODEL

from .nginx import NginxFront
from .packages import ServicesUnavailable, install_packages, missing_packages
from .postgres import postgres_connection
from .processes import Terminated, alive, service_user, signals_raise
from .redis_service import RedisService
from .replicas import RasaReplicas
from .settings import DEFAULT_DIR, ENDPOINTS, LOCK_LIFETIME

# What tests and devtools/load.py import from here, besides Cluster itself.
__all__ = [
    "Cluster",
    "ENDPOINTS",
    "LOCK_LIFETIME",
    "ServicesUnavailable",
    "alive",
    "install_packages",
    "postgres_connection",
    "running_cluster",
]

STOP_ORDER = ["nginx", "rasa-", "actions-", "redis"]  # then PostgreSQL (pg_ctl)


@dataclass
class Cluster(RasaReplicas, RedisService, NginxFront):
    """PostgreSQL + Redis + action servers + Rasa replicas + nginx, in `base`."""

    base: Path = DEFAULT_DIR
    port: int = 8080
    token: str = ""
    replicas: int = 2
    action_servers: int = 2
    model: Path = MODEL
    pg_dir: Optional[Path] = None  # must be reachable by the `postgres` user; default base/pg
    # nginx's limit per client address for REST and socket.io (deploy/nginx.conf.template).
    client_rate: str = "30r/s"
    client_burst: int = 60
    ports: Dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base = Path(self.base).resolve()
        self.pg_dir = Path(self.pg_dir or self.base / "pg").resolve()
        self.log_dir = self.base / "log"
        self.pg_user = service_user("postgres")
        self.redis_user = service_user("redis")

    # ------------------------------------------------------------------ state
    @property
    def state_file(self) -> Path:
        return self.base / "cluster.json"

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'rasa-{index}']}"

    def bot(self, index: Optional[int] = None, client_address: Optional[str] = None) -> Bot:
        """A REST client: through nginx (from `client_address`, a 127.0.0.N of its own, if
        given), or straight to replica `index`."""
        if index is None:
            return Bot(self.url, self.token, self.base, token_header=True, client_address=client_address)
        return Bot(self.replica_url(index), self.token, self.base)

    def save_state(self) -> None:
        with open_private(self.state_file, "w") as handle:  # it holds the API token
            handle.write(
                json.dumps(
                    {
                        "port": self.port,
                        "token": self.token,
                        "ports": self.ports,
                        "pg_dir": str(self.pg_dir),
                        "replicas": self.replicas,
                        "action_servers": self.action_servers,
                    },
                    indent=2,
                )
            )

    @classmethod
    def load(cls, base: Path = DEFAULT_DIR) -> "Cluster":
        data = json.loads((Path(base) / "cluster.json").read_text())
        snapshot = Path(base) / "model.tar.gz"
        return cls(
            base=Path(base),
            port=data["port"],
            token=data["token"],
            ports=data["ports"],
            pg_dir=Path(data["pg_dir"]),
            replicas=data["replicas"],
            action_servers=data["action_servers"],
            model=snapshot if snapshot.exists() else MODEL,
        )

    # ------------------------------------------------------------------ start / stop
    def start(self) -> "Cluster":
        missing = missing_packages()
        if missing:
            raise ServicesUnavailable(
                f"not installed: {', '.join(missing)} (python -m deploy.local_cluster.cluster deps)"
            )
        if not self.model.exists():
            raise FileNotFoundError(f"{self.model} is missing: make train")
        self.base.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        if self.running():
            raise RuntimeError(f"a cluster from {self.base} is still running: stop it first (make scale-down)")
        self.token = self.token or secrets.token_hex(24)  # URL-safe, and never starts with "-"
        for name in [
            "postgres",
            "redis",
            *self._names("actions-", self.action_servers),
            *self._names("rasa-", self.replicas),
        ]:
            while name not in self.ports:
                port = free_port()
                if port not in self.ports.values() and port != self.port:
                    self.ports[name] = port
        # Every replica must run the same model: they load one copy, which a retraining
        # (`make train` rewrites models/jiebei.tar.gz) cannot change under them.
        snapshot = self.base / "model.tar.gz"
        shutil.copyfile(self.model, snapshot)
        self.model = snapshot
        try:
            self.start_postgres()
            self.start_redis()
            for index in range(self.action_servers):
                self._start_action_server(index)
            # Each replica loads the model (~35 s alone); together they share the cores.
            started = [self._spawn_replica(index) for index in range(self.replicas)]
            with ThreadPoolExecutor(max_workers=max(1, len(started))) as pool:
                list(pool.map(lambda args: wait_until_up(*args, timeout=300), started))
            self.start_nginx()
            self.save_state()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> List[str]:
        """Stops every process whose pid file is in `base` (and only those), then PostgreSQL."""
        stopped = self._stop_all(STOP_ORDER)
        if self.stop_postgres():
            stopped.append("postgres")
        (self.base / "postgres.pid").unlink(missing_ok=True)
        return stopped

    @staticmethod
    def _names(prefix: str, count: int) -> List[str]:
        return [f"{prefix}{index}" for index in range(count)]


@contextlib.contextmanager
def running_cluster(base: Path, **kwargs: object) -> Iterator[Cluster]:
    """A cluster on free ports in `base`, stopped (all of it) when the block ends, also when
    this process is told to stop (SIGTERM, SIGHUP: a CI time-out, a closed terminal). Its
    processes run in sessions of their own and would otherwise outlive it."""
    cluster = Cluster(base=base, port=free_port(), **kwargs)  # type: ignore[arg-type]
    with signals_raise():
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()


# --- command line --------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["deps", "up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="state folder (default var/scale)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SCALE_PORT") or 8080), help="nginx port")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--action-servers", type=int, default=2)
    args = parser.parse_args(argv)

    if args.command == "deps":
        install_packages()
        print("PostgreSQL, Redis and nginx are installed.")
        return 0
    if args.command == "down":
        if not args.dir.exists():
            print("nothing to stop")
            return 0
        stopped = Cluster(base=args.dir, pg_dir=_saved_pg_dir(args.dir)).stop()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.command == "status":
        cluster = Cluster(base=args.dir, pg_dir=_saved_pg_dir(args.dir))
        running = cluster.running()
        print(json.dumps(running, indent=2) if running else "not running")
        state = args.dir / "cluster.json"
        if running and state.exists():
            print(f"address: http://127.0.0.1:{json.loads(state.read_text())['port']}")
        return 0

    token = os.environ.get("RASA_TOKEN") or ""
    cluster = Cluster(
        base=args.dir, port=args.port, token=token, replicas=args.replicas, action_servers=args.action_servers
    )
    print(
        f"starting PostgreSQL, Redis, {args.action_servers} action server(s), {args.replicas} Rasa "
        f"replicas (about a minute) and nginx ...",
        flush=True,
    )
    try:
        with signals_raise():  # stopped half-way: start() stops what it had started
            cluster.start()
    except (RuntimeError, ServicesUnavailable, FileNotFoundError, TimeoutError, Terminated) as error:
        print(f"make scale failed: {error}", file=sys.stderr)
        return 1
    print(f"借呗额度助手 at scale: {cluster.url}")
    print(f"  REST:      POST {cluster.url}/webhooks/rest/webhook  (round robin over the replicas)")
    print(f"  socket.io: {cluster.url}/socket.io/  (sticky by client address)")
    print(f"  HTTP API:  curl -H 'X-Rasa-Token: <token>' {cluster.url}/conversations/<sender>/tracker  (read-only)")
    if not token:
        print(f"  HTTP API token (generated; set RASA_TOKEN to choose one): {cluster.token}")
    for name, port in sorted(cluster.ports.items()):
        print(f"  {name:<10} 127.0.0.1:{port}")
    print(f"  logs and pid files: {cluster.base}; stop everything with: make scale-down")
    return 0


def _saved_pg_dir(base: Path) -> Optional[Path]:
    state = Path(base) / "cluster.json"
    return Path(json.loads(state.read_text())["pg_dir"]) if state.exists() else None


if __name__ == "__main__":
    sys.exit(main())
