"""Load figures for the README: turns per second and p50/p95 latency through nginx, with one
Rasa replica behind it and then two, at 20 and 50 concurrent users (make load).

    python -m devtools.load [--users 20 50] [--seconds 30] [--max-turns 3000]

Starts its own cluster (deploy/local_cluster/cluster.py: PostgreSQL, Redis, two action servers, two
replicas, nginx) on free loopback ports in a temporary folder and stops it at the end; for
"1 replica" nginx is reloaded with only the first replica upstream. Every virtual user plays
whole conversations (a diagnosis with small talk, 8 turns) with a new sender id each time, so
the per-sender rate limit (8 at once, then 1 a second) never answers in the bot's place.
First every replica is warmed up directly until its rate settles (a fresh replica is slower).
Each run is bounded by --seconds and --max-turns; only 127.0.0.1 is contacted. CPU use is
shown per part. Before each measurement the script waits (up to --quiet-wait seconds) until
other work on the machine uses less than a quarter of a core, and a measurement during which
other work took more is repeated (--attempts), since it would not compare; rows measured so
anyway are marked in the table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List

import aiohttp

from advisor.knowledge import busy_text
from channels.guard_texts import guard_text
from deploy.local_cluster.cluster import Cluster, install_packages, postgres_connection, running_cluster

OTHER_LOAD_LIMIT = 0.25  # cores used by processes outside the cluster and this client
CONVERSATION = ["你好", "借呗有额度为什么借不出来", "没有", "三成", "没有", "没有", "怎么查征信", "谢谢"]
BUSY = busy_text()
RATE_LIMITED = guard_text("rate_limited")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its children (nginx workers, PostgreSQL backends)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores, /proc/stat), so that other work
    on the machine during a measurement shows."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def other_work(processes: Dict[str, int], seconds: float = 5.0) -> float:
    """Cores used during the next `seconds` by processes outside the cluster and this client."""
    before = cpu_snapshot(processes)
    time.sleep(seconds)  # the sampling window itself, not a wait for something to happen
    return cores_used(before, cpu_snapshot(processes), seconds)["anything else"]


def wait_until_quiet(processes: Dict[str, int], limit: float, max_wait: float) -> float:
    """Samples other work on the machine until it stays under `limit` cores for one 5 s window,
    for at most `max_wait` seconds; returns the last sample."""
    deadline = time.monotonic() + max_wait
    told = 0.0
    while True:
        other = other_work(processes)
        if other <= limit or time.monotonic() >= deadline:
            return other
        if time.monotonic() - told > 60:
            print(f"    other work on the machine uses {other:.2f} cores; waiting for it to end", flush=True)
            told = time.monotonic()


def cpu_snapshot(processes: Dict[str, int]) -> Dict[str, float]:
    snapshot = {name: cpu_seconds(pid) for name, pid in processes.items()}
    times = os.times()
    snapshot["load client"] = times.user + times.system
    snapshot["machine"] = machine_busy_seconds()
    return snapshot


def cores_used(before: Dict[str, float], after: Dict[str, float], seconds: float) -> Dict[str, float]:
    """Average cores per part: replicas, action servers, PostgreSQL, Redis, nginx, client."""
    groups: Dict[str, float] = {}
    for name in after:
        group = name.split("-")[0] if name.startswith(("rasa", "actions")) and name[-1].isdigit() else name
        group = {"rasa": "rasa replicas", "actions": "action servers"}.get(group, group)
        groups[group] = groups.get(group, 0.0) + (after[name] - before.get(name, 0.0)) / seconds
    machine = groups.pop("machine")
    groups["anything else"] = max(0.0, machine - sum(groups.values()))
    return groups


def tracker_store_size(env: Dict[str, str]) -> Dict[str, float]:
    with postgres_connection(env) as connection:
        with connection.cursor() as cursor:
            cursor.execute(
                "select count(distinct sender_id), count(*), pg_total_relation_size('events') "
                "from events where sender_id like 'load-%'"
            )
            conversations, events, size = cursor.fetchone()
    return {
        "conversations": conversations,
        "events": events,
        "mb": size / 2**20,
        "kb_per_conversation": size / 1024 / max(conversations, 1),
    }


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def run_load(url: str, users: int, seconds: float, max_turns: int) -> Dict[str, float]:
    """`users` concurrent users for `seconds` (or `max_turns` turns in all, whichever is first)."""
    latencies: List[float] = []
    failures = {"busy": 0, "rate_limited": 0, "http": 0}
    deadline = time.monotonic() + seconds
    budget = [max_turns]
    timeout = aiohttp.ClientTimeout(total=60)

    async def user(session: aiohttp.ClientSession) -> None:
        while True:
            who = f"load-{uuid.uuid4().hex[:12]}"
            for message in CONVERSATION:
                if time.monotonic() >= deadline or budget[0] <= 0:
                    return
                budget[0] -= 1
                started = time.perf_counter()
                try:
                    async with session.post(
                        f"{url}/webhooks/rest/webhook", json={"sender": who, "message": message}
                    ) as response:
                        body = await response.text()
                        ok = response.status == 200
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok, body = False, ""
                latencies.append(time.perf_counter() - started)
                if not ok:
                    failures["http"] += 1
                elif BUSY in body:
                    failures["busy"] += 1
                elif RATE_LIMITED[:6] in body:
                    failures["rate_limited"] += 1

    # Each user from a loopback address of its own (127.0.0.10, .11, …): nginx limits per client
    # address, as it would real users.
    sessions = [
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, local_addr=(f"127.0.0.{10 + i}", 0)), timeout=timeout
        )
        for i in range(users)
    ]
    try:
        started = time.monotonic()
        await asyncio.gather(*(user(session) for session in sessions))
        elapsed = time.monotonic() - started
    finally:
        await asyncio.gather(*(session.close() for session in sessions))
    return {
        "turns": len(latencies),
        "seconds": elapsed,
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * percentile(latencies, 0.95),
        **failures,
    }


def warm_up(cluster: Cluster, users: int = 10, seconds: float = 15.0, rounds: int = 6) -> None:
    """Plays the conversation straight on every replica (not through nginx) in rounds of
    `seconds` until each replica's turns/s is within 10 % of its previous round. A fresh
    replica spends more CPU per turn for a while (seen: the first 30 s measured after a short
    warm-up gave 15 turns/s, the next ones 19-20 at the same 0.9 cores)."""
    previous: List[float] = []
    for round_ in range(1, rounds + 1):

        async def one_round() -> List[Dict[str, float]]:
            return await asyncio.gather(
                *(run_load(cluster.replica_url(index), users, seconds, 10_000) for index in range(cluster.replicas))
            )

        rates = [figures["turns_per_s"] for figures in asyncio.run(one_round())]
        print(
            f"    warm-up round {round_}: " + ", ".join(f"replica {i} {r:.1f} turns/s" for i, r in enumerate(rates)),
            flush=True,
        )
        if previous and all(abs(r - p) <= 0.1 * p for r, p in zip(rates, previous)):
            return
        previous = rates
    print("    warm-up: the replicas' rates did not settle; measuring anyway", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seconds", type=float, default=30.0, help="per measurement (default 30)")
    parser.add_argument("--max-turns", type=int, default=3000, help="per measurement (default 3000)")
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="measure again (up to this many times) while other work on the machine "
        f"uses more than {OTHER_LOAD_LIMIT} cores (default 3)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=600.0,
        help="before each measurement, wait at most this long for other work on the machine " "to end (default 600 s)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    install_packages()
    base = Path(tempfile.mkdtemp(prefix="jiebei-load-"))
    base.chmod(0o755)  # PostgreSQL and Redis run as their own users
    rows = []
    try:
        with running_cluster(base) as cluster:
            print(f"cluster up on {cluster.url}; warming up each replica ...", flush=True)
            warm_up(cluster)
            for replicas in (1, 2):
                cluster.route_rest_to(list(range(replicas)))
                for users in args.users:
                    for attempt in range(1, args.attempts + 1):
                        wait_until_quiet(cluster.running(), OTHER_LOAD_LIMIT, args.quiet_wait)
                        before = cpu_snapshot(cluster.running())
                        figures = asyncio.run(run_load(cluster.url, users, args.seconds, args.max_turns))
                        cores = cores_used(before, cpu_snapshot(cluster.running()), figures["seconds"])
                        row = {"replicas": replicas, "users": users, **figures, "cores": cores}
                        print(_row(row), flush=True)
                        print("    CPU cores used: " + ", ".join(f"{k} {v:.2f}" for k, v in cores.items()), flush=True)
                        if cores["anything else"] <= OTHER_LOAD_LIMIT or attempt == args.attempts:
                            break
                        # Someone else's work took CPU meanwhile: the figures would not compare.
                        print(f"    other work used {cores['anything else']:.2f} cores; measuring again", flush=True)
                    rows.append(row)
            storage = tracker_store_size(cluster.postgres_env())
    finally:
        shutil.rmtree(base, ignore_errors=True)

    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {memory_gb:.0f} GB, "
        f"{args.seconds:.0f} s per measurement, 8-turn conversations"
    )
    print(
        "| replicas | users | turns | turns/s | p50 ms | p95 ms | cores: Rasa / all of ours / other work "
        "| busy / limited / HTTP errors |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        cores = row["cores"]
        ours = sum(v for k, v in cores.items() if k != "anything else")
        mark = " *" if cores["anything else"] > OTHER_LOAD_LIMIT else ""
        print(
            f"| {row['replicas']}{mark} | {row['users']} | {row['turns']} | {row['turns_per_s']:.1f} | "
            f"{row['p50_ms']:.0f} | {row['p95_ms']:.0f} | {cores['rasa replicas']:.2f} / {ours:.2f} / "
            f"{cores['anything else']:.2f} | {row['busy']} / {row['rate_limited']} / {row['http']} |"
        )
    if any(row["cores"]["anything else"] > OTHER_LOAD_LIMIT for row in rows):
        print(
            f"* other work on the machine used more than {OTHER_LOAD_LIMIT} cores during this measurement, "
            f"in every one of {args.attempts} attempts: it does not compare"
        )
    print(
        f"\ntracker store afterwards: {storage['conversations']} conversations, {storage['events']} events, "
        f"{storage['mb']:.1f} MB (events table and indexes): {storage['kb_per_conversation']:.1f} KB per "
        f"{len(CONVERSATION)}-turn conversation"
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


def _row(row: Dict[str, float]) -> str:
    return (
        f"{row['replicas']} replica(s), {row['users']:>2} users: {row['turns']:>5} turns in {row['seconds']:.0f} s, "
        f"{row['turns_per_s']:.1f} turns/s, p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms, "
        f"busy {row['busy']}, rate-limited {row['rate_limited']}, HTTP errors {row['http']}"
    )


if __name__ == "__main__":
    sys.exit(main())
