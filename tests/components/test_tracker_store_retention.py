"""The SQLite store's retention (issue 32, point 7): conversations idle for longer than
retention_days are deleted, as deploy/retention.sql does for PostgreSQL; the others are kept."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from stores.sql import RETENTION_INTERVAL_S, SharedSQLTrackerStore

DAY = 86400.0


def tracker(sender: str, when: float) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [UserUttered("借呗额度降了", timestamp=when)])


def test_old_conversations_are_deleted_recent_ones_kept(tmp_path: Path) -> None:
    now = time.time()
    clock = [now - 200 * DAY]  # when the store opens, nothing is old yet
    store = SharedSQLTrackerStore(
        dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=90, clock=lambda: clock[0]
    )
    for index in range(3):
        asyncio.run(store.save(tracker(f"old-{index}", now - 120 * DAY)))
    asyncio.run(store.save(tracker("recent", now - 10 * DAY)))
    clock[0] = now
    assert store.delete_expired() == 3
    assert set(asyncio.run(store.keys())) == {"recent"}
    assert asyncio.run(store.retrieve("recent")) is not None


def test_the_retention_runs_as_turns_are_saved_at_most_hourly(tmp_path: Path) -> None:
    now = time.time()
    clock = [now]
    store = SharedSQLTrackerStore(
        dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=90, clock=lambda: clock[0]
    )
    asyncio.run(store.save(tracker("old", now - 100 * DAY)))  # ran at opening: not due again yet
    assert set(asyncio.run(store.keys())) == {"old"}
    clock[0] = now + RETENTION_INTERVAL_S + 1
    asyncio.run(store.save(tracker("new", clock[0])))
    assert set(asyncio.run(store.keys())) == {"new"}


def test_no_retention_deletes_nothing(tmp_path: Path) -> None:
    store = SharedSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "tracker.db"), retention_days=0)
    asyncio.run(store.save(tracker("ancient", time.time() - 3650 * DAY)))
    assert store.delete_expired() == 0 and set(asyncio.run(store.keys())) == {"ancient"}
