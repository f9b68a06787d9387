"""The production settings of issue 6 fit together (endpoints.scale.yml, deploy/postgresql.conf,
deploy/local_cluster/cluster.py): connection pools under PostgreSQL's limit, the conversation lock outliving
the slowest turn, a shared lock store, and the store that fails a turn instead of forgetting."""

from __future__ import annotations

import re

import yaml

from components.action_calls import action_call_timeout
from deploy.local_cluster.cluster import LOCK_LIFETIME, Cluster
from runtime.paths import ROOT

ENDPOINTS = yaml.safe_load((ROOT / "endpoints.scale.yml").read_text(encoding="utf-8"))
POSTGRESQL_CONF = (ROOT / "deploy" / "postgresql.conf").read_text(encoding="utf-8")

SANIC_WORKERS = 1  # deploy/local_cluster/cluster.py starts each replica with Rasa's default of one worker
MAX_CUSTOM_ACTIONS_PER_TURN = 3  # form validation, the question, the advice


def conf_value(name: str, default: int) -> int:
    match = re.search(rf"^\s*{name}\s*=\s*(\d+)", POSTGRESQL_CONF, re.MULTILINE)
    return int(match.group(1)) if match else default


def test_connection_pools_of_all_replicas_stay_under_postgresql_s_limit():
    store = ENDPOINTS["tracker_store"]
    per_process = store["pool_size"] + store["max_overflow"]
    available = conf_value("max_connections", 100) - conf_value("superuser_reserved_connections", 3)
    assert Cluster.replicas * SANIC_WORKERS * per_process < available


def test_the_conversation_lock_outlives_the_slowest_turn():
    assert LOCK_LIFETIME > MAX_CUSTOM_ACTIONS_PER_TURN * action_call_timeout()


def test_replicas_share_a_lock_store_and_the_fail_safe_tracker_store():
    assert ENDPOINTS["lock_store"]["type"] == "redis"
    assert ENDPOINTS["tracker_store"]["type"] == "stores.sql.SharedSQLTrackerStore"
    assert ENDPOINTS["tracker_store"]["dialect"] == "postgresql"
