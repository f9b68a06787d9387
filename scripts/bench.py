"""Prints the performance figures the README records: training time, model size, NLU parse
time per message (and per graph node), and REST turn latency (p50/p95) over 200 turns
against a running bot.

    python scripts/bench.py [--skip-train] [--turns 200]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scripts.local_bot import BIN, MODEL, ROOT, running_bot  # noqa: E402

CONVERSATION = ["你好", "怎么查征信", "借呗有额度为什么借不出来", "没有", "三成", "没有", "没有", "谢谢"]


def percentile(values: List[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def bench_training() -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(
            [str(BIN / "rasa"), "train", "--force", "--out", out, "--fixed-model-name", "bench"],
            cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.monotonic() - started


def heldout_texts() -> List[str]:
    data = yaml.safe_load((ROOT / "tests" / "nlu_heldout.yml").read_text(encoding="utf-8"))
    return [line[2:].strip() for block in data["nlu"] for line in block["examples"].splitlines() if line.startswith("- ")]


def bench_parse(messages: List[str], model: Path = MODEL, per_node: Optional[Dict[str, float]] = None) -> List[float]:
    """Milliseconds of Agent.parse_message for each message, after one warm-up. With `per_node`,
    also fills it with the mean milliseconds per message spent in each node of the NLU graph."""
    from rasa.core.agent import Agent
    from rasa.engine.graph import GraphNode

    agent = Agent.load(str(model))
    spent: Dict[str, float] = defaultdict(float)
    original = GraphNode.__call__

    def timed(node: GraphNode, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(node, *args, **kwargs)
        finally:
            spent[node._node_name] += time.perf_counter() - started

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
    GraphNode.__call__ = timed  # type: ignore[method-assign]
    try:
        timings = asyncio.run(run())
    finally:
        GraphNode.__call__ = original  # type: ignore[method-assign]
    per_node.update({name: total * 1000 / len(messages) for name, total in sorted(spent.items(), key=lambda kv: -kv[1])})
    return timings


def bench_rest(turns: int) -> List[float]:
    timings: List[float] = []
    with tempfile.TemporaryDirectory() as workdir, running_bot(Path(workdir)) as bot:
        bot.send("warm-up", "你好")
        sender = ""
        for turn in range(turns):
            step = turn % len(CONVERSATION)
            if step == 0:
                sender = f"bench-{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            bot.send(sender, CONVERSATION[step])
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-train", action="store_true")
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    if not args.skip_train:
        print(f"training time (rasa train --force): {bench_training():.1f} s", flush=True)
    print(f"model size: {MODEL.stat().st_size / 1e6:.1f} MB", flush=True)
    per_node: Dict[str, float] = {}
    parse = bench_parse(heldout_texts(), per_node=per_node)
    print(f"NLU parse per message ({len(parse)} held-out messages): mean {statistics.mean(parse):.1f} ms, "
          f"p95 {percentile(parse, 0.95):.1f} ms", flush=True)
    print("NLU time per message by graph node (mean ms, the same pass):", flush=True)
    for name, milliseconds in per_node.items():
        if milliseconds >= 0.05:
            print(f"  {name:<58} {milliseconds:6.2f}", flush=True)
    rest = bench_rest(args.turns)
    print(f"REST turn latency ({len(rest)} turns, action server on): p50 {percentile(rest, 0.5):.1f} ms, "
          f"p95 {percentile(rest, 0.95):.1f} ms, max {max(rest):.1f} ms", flush=True)


if __name__ == "__main__":
    main()
