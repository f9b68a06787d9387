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
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

from channels.guard import BUSY, RATE_LIMITED  # noqa: E402
from channels.guard_texts import guard_text  # noqa: E402
from devtools.local_bot import BIN, MODEL, ROOT, Bot
from devtools.processes import free_port, open_private, wait_until_up
from devtools.serve_web import WEB, content_security_policy  # noqa: E402

DEPLOY = ROOT / "deploy"
ENDPOINTS = ROOT / "endpoints.scale.yml"
DEFAULT_DIR = ROOT / "var" / "scale"
PACKAGES = ("postgresql", "redis-server", "nginx")
DB_NAME = DB_USER = "jiebei"
LOCK_LIFETIME = 45  # seconds; see endpoints.scale.yml
STOP_ORDER = ["nginx", "rasa-", "actions-", "redis"]  # then PostgreSQL (pg_ctl)


class ServicesUnavailable(RuntimeError):
    """PostgreSQL, Redis or nginx is not installed and could not be installed."""


# --- Debian packages -------------------------------------------------------------------------


def pg_bindir() -> Optional[Path]:
    """Debian's newest PostgreSQL server binaries (/usr/lib/postgresql/N/bin), else PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).resolve().parent if pg_ctl else None


def _program(name: str) -> Optional[str]:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )


def missing_packages() -> List[str]:
    missing = []
    if pg_bindir() is None or not (pg_bindir() / "initdb").exists():
        missing.append("postgresql")
    if _program("redis-server") is None:
        missing.append("redis-server")
    if _program("nginx") is None:
        missing.append("nginx")
    return missing


POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
DENY_ALL_POLICY = (
    "#!/bin/sh\n# deploy/local_cluster/cluster.py: no service starts while it installs packages\nexit 101\n"
)


def install_packages(quiet: bool = False) -> None:
    """apt-get installs the missing packages (as root, or with passwordless sudo), without
    questions and without starting their system services: each would otherwise listen on its
    default port (5432, 6379, 80) for the whole machine. Debian's maintainer scripts start
    services through invoke-rc.d, which asks /usr/sbin/policy-rc.d first; for the install that
    file says "exit 101" (forbidden), and whatever was there before is put back afterwards."""
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() == 0:
        sudo: List[str] = []
    elif shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        sudo = ["sudo", "-n"]
    else:
        raise ServicesUnavailable(f"{', '.join(missing)} missing; installing needs root or passwordless sudo")
    if shutil.which("apt-get") is None:
        raise ServicesUnavailable(f"{', '.join(missing)} missing and apt-get is not available")
    # `env` after sudo: sudo's env_reset would drop DEBIAN_FRONTEND.
    apt = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "NEEDRESTART_MODE=l", "apt-get"]
    output = subprocess.PIPE if quiet else None
    had_policy = POLICY_RC_D.exists()
    backup = POLICY_RC_D.with_name("policy-rc.d.jiebei-saved")
    if had_policy:
        subprocess.run([*sudo, "cp", "-p", str(POLICY_RC_D), str(backup)], check=True)
    try:
        subprocess.run(
            [*sudo, "sh", "-c", f"cat > {POLICY_RC_D} && chmod 755 {POLICY_RC_D}"],
            input=DENY_ALL_POLICY,
            text=True,
            check=True,
        )
        print(f"installing {' '.join(missing)} (apt-get; their system services are not started)", flush=True)
        update = subprocess.run(
            [*apt, "update"], stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True
        )
        install = subprocess.run(
            [*apt, "install", "-y", "--no-install-recommends", *missing],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    finally:
        if had_policy:
            subprocess.run([*sudo, "mv", "-f", str(backup), str(POLICY_RC_D)], check=False)
        else:
            subprocess.run([*sudo, "rm", "-f", str(POLICY_RC_D)], check=False)
    still = missing_packages()
    if still:
        detail = (install.stdout or update.stdout or "")[-1500:] if quiet else ""
        raise ServicesUnavailable(
            f"apt-get could not install {', '.join(still)} (update exit {update.returncode}, "
            f"install exit {install.returncode}){chr(10) + detail if detail else ''}"
        )


# --- processes ---------------------------------------------------------------------------------


def _as_user(user: Optional[str]) -> List[str]:
    """A command prefix that runs as `user` (when root; PostgreSQL refuses to run as root)."""
    if user is None or os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]


def _service_user(name: str) -> Optional[str]:
    """The system user Debian's package created (postgres, redis), when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
        return name
    except KeyError:
        return None


def _chown(path: Path, user: Optional[str]) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, d) for d in dirs), *(os.path.join(root, f) for f in files)]:
                os.chown(name, entry.pw_uid, entry.pw_gid)


def _stat_fields(path: str) -> List[str]:
    """The fields of a /proc/.../stat file after the command name: state, ppid, pgrp, ..."""
    return Path(path).read_text().rsplit(")", 1)[1].split()


def _alive(pid: int) -> bool:
    """Whether any thread of process `pid` still runs. A zombie is not alive, but the main
    thread alone turns zombie while another thread of the same process is still exiting and
    holding its open files: a SIGKILLed replica's listening socket kept accepting connections
    for up to 0.7 s after its main thread was a zombie (nginx sent a POST there, which was reset).
    The files are closed only once the last thread has exited."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        with contextlib.suppress(OSError, IndexError):
            if _stat_fields(f"/proc/{pid}/task/{task}/stat")[0] not in ("Z", "X"):
                return True
    return False


def _group_alive(pgid: int) -> bool:
    """Whether any process of process group `pgid` (a started process and its children) is alive."""
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(_stat_fields(stat)[2]) == pgid and _alive(int(Path(stat).parent.name)):
                return True
    return False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class Cluster:
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
        self.pg_user = _service_user("postgres")
        self.redis_user = _service_user("redis")

    # ------------------------------------------------------------------ state
    @property
    def state_file(self) -> Path:
        return self.base / "cluster.json"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replica_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'rasa-{index}']}"

    def bot(self, index: Optional[int] = None, client_address: Optional[str] = None) -> Bot:
        """A REST client: through nginx (from `client_address`, a 127.0.0.N of its own, if
        given), or straight to replica `index`."""
        if index is None:
            return Bot(self.url, self.token, self.base, token_header=True, client_address=client_address)
        return Bot(self.replica_url(index), self.token, self.base)

    def _secrets(self) -> Dict[str, str]:
        path = self.base / "secrets.json"
        values = json.loads(path.read_text()) if path.exists() else {}
        wanted = ("db_password", "redis_password", "action_secret")
        if all(key in values for key in wanted):
            return values
        values = {key: values.get(key) or secrets.token_urlsafe(18) for key in wanted}
        with open_private(path, "w") as handle:  # never readable by others, not even for a moment
            handle.write(json.dumps(values))
        return values

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

    def running(self) -> Dict[str, int]:
        """Name → pid of the processes this cluster started that are still alive."""
        alive = {}
        for pidfile in sorted(self.base.glob("*.pid")):
            info = json.loads(pidfile.read_text())
            if _alive(info["pid"]) and info["marker"] in _cmdline(info["pid"]):
                alive[pidfile.stem] = info["pid"]
        return alive

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
        stopped = []
        pidfiles = sorted(self.base.glob("*.pid"))
        for prefix in STOP_ORDER:
            group = [p for p in pidfiles if p.stem.startswith(prefix)]
            ours = {}
            for pidfile in group:
                info = json.loads(pidfile.read_text())
                if _alive(info["pid"]) and info["marker"] in _cmdline(info["pid"]):
                    ours[pidfile.stem] = info["pid"]
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(info["pid"], signal.SIGTERM)
            for name, pid in ours.items():
                self._wait_gone(pid)
                stopped.append(name)
            for pidfile in group:
                pidfile.unlink()
        if self.stop_postgres():
            stopped.append("postgres")
        (self.base / "postgres.pid").unlink(missing_ok=True)
        return stopped

    @staticmethod
    def _wait_gone(pid: int, timeout: float = 20) -> None:
        """Waits until `pid` (checked to be ours before it was signalled) and every process of its
        group have exited with their sockets closed: only their state is watched, since a dying
        process loses its command line before it closes its files, and its listening socket
        still accepts in between."""
        deadline = time.monotonic() + timeout
        while _alive(pid) or _group_alive(pid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                deadline = time.monotonic() + 5
            time.sleep(0.1)
        with contextlib.suppress(ChildProcessError):  # reap it if it is our own child
            os.waitpid(pid, os.WNOHANG)

    @staticmethod
    def _names(prefix: str, count: int) -> List[str]:
        return [f"{prefix}{index}" for index in range(count)]

    def _spawn(
        self,
        name: str,
        command: Sequence[str],
        env: Optional[Dict[str, str]] = None,
        marker: Optional[str] = None,
        umask: Optional[int] = None,
    ) -> subprocess.Popen:
        """Starts `command` in its own session (it outlives `make scale`), logs to log/NAME.log,
        records its pid in NAME.pid together with a marker from its command line."""
        log = open_private(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=env or dict(os.environ),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # nginx opens its own logs (which quote request paths): owner-only.
            preexec_fn=None if umask is None else (lambda: os.umask(umask)),
        )
        log.close()
        marker = marker or str(command[-1])
        (self.base / f"{name}.pid").write_text(json.dumps({"pid": process.pid, "marker": marker}))
        return process

    # ------------------------------------------------------------------ PostgreSQL
    def _pg(self, tool: str, *args: str, check: bool = True, quiet: bool = True) -> subprocess.CompletedProcess:
        bindir = pg_bindir()
        assert bindir is not None
        return subprocess.run(
            [*_as_user(self.pg_user), str(bindir / tool), *args],
            cwd="/",
            check=check,
            text=True,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
        )

    @property
    def pg_data(self) -> Path:
        return self.pg_dir / "data"

    def _pg_socket_dir(self) -> Path:
        return self.pg_dir / "run"

    def start_postgres(self) -> None:
        """initdb on first use (as the `postgres` user when root), then pg_ctl start on 127.0.0.1."""
        self.pg_dir.mkdir(parents=True, exist_ok=True)
        self._pg_socket_dir().mkdir(exist_ok=True)
        password = self._secrets()["db_password"]
        if not (self.pg_data / "PG_VERSION").exists():
            self.pg_data.mkdir(exist_ok=True)
            self.pg_dir.chmod(0o700)
            _chown(self.pg_dir, self.pg_user)
            self._pg(
                "initdb",
                "-D",
                str(self.pg_data),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            )
            with (self.pg_data / "postgresql.conf").open("a") as conf:
                conf.write("\ninclude_if_exists 'jiebei.conf'   # from deploy/postgresql.conf\n")
        shutil.copy(DEPLOY / "postgresql.conf", self.pg_data / "jiebei.conf")
        _chown(self.pg_dir, self.pg_user)
        port = self.ports["postgres"]
        result = self._pg(
            "pg_ctl",
            "-D",
            str(self.pg_data),
            "-l",
            str(self.pg_dir / "postgres.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {self._pg_socket_dir()}",
            "start",
            check=False,
        )
        if result.returncode != 0:
            log = self.pg_dir / "postgres.log"
            raise RuntimeError(
                f"PostgreSQL did not start: {result.stdout}\n{log.read_text()[-2000:] if log.exists() else ''}"
            )
        pid = int((self.pg_data / "postmaster.pid").read_text().split()[0])
        (self.base / "postgres.pid").write_text(json.dumps({"pid": pid, "marker": str(self.pg_data)}))
        sql = (
            f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{DB_USER}') THEN "
            f"CREATE ROLE {DB_USER} LOGIN; END IF; END$$;\n"
            f"ALTER ROLE {DB_USER} WITH LOGIN PASSWORD '{password}';\n"
        )
        self.psql(sql)
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'").strip():
            self.psql(f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")

    def _psql_args(self, database: str) -> List[str]:
        """psql as the superuser over the cluster's private socket, stopping at the first error."""
        socket_dir, port = str(self._pg_socket_dir()), str(self.ports["postgres"])
        return ["-h", socket_dir, "-p", port, "-U", "postgres", "-d", database, "-X", "-tAq", "-v", "ON_ERROR_STOP=1"]

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Runs `sql` as the superuser over the cluster's private socket; returns the rows."""
        result = self._pg("psql", *self._psql_args(database), "-c", sql, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stdout}")
        return result.stdout

    def psql_file(self, path: Path, database: str = DB_NAME, **variables: object) -> str:
        """Runs an SQL file (e.g. deploy/retention.sql) as the superuser, `-v name=value` each."""
        bindir = pg_bindir()
        assert bindir is not None
        settings = [arg for name, value in variables.items() for arg in ("-v", f"{name}={value}")]
        result = subprocess.run(
            [*_as_user(self.pg_user), str(bindir / "psql"), *self._psql_args(database), *settings, "-f", "-"],
            input=Path(path).read_text(),
            cwd="/",
            text=True,
            capture_output=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout

    def connect(self) -> Any:
        """A psycopg2 connection to the tracker store's database, as the replicas' user."""
        return postgres_connection(self.postgres_env())

    def stop_postgres(self) -> bool:
        if not (self.pg_data / "postmaster.pid").exists():
            return False
        self._pg("pg_ctl", "-D", str(self.pg_data), "-m", "fast", "-w", "-t", "60", "stop", check=False)
        return True

    def postgres_env(self) -> Dict[str, str]:
        return {
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(self.ports["postgres"]),
            "DB_NAME": DB_NAME,
            "DB_USER": DB_USER,
            "DB_PASSWORD": self._secrets()["db_password"],
        }

    # ------------------------------------------------------------------ Redis
    def start_redis(self) -> None:
        directory = self.base / "redis"
        directory.mkdir(exist_ok=True)
        conf = directory / "redis.conf"
        conf.write_text(
            _fill(
                (DEPLOY / "redis.conf.template").read_text(),
                port=self.ports["redis"],
                password=self._secrets()["redis_password"],
                dir=directory,
            )
        )
        conf.chmod(0o600)
        _chown(directory, self.redis_user)
        process = self._spawn(
            "redis", [*_as_user(self.redis_user), _program("redis-server"), str(conf)], marker="redis-server"
        )  # Redis rewrites its command line
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.ports["redis"], password=self._secrets()["redis_password"])
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Redis did not start; see {self.log_dir / 'redis.log'}") from None
                time.sleep(0.2)

    def stop_redis(self) -> None:
        self._signal("redis", signal.SIGTERM)

    # ------------------------------------------------------------------ Rasa and actions
    def _env(self) -> Dict[str, str]:
        return {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "ACTION_SERVER_HOST": "127.0.0.1",
            "ACTION_SERVER_SECRET": self._secrets()["action_secret"],
        }

    def _start_action_server(self, index: int) -> None:
        port = self.ports[f"actions-{index}"]
        process = self._spawn(
            f"actions-{index}",
            [str(BIN / "python"), "-m", "actions.server", "--port", str(port)],
            self._env(),
            marker=f"--port {port}",
        )
        wait_until_up(f"http://127.0.0.1:{port}/health", process, self.log_dir / f"actions-{index}.log")

    def replica_env(self, index: int) -> Dict[str, str]:
        action_port = self.ports[f"actions-{index % self.action_servers}"]
        return {
            **self._env(),
            **self.postgres_env(),
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(self.ports["redis"]),
            "REDIS_PASSWORD": self._secrets()["redis_password"],
            "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
            "TICKET_LOCK_LIFETIME": str(LOCK_LIFETIME),
        }

    def _spawn_replica(self, index: int) -> tuple:
        port = self.ports[f"rasa-{index}"]
        name = f"rasa-{index}"
        # The token in the environment, not the arguments (runtime/rasa_run.py).
        command = [
            str(BIN / "python"),
            "-m",
            "runtime.rasa_run",
            "--model",
            str(self.model),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
            "--enable-api",
            "--endpoints",
            str(ENDPOINTS),
            "--credentials",
            str(ROOT / "credentials.yml"),
        ]
        process = self._spawn(
            name, command, {**self.replica_env(index), "RASA_TOKEN": self.token}, marker=f"--port {port}"
        )
        return f"http://127.0.0.1:{port}/status?token={self.token}", process, self.log_dir / f"{name}.log"

    def start_replica(self, index: int) -> None:
        wait_until_up(*self._spawn_replica(index), timeout=300)

    def kill_replica(self, index: int) -> None:
        """SIGKILL, as a crash or an OOM kill would: no shutdown handlers run."""
        self._signal(f"rasa-{index}", signal.SIGKILL)

    def _signal(self, name: str, signum: int) -> None:
        """Signals the process group NAME.pid names, if it is still ours, and waits until it is gone."""
        info = json.loads((self.base / f"{name}.pid").read_text())
        if _alive(info["pid"]) and info["marker"] in _cmdline(info["pid"]):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(info["pid"], signum)
            self._wait_gone(info["pid"])

    # ------------------------------------------------------------------ nginx
    def write_nginx_conf(self, rest_replicas: Optional[Sequence[int]] = None) -> Path:
        """nginx.conf from deploy/nginx.conf.template; REST/API goes to `rest_replicas` (default all)."""
        directory = self.base / "nginx"
        for sub in ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]:
            (directory / sub).mkdir(parents=True, exist_ok=True)
        worker_user = "nobody" if os.geteuid() == 0 else None
        if worker_user:  # the master (root) drops to `nobody` for the workers, which write tmp/
            _chown(directory / "tmp", worker_user)
        rest = range(self.replicas) if rest_replicas is None else rest_replicas

        def servers(indices: Sequence[int]) -> str:
            return "\n".join(
                f"        server 127.0.0.1:{self.ports[f'rasa-{i}']} max_fails=1 fail_timeout=5s;" for i in indices
            )

        conf = directory / "nginx.conf"
        conf.write_text(
            _fill(
                (DEPLOY / "nginx.conf.template").read_text(),
                dir=directory,
                port=self.port,
                user=f"user {worker_user} nogroup;" if worker_user else "",
                rest_servers=servers(list(rest)),
                socketio_servers=servers(range(self.replicas)),
                busy_reply=_reply_json(BUSY),
                rate_limited_reply=_reply_json(RATE_LIMITED),
                client_rate=self.client_rate,
                client_burst=self.client_burst,
                web=WEB,
                web_csp=content_security_policy(None),
            )
        )
        return conf

    def start_nginx(self) -> None:
        conf = self.write_nginx_conf()
        nginx = _program("nginx")
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
        old_workers = _children(pid)
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and set(_children(pid)) & set(old_workers):
            time.sleep(0.1)
        time.sleep(0.5)  # the new workers accept connections


def _reply_json(key: str) -> str:
    """A REST reply list with the channels' text `key` (knowledge/guard.yml), for nginx's own
    replies (「系统繁忙」 when no replica answers, 「发送得太快」 over the per-client limit)."""
    text = json.dumps([{"text": guard_text(key)}], ensure_ascii=False)
    assert "'" not in text and "{{" not in text
    return text


def postgres_connection(env: Dict[str, str]) -> Any:
    """psycopg2's connection for the DB_* settings the replicas are given."""
    import psycopg2

    return psycopg2.connect(
        host=env["DB_HOST"],
        port=env["DB_PORT"],
        dbname=env["DB_NAME"],
        user=env["DB_USER"],
        password=env["DB_PASSWORD"],
    )


def _children(pid: int) -> List[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _fill(template: str, **values: object) -> str:
    for key, value in values.items():
        template = template.replace("{{" + key + "}}", str(value))
    assert "{{" not in template, "unfilled field in template"
    return template


@contextlib.contextmanager
def running_cluster(base: Path, **kwargs: object) -> Iterator[Cluster]:
    """A cluster on free ports in `base`, stopped (all of it) when the block ends, also when
    this process is told to stop (SIGTERM, SIGHUP: a CI time-out, a closed terminal). Its
    processes run in sessions of their own and would otherwise outlive it."""
    cluster = Cluster(base=base, port=free_port(), **kwargs)  # type: ignore[arg-type]
    with _signals_raise():
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a cluster was running."""


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Turns SIGTERM and SIGHUP into an exception, so that `finally` blocks run (Python's
    default is to die on the spot); only in the main thread, where handlers can be set."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        for other in previous:  # a second signal must not interrupt the clean-up
            signal.signal(other, signal.SIG_IGN)
        raise Terminated(signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


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
        with _signals_raise():  # stopped half-way: start() stops what it had started
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
