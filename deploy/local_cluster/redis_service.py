"""The cluster's Redis (Rasa's conversation lock store, the WeChat channel's shared state):
password-protected, on 127.0.0.1, run as the `redis` user when root."""

from __future__ import annotations

import signal
import time
from typing import Optional

import redis

from runtime.paths import DEPLOY

from .packages import program
from .processes import as_user, chown_tree
from .settings import fill_template
from .supervisor import Supervisor


class RedisService(Supervisor):
    redis_user: Optional[str]

    def start_redis(self) -> None:
        directory = self.base / "redis"
        directory.mkdir(exist_ok=True)
        conf = directory / "redis.conf"
        conf.write_text(
            fill_template(
                (DEPLOY / "redis.conf.template").read_text(),
                port=self.ports["redis"],
                password=self._secrets()["redis_password"],
                dir=directory,
            )
        )
        conf.chmod(0o600)
        chown_tree(directory, self.redis_user)
        process = self._spawn(
            "redis", [*as_user(self.redis_user), program("redis-server"), str(conf)], marker="redis-server"
        )  # Redis rewrites its command line
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
