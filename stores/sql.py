"""Rasa's SQL tracker store, made fit for several replicas sharing one PostgreSQL.

Enable it in an endpoints file (``endpoints.scale.yml``, and ``endpoints.yml`` for SQLite)::

    tracker_store:
      type: stores.sql.SharedSQLTrackerStore
      dialect: postgresql
      url: ...            # every key of Rasa's `type: SQL` store works the same
      pool_size: 5        # connections kept per replica (default: $SQL_POOL_SIZE, else 5)
      max_overflow: 5     # extra connections under load (default: $SQL_MAX_OVERFLOW, else 5)

Differences from ``rasa.core.tracker_store.SQLTrackerStore``:

- **No silent amnesia.** Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the
  database cannot be read it returns *no tracker*, so the bot greets a user in the middle of a
  diagnosis as a new conversation (disclaimer, forgotten facts) and keeps that turn in the
  replica's memory only. With this store a database error fails the turn instead, and the
  channels answer 「系统繁忙，请稍后再试」 (channels/rest.py, webchat.py, wechat.py); the
  conversation continues unchanged once the database is back.
- **Survives a database restart.** Connections are checked before use (``pool_pre_ping``), so
  a restarted PostgreSQL costs no failed turn once it is up again; connecting gives up after
  ``connect_timeout`` seconds (set in ``query``) and waiting for a free pooled connection
  after ``pool_timeout`` seconds (default 5) instead of SQLAlchemy's 30.
- **Owner-only SQLite files.** The conversations hold debt facts: an SQLite database file is
  created (or kept) mode 0600 before anything is written to it; SQLite gives its journal
  the same mode.
- **Retention.** With ``retention_days`` (endpoints file, or ``$TRACKER_RETENTION_DAYS``) every
  conversation whose last event is older is deleted, when the store opens and then at most
  hourly as turns are saved: the default SQLite store keeps 90 days (``endpoints.yml``), as
  ``deploy/retention.sql`` does for PostgreSQL from cron. 0 or unset: nothing is deleted.
- **Small pools.** Rasa's defaults are 50 pooled + 100 overflow connections per process, so
  two replicas could open 300 connections against PostgreSQL's default limit of 100. Rasa's
  tracker store runs its queries synchronously on the event loop, so one replica uses one
  connection at a time; 5 + 5 leaves ample room.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Callable, Optional

import sqlalchemy as sa
from rasa.core import tracker_store as rasa_stores
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain

from runtime import rasa_patches

logger = logging.getLogger(__name__)

DEFAULT_POOL_SIZE = 5
DEFAULT_MAX_OVERFLOW = 5
DEFAULT_POOL_TIMEOUT = 5.0
# How often, at most, the retention runs while turns are saved.
RETENTION_INTERVAL_S = 3600.0


class TrackerStoreUnavailable(RuntimeError):
    """The conversation store could not be read or written; the turn is not answered."""


class SharedSQLTrackerStore(SQLTrackerStore):
    """``type: SQL`` with small, self-healing pools that fails a turn rather than forget."""

    fail_loudly = True

    def __init__(
        self,
        domain: Optional[Domain] = None,
        pool_size: Optional[int] = None,
        max_overflow: Optional[int] = None,
        pool_timeout: Optional[float] = None,
        retention_days: Optional[float] = None,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> None:
        self.retention_days = _setting(retention_days, "TRACKER_RETENTION_DAYS", 0, float)
        self.clock = clock
        self._retention_due = 0.0
        if kwargs.get("dialect") == "sqlite":
            _private_file(kwargs.get("db") or "rasa.db")
        super().__init__(domain, **kwargs)
        url = self.engine.url
        engine_kwargs = rasa_stores.create_engine_kwargs(url)
        if rasa_stores.is_postgresql_url(url):
            engine_kwargs.update(
                pool_size=_setting(pool_size, "SQL_POOL_SIZE", DEFAULT_POOL_SIZE, int),
                max_overflow=_setting(max_overflow, "SQL_MAX_OVERFLOW", DEFAULT_MAX_OVERFLOW, int),
                pool_timeout=_setting(pool_timeout, "SQL_POOL_TIMEOUT", DEFAULT_POOL_TIMEOUT, float),
            )
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **engine_kwargs)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        pool = self.engine.pool
        logger.info(
            "Tracker store %s: pool %s + overflow %s connections.",
            url.get_backend_name(),
            getattr(pool, "size", lambda: "-")(),
            getattr(pool, "_max_overflow", "-"),
        )
        self.apply_retention()

    def delete_expired(self) -> int:
        """Deletes every conversation whose last event is older than retention_days (all of
        its events, every session); the number of conversations deleted."""
        if self.retention_days <= 0:
            return 0
        cutoff = self.clock() - self.retention_days * 86400
        event = self.SQLEvent
        with self.session_scope() as session:
            expired = [
                sender
                for (sender,) in session.query(event.sender_id)
                .group_by(event.sender_id)
                .having(sa.func.max(event.timestamp) < cutoff)
                .all()
            ]
            for start in range(0, len(expired), 500):  # SQLite limits the parameters of one query
                session.query(event).filter(event.sender_id.in_(expired[start : start + 500])).delete(
                    synchronize_session=False
                )
            session.commit()
        if expired:
            logger.info(
                "Tracker store retention: %d conversations older than %g days deleted.",
                len(expired),
                self.retention_days,
            )
        return len(expired)

    def apply_retention(self) -> None:
        """delete_expired, at most every RETENTION_INTERVAL_S."""
        now = self.clock()
        if self.retention_days <= 0 or now < self._retention_due:
            return
        self._retention_due = now + RETENTION_INTERVAL_S
        self.delete_expired()

    async def save(self, tracker: Any) -> None:
        await super().save(tracker)
        self.apply_retention()


def _private_file(path: str) -> None:
    if path in ("", ":memory:"):
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def _setting(value: Any, env: str, default: Any, kind: type) -> Any:
    if value is None or value == "":
        value = os.environ.get(env) or default
    return kind(value)


def _fails_loudly(store: Any) -> bool:
    """Whether `store`, or the store a (nested) FailSafeTrackerStore wraps, must not fall back."""
    while store is not None:
        if getattr(store, "fail_loudly", False):
            return True
        store = getattr(store, "_tracker_store", None)
    return False


def raise_or(original: Any) -> Any:
    """A FailSafeTrackerStore error hook that re-raises for stores with ``fail_loudly``.

    The agent wraps the configured store itself (``Agent._create_tracker_store``, again on every
    model reload), so the wrapper's error hooks are changed (runtime/rasa_patches.py), for such
    stores only.
    """

    def hook(self: FailSafeTrackerStore, error: Exception) -> None:
        if _fails_loudly(self._tracker_store):
            logger.error("Tracker store unavailable (%s); the turn is not answered.", type(error).__name__)
            if isinstance(error, TrackerStoreUnavailable):
                raise error
            raise TrackerStoreUnavailable(type(error).__name__) from error
        original(self, error)

    return hook


rasa_patches.install()  # Rasa imports this module by name from endpoints.yml
