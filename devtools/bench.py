"""Prints the performance figures the README records (make bench).

    python -m devtools.bench [--skip-train] [--turns 200] [--users 20 50] [--seconds 30]
                            [--workers 1 2] [--against REF]

For this checkout (and, with --against, another commit's checkout, trained and measured in the
same run so the two compare):
- NLU parse time per held-out message, and per graph node;
- where a whole diagnosis turn's time goes, in one Rasa process: each NLU component, each
  policy, the action server calls (how many per turn, of which actions), and the rest (tracker
  and lock store, events);
- REST over the real servers (`rasa run` + action server on loopback): sequential p50/p95, then
  turns/s and p95 with 20 and 50 concurrent users each playing whole diagnoses without pauses,
  CPU ms per turn of the Rasa and action server processes, and their memory (RSS);
- the same with two Sanic workers (`--workers 1 2`), which Rasa allows only with a shared lock
  store: a Redis started for the purpose, on loopback;
- one row with the NLU result cache on (all other figures have it off: every user here plays
  the same conversation, so nearly every parse would be a hit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from advisor.knowledge import busy_text
from devtools.local_bot import BIN, LOCAL_ACTION_SECRET, MODEL, ROOT, Bot, free_port, running_bot  # noqa: E402

# One whole diagnosis with small talk around it; every user plays it again and again, each
# time under a new sender id (the guard's per-sender rate limit then never answers instead).
DIAGNOSIS = ["你好", "借呗有额度为什么借不出来", "没有", "三成", "没有", "以上都没有", "就这几天", "谢谢"]


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def bench_training(root: Path = ROOT, out: Optional[Path] = None) -> float:
    """Seconds of `rasa train --force` in `root`; the model goes to `out` (else a temporary folder)."""
    with tempfile.TemporaryDirectory() as scratch:
        target = out or Path(scratch)
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "rasa"), "train", "--force", "--out", str(target), "--fixed-model-name", "jiebei"],
            cwd=root,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(root), "RASA_TELEMETRY_ENABLED": "false"},
        )
        return time.monotonic() - started


def heldout_texts(root: Path = ROOT) -> List[str]:
    data = yaml.safe_load((root / "tests" / "nlu_heldout.yml").read_text(encoding="utf-8"))
    return [
        line[2:].strip() for block in data["nlu"] for line in block["examples"].splitlines() if line.startswith("- ")
    ]


# --- in one process: where the time of a turn goes -------------------------------------------


def bench_parse(messages: List[str], model: Path = MODEL, per_node: Optional[Dict[str, float]] = None) -> List[float]:
    """Milliseconds of Agent.parse_message for each message, after one warm-up. With `per_node`,
    also fills it with the mean milliseconds per message spent in each node of the NLU graph."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    spent: Dict[str, float] = defaultdict(float)

    async def run() -> List[float]:
        await agent.parse_message(messages[0])  # warm-up
        spent.clear()
        timings = []
        for text in messages:
            started = time.perf_counter()
            await agent.parse_message(text)
            timings.append((time.perf_counter() - started) * 1000)
        return timings

    if per_node is None:
        return asyncio.run(run())
    with timed_graph_nodes(spent):
        timings = asyncio.run(run())
    per_node.update(
        {name: total * 1000 / len(messages) for name, total in sorted(spent.items(), key=lambda kv: -kv[1])}
    )
    return timings


class timed_graph_nodes:
    """Adds each graph node's wall time to `spent[node name]` (optionally prefixed by the
    current `phase[0]`) while the block runs."""

    def __init__(self, spent: Dict[str, float], phase: Optional[List[str]] = None) -> None:
        self.spent, self.phase = spent, phase

    def __enter__(self) -> None:
        from rasa.engine.graph import GraphNode

        self.original = original = GraphNode.__call__
        spent, phase = self.spent, self.phase

        def timed(node: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(node, *args, **kwargs)
            finally:
                key = f"{phase[0]}:{node._node_name}" if phase else node._node_name
                spent[key] += time.perf_counter() - started

        GraphNode.__call__ = timed  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        from rasa.engine.graph import GraphNode

        GraphNode.__call__ = self.original  # type: ignore[method-assign]


def turn_breakdown(model: Path, endpoints: Path, conversations: int) -> Dict[str, Any]:
    """Plays `conversations` diagnoses through one in-process Rasa agent (the tracker and lock
    stores and the action server of `endpoints`) and returns mean milliseconds per turn:
    total, per NLU node, per policy node, action server calls (and their count per action),
    and the rest. Runs in the checkout on sys.path, so another commit's code can be measured."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.processor import MessageProcessor
    from rasa.core.utils import AvailableEndpoints

    spent: Dict[str, float] = defaultdict(float)
    calls: Counter = Counter()
    phase = ["other"]
    original_parse = MessageProcessor.parse_message
    original_predict = MessageProcessor._predict_next_with_tracker
    original_remote = RemoteAction.run

    async def parse(self: Any, *args: Any, **kwargs: Any) -> Any:
        phase[0] = "nlu"
        try:
            return await original_parse(self, *args, **kwargs)
        finally:
            phase[0] = "other"

    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        phase[0] = "policies"
        try:
            return original_predict(self, *args, **kwargs)
        finally:
            phase[0] = "other"

    async def remote(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[self.name()] += 1
        started = time.perf_counter()
        try:
            return await original_remote(self, *args, **kwargs)
        finally:
            spent["action server calls"] += time.perf_counter() - started

    async def play() -> Dict[str, Any]:
        agent = await load_agent(str(model), endpoints=AvailableEndpoints.read_endpoints(str(endpoints)))
        for message in DIAGNOSIS:  # warm-up: first calls load lazy parts
            await agent.handle_message(UserMessage(message, CollectingOutputChannel(), "warm-up"))
        spent.clear()
        calls.clear()
        turns, total = 0, 0.0
        for _ in range(conversations):
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for message in DIAGNOSIS:
                started = time.perf_counter()
                await agent.handle_message(UserMessage(message, CollectingOutputChannel(), sender))
                total += time.perf_counter() - started
                turns += 1
        nodes = {key: value * 1000 / turns for key, value in spent.items()}
        nlu = {k.split(":", 1)[1]: v for k, v in nodes.items() if k.startswith("nlu:")}
        policies = {k.split(":", 1)[1]: v for k, v in nodes.items() if k.startswith("policies:")}
        action_ms = nodes.get("action server calls", 0.0)
        total_ms = total * 1000 / turns
        return {
            "turns": turns,
            "total_ms": total_ms,
            "nlu_ms": nlu,
            "policies_ms": policies,
            "action_ms": action_ms,
            "calls_per_turn": sum(calls.values()) / turns,
            "calls": {name: count / conversations for name, count in calls.most_common()},
            "rest_ms": total_ms - sum(nlu.values()) - sum(policies.values()) - action_ms,
        }

    MessageProcessor.parse_message = parse  # type: ignore[method-assign]
    MessageProcessor._predict_next_with_tracker = predict  # type: ignore[method-assign]
    RemoteAction.run = remote  # type: ignore[method-assign]
    try:
        with timed_graph_nodes(spent, phase):
            return asyncio.run(play())
    finally:
        MessageProcessor.parse_message = original_parse  # type: ignore[method-assign]
        MessageProcessor._predict_next_with_tracker = original_predict  # type: ignore[method-assign]
        RemoteAction.run = original_remote  # type: ignore[method-assign]


def _THIS_BENCH_IN(root: Path) -> str:
    """Python that loads this file as `bench` in a process whose code (components, actions,
    scripts) is `root`'s, which may be another commit's without these functions."""
    return (
        f"import json, sys, importlib.util; sys.path.insert(0, {str(root)!r}); "
        f"spec = importlib.util.spec_from_file_location('bench', {str(Path(__file__).resolve())!r}); "
        f"bench = importlib.util.module_from_spec(spec); spec.loader.exec_module(bench); "
    )


def breakdown_in(root: Path, model: Path, bot: Bot, conversations: int) -> Dict[str, Any]:
    """`turn_breakdown` in a fresh Python process running `root`'s code, against the action
    server that `bot` uses (its endpoints, with an in-memory copy of nothing: a temporary
    SQLite file of its own)."""
    assert bot.workdir is not None
    endpoints = bot.workdir / "breakdown-endpoints.yml"
    text = (bot.workdir / "endpoints.yml").read_text(encoding="utf-8")
    endpoints.write_text(text.replace("tracker.db", "breakdown.db"), encoding="utf-8")
    out = bot.workdir / "breakdown.json"
    code = (
        f"{_THIS_BENCH_IN(root)}"
        f"json.dump(bench.turn_breakdown({str(model)!r}, {str(endpoints)!r}, {conversations}), open({str(out)!r}, 'w'))"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "RASA_TELEMETRY_ENABLED": "false",
        "NLU_CACHE_SIZE": "0",
        "ACTION_SERVER_SECRET": LOCAL_ACTION_SECRET,
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    subprocess.run(
        [str(BIN / "python"), "-c", code],
        cwd=root,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return json.loads(out.read_text())


# --- over REST, against the real servers ------------------------------------------------------


def process_tree(pid: int) -> List[int]:
    """`pid` and every process below it (Sanic's workers are children of `rasa run`)."""
    parents: Dict[int, List[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.read_text().rsplit(")", 1)[1].split()[1])].append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of `pid`'s process tree, in MB (shared pages of forked workers counted
    once per process, so with workers this is an upper bound)."""
    total = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def sequential(bot: Bot, turns: int) -> List[float]:
    timings: List[float] = []
    sender = ""
    for turn in range(turns):
        step = turn % len(DIAGNOSIS)
        if step == 0:
            sender = f"bench-{uuid.uuid4().hex[:12]}"
        started = time.perf_counter()
        bot.send(sender, DIAGNOSIS[step])
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def concurrent(url: str, users: int, seconds: float) -> Dict[str, Any]:
    """`users` users playing whole diagnoses without pauses for `seconds`."""
    import aiohttp

    busy = busy_text()
    latencies: List[float] = []
    failures = Counter()
    deadline = time.monotonic() + seconds

    async def user(session: Any) -> None:
        while time.monotonic() < deadline:
            sender = f"bench-{uuid.uuid4().hex[:12]}"
            for message in DIAGNOSIS:
                started = time.perf_counter()
                try:
                    async with session.post(
                        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message}
                    ) as response:
                        body = await response.text()
                        if response.status != 200:
                            failures["http"] += 1
                        elif busy in body:
                            failures["busy"] += 1
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    failures["http"] += 1
                latencies.append(time.perf_counter() - started)
                if time.monotonic() >= deadline:
                    return

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=users), timeout=timeout) as session:
        started = time.monotonic()
        await asyncio.gather(*(user(session) for _ in range(users)))
        elapsed = time.monotonic() - started
    return {
        "turns": len(latencies),
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * percentile(latencies, 0.95),
        "failures": dict(failures),
    }


class redis_server:
    """A throw-away Redis on a free loopback port (the lock store that two Sanic workers need)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()

    def __enter__(self) -> int:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
                ).stdout.strip()
                == "PONG"
            ):
                return self.port
            time.sleep(0.1)  # polling the condition, with a deadline
        raise TimeoutError("redis-server did not answer")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def measure_servers(
    root: Path,
    model: Path,
    workers: int,
    turns: int,
    users: Sequence[int],
    seconds: float,
    conversations: int,
    nlu_cache: bool = False,
) -> Dict[str, Any]:
    """REST figures (and, with one worker and no cache, the in-process breakdown and the
    sequential latency) for `root`'s code. Every user plays the same conversation, so with the
    NLU cache (components/parse_cache.py) on nearly every parse would be a hit: the main
    figures are measured with it off (NLU_CACHE_SIZE=0), and one row with it on."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        extra_env: Dict[str, str] = {} if nlu_cache else {"NLU_CACHE_SIZE": "0"}
        stack: List[Any] = []
        if workers > 1:
            redis = redis_server(workdir)
            port = redis.__enter__()
            stack.append(redis)
            # Rasa reads the lock store from endpoints.yml; the local bot's copy gets one appended.
            extra_env.update({"SANIC_WORKERS": str(workers), "BENCH_REDIS_PORT": str(port)})
        try:
            with running_bot(
                workdir, model, extra_env=extra_env, root=root, endpoints_extra=_redis_lock_store(extra_env)
            ) as bot:
                assert bot.pid and bot.action_pid
                for _ in range(2):  # warm-up: two whole conversations
                    sequential(bot, len(DIAGNOSIS))
                result: Dict[str, Any] = {"workers": workers, "nlu_cache": nlu_cache}
                if workers == 1 and not nlu_cache:
                    result["breakdown"] = breakdown_in(root, model, bot, conversations)
                    timings = sequential(bot, turns)
                    result["sequential"] = {
                        "turns": turns,
                        "p50_ms": percentile(timings, 0.5),
                        "p95_ms": percentile(timings, 0.95),
                    }
                result["load"] = []
                for count in users:
                    before = (cpu_seconds(bot.pid), cpu_seconds(bot.action_pid))
                    figures = asyncio.run(concurrent(bot.url, count, seconds))
                    after = (cpu_seconds(bot.pid), cpu_seconds(bot.action_pid))
                    figures["rasa_cpu_ms_per_turn"] = 1000 * (after[0] - before[0]) / max(figures["turns"], 1)
                    figures["actions_cpu_ms_per_turn"] = 1000 * (after[1] - before[1]) / max(figures["turns"], 1)
                    figures["users"] = count
                    result["load"].append(figures)
                result["rss_mb"] = {"rasa": rss_mb(bot.pid), "actions": rss_mb(bot.action_pid)}
                return result
        finally:
            for item in stack:
                item.__exit__(None, None, None)


def _redis_lock_store(extra_env: Dict[str, str]) -> str:
    if "BENCH_REDIS_PORT" not in extra_env:
        return ""
    return f'\nlock_store:\n  type: redis\n  url: 127.0.0.1\n  port: {extra_env["BENCH_REDIS_PORT"]}\n'


class worktree:
    """Another commit checked out beside this one (git worktree), removed at the end."""

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="jiebei-bench-"))
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(self.path), self.ref],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self.path

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(self.path)],
            cwd=ROOT,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self.path, ignore_errors=True)


def describe(root: Path) -> str:
    head = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=root, capture_output=True, text=True).stdout
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    return head.strip()[:70] + (" (+ uncommitted changes)" if dirty else "")


def report(label: str, parse: List[float], per_node: Dict[str, float], runs: List[Dict[str, Any]]) -> None:
    print(f"\n## {label}", flush=True)
    print(
        f"NLU parse per message ({len(parse)} held-out messages): mean {statistics.mean(parse):.1f} ms, "
        f"p95 {percentile(parse, 0.95):.1f} ms",
        flush=True,
    )
    for run in runs:
        if "breakdown" in run:
            b = run["breakdown"]
            print(f"One diagnosis turn in one process ({b['turns']} turns): {b['total_ms']:.1f} ms", flush=True)
            print(f"  NLU {sum(b['nlu_ms'].values()):.1f} ms:", flush=True)
            for name, ms in sorted(b["nlu_ms"].items(), key=lambda kv: -kv[1]):
                if ms >= 0.05:
                    print(f"    {name:<56} {ms:6.2f}", flush=True)
            print(f"  policies {sum(b['policies_ms'].values()):.1f} ms:", flush=True)
            for name, ms in sorted(b["policies_ms"].items(), key=lambda kv: -kv[1]):
                if ms >= 0.05:
                    print(f"    {name:<56} {ms:6.2f}", flush=True)
            calls = ", ".join(f"{name} {count:.1f}" for name, count in b["calls"].items())
            print(
                f"  action server {b['action_ms']:.1f} ms, {b['calls_per_turn']:.2f} calls per turn "
                f"(per {len(DIAGNOSIS)}-turn conversation: {calls})",
                flush=True,
            )
            print(f"  the rest (tracker and lock store, events, responses) {b['rest_ms']:.1f} ms", flush=True)
        if "sequential" in run:
            s = run["sequential"]
            print(
                f"REST, one user ({s['turns']} turns): p50 {s['p50_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms", flush=True
            )
        cache = "NLU cache on" if run["nlu_cache"] else "NLU cache off"
        for load in run["load"]:
            print(
                f"REST, {load['users']} users, {run['workers']} Sanic worker(s), {cache}: "
                f"{load['turns_per_s']:.1f} turns/s, "
                f"p50 {load['p50_ms']:.0f} ms, p95 {load['p95_ms']:.0f} ms, CPU per turn: Rasa "
                f"{load['rasa_cpu_ms_per_turn']:.1f} ms, action server {load['actions_cpu_ms_per_turn']:.1f} ms"
                f"{', failures ' + str(load['failures']) if load['failures'] else ''}",
                flush=True,
            )
        print(
            f"RSS after the load ({run['workers']} worker(s), {cache}): Rasa {run['rss_mb']['rasa']:.0f} MB, "
            f"action server {run['rss_mb']['actions']:.0f} MB",
            flush=True,
        )


def measure(root: Path, model: Path, args: argparse.Namespace) -> None:
    per_node: Dict[str, float] = {}
    parse = parse_in(root, model, per_node)
    runs = [
        measure_servers(root, model, workers, args.turns, args.users, args.seconds, args.conversations)
        for workers in args.workers
    ]
    runs.append(
        measure_servers(root, model, 1, args.turns, args.users[:1], args.seconds, args.conversations, nlu_cache=True)
    )
    report(describe(root), parse, per_node, runs)


def parse_in(root: Path, model: Path, per_node: Dict[str, float]) -> List[float]:
    """bench_parse in a fresh process running `root`'s code."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "parse.json"
        code = (
            f"{_THIS_BENCH_IN(root)}from pathlib import Path; nodes = {{}}; "
            f"t = bench.bench_parse(bench.heldout_texts(Path({str(root)!r})), Path({str(model)!r}), nodes); "
            f"json.dump([t, nodes], open({str(out)!r}, 'w'))"
        )
        subprocess.run(
            [str(BIN / "python"), "-c", code],
            cwd=root,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(root), "RASA_TELEMETRY_ENABLED": "false"},
        )
        timings, nodes = json.loads(out.read_text())
    per_node.update(nodes)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-train", action="store_true", help="do not time `rasa train --force`")
    parser.add_argument("--turns", type=int, default=200, help="sequential REST turns (default 200)")
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seconds", type=float, default=30.0, help="per concurrent measurement (default 30)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Sanic workers (default 1 2)")
    parser.add_argument("--conversations", type=int, default=25, help="for the in-process breakdown (default 25)")
    parser.add_argument("--against", metavar="REF", help="also measure this commit (e.g. HEAD~1), in the same run")
    args = parser.parse_args()

    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores; conversation: {' / '.join(DIAGNOSIS)}", flush=True
    )
    if not args.skip_train:
        print(f"training time (rasa train --force): {bench_training():.1f} s", flush=True)
    print(f"model size: {MODEL.stat().st_size / 1e6:.1f} MB", flush=True)
    if args.against:
        with worktree(args.against) as other:
            print(f"training {args.against} in {other} ...", flush=True)
            bench_training(other, other / "models")
            measure(other, other / "models" / "jiebei.tar.gz", args)
    measure(ROOT, MODEL, args)


if __name__ == "__main__":
    main()
