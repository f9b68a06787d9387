"""The cluster's PostgreSQL (the tracker store): its own data folder, on 127.0.0.1 and a private
socket, run as the `postgres` user when root (it refuses to run as root)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

from runtime.paths import DEPLOY

from .packages import pg_bindir
from .processes import as_user, chown_tree
from .settings import DB_NAME, DB_USER
from .supervisor import Supervisor


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


class PostgresService(Supervisor):
    pg_dir: Path
    pg_user: Optional[str]

    def _pg(
        self, tool: str, *args: str, check: bool = True, quiet: bool = True, stdin: Optional[str] = None
    ) -> subprocess.CompletedProcess:
        bindir = pg_bindir()
        assert bindir is not None
        return subprocess.run(
            [*as_user(self.pg_user), str(bindir / tool), *args],
            cwd="/",
            check=check,
            text=True,
            input=stdin,
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
            chown_tree(self.pg_dir, self.pg_user)
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
        chown_tree(self.pg_dir, self.pg_user)
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
        """Runs `sql` as the superuser over the cluster's private socket; returns the rows. The
        SQL goes through stdin, never argv: every local user can read a process's arguments
        (/proc/PID/cmdline), and `ALTER ROLE … PASSWORD` carries the database password."""
        result = self._pg("psql", *self._psql_args(database), "-f", "-", check=False, stdin=sql)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stdout}")
        return result.stdout

    def psql_file(self, path: Path, database: str = DB_NAME, **variables: object) -> str:
        """Runs an SQL file (e.g. deploy/retention.sql) as the superuser, `-v name=value` each."""
        bindir = pg_bindir()
        assert bindir is not None
        settings = [arg for name, value in variables.items() for arg in ("-v", f"{name}={value}")]
        result = subprocess.run(
            [*as_user(self.pg_user), str(bindir / "psql"), *self._psql_args(database), *settings, "-f", "-"],
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
