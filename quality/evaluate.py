"""`make eval`: how well the bot understands, in one report (reports/eval/, git-ignored).

Steps, each announced as it starts:
1. the model: models/jiebei.tar.gz, trained with `make train` only when it is missing (the
   Makefile's eval target already retrains it when data, config or components changed);
2. `rasa test nlu` on each test set: held-out (tests/nlu_heldout.yml), real phrasing
   (tests/nlu_real_phrasing.yml) and never-seen real phrasing (tests/nlu_unseen.yml);
3. `rasa test core --stories tests/test_stories.yml`;
4. the NLU parse time per message (held-out set, in this process);
5. the char-n-gram baselines (quality/baseline.py: the plain one of the target, and the tuned
   one for comparison) on every set;
6. with `--blocked` (what `make eval` runs; not `make test-nlu`, it takes ~15 minutes): the blocked
   cross-validation (quality/blocked_cv.py), which predicts new users, beside the plain baseline:
   blocked.md, blocked.json (every prediction), label_suspects.md;
7. the report: summary.md (read it first), per_intent.md and per_intent.csv (precision, recall,
   F1 and support per intent, bot and plain baseline side by side), confusion_<set>.png,
   confused_pairs.md (the most confused intent pairs with example messages), core.md, and
   metrics.json; Rasa's own outputs stay under rasa/ and core/.

    python -m quality.evaluate [--model models/jiebei.tar.gz] [--out reports/eval] [--blocked]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from quality.check import MAX_PARSE_MS, TARGETS, describe, verdicts  # noqa: E402
from runtime.paths import ROOT

TEST_SETS = {
    "heldout": ROOT / "tests" / "nlu_heldout.yml",
    "real_phrasing": ROOT / "tests" / "nlu_real_phrasing.yml",
    "unseen": ROOT / "tests" / "nlu_unseen.yml",
}
TITLES = {
    "heldout": "held-out (in-house)",
    "real_phrasing": "real phrasing (real users)",
    "unseen": "never-seen real phrasing (real users, other lines)",
}
STORIES = ROOT / "tests" / "test_stories.yml"
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


class Progress:
    """Announces each step as it starts, numbered: ``[3/8] text``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.number = 0

    def step(self, text: str) -> float:
        self.number += 1
        print(f"[{self.number}/{self.total}] {text}", flush=True)
        return time.monotonic()


def done(started: float, extra: str = "") -> None:
    print(f"      done in {time.monotonic() - started:.0f} s{extra}", flush=True)


def rasa_bin() -> str:
    candidate = Path(sys.executable).parent / "rasa"
    return str(candidate) if candidate.exists() else "rasa"


def run_logged(command: list[str], log: Path) -> int:
    """Runs a command with its output in `log`, printing a dot every 10 s so progress shows."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }
    with log.open("w", encoding="utf-8") as handle:
        process = subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, env=env)
        while True:
            try:
                return process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print("      …", flush=True)


# --- reading results ---------------------------------------------------------------------------


def rasa_predictions(result_dir: Path) -> list[dict[str, Any]]:
    """Every message of a `rasa test nlu --successes` run: text, gold, predicted, confidence."""
    rows = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = result_dir / name
        if not path.exists():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            prediction = item.get("intent_prediction") or {}
            rows.append(
                {
                    "text": item["text"],
                    "intent": item["intent"],
                    "predicted": prediction.get("name") or "None",
                    "confidence": float(prediction.get("confidence") or 0.0),
                }
            )
    return rows


def per_intent(report: dict[str, Any]) -> dict[str, dict[str, float]]:
    skip = {"accuracy", "macro avg", "weighted avg", "micro avg"}
    return {k: v for k, v in report.items() if k not in skip and isinstance(v, dict)}


# --- pictures ----------------------------------------------------------------------------------


def cjk_font() -> str | None:
    """Registers a CJK font with matplotlib; returns its family name (None: none installed)."""
    from matplotlib import font_manager

    for path in CJK_FONTS:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def confusion_png(predictions: list[dict[str, Any]], title: str, path: Path, font: str | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if font:
        plt.rcParams["font.family"] = [font, "DejaVu Sans"]
    labels = sorted({p["intent"] for p in predictions} | {p["predicted"] for p in predictions})
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for p in predictions:
        matrix[index[p["intent"]], index[p["predicted"]]] += 1
    size = max(6.0, 0.42 * len(labels) + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    shown = np.where(matrix > 0, matrix, np.nan)
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                colour = "white" if matrix[i, j] > matrix.max() * 0.6 else ("#b00020" if i != j else "black")
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(len(labels)))
    ax.set_yticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("predicted intent 预测意图")
    ax.set_ylabel("labelled intent 标注意图")
    correct = int(np.trace(matrix))
    ax.set_title(f"{title}: {correct}/{matrix.sum()} correct 意图混淆矩阵 (off-diagonal red = errors)", fontsize=10)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --- report ------------------------------------------------------------------------------------


def confused_pairs(predictions: list[dict[str, Any]], limit: int = 10) -> list[tuple[tuple[str, str], list[dict]]]:
    errors: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for p in predictions:
        if p["intent"] != p["predicted"]:
            errors[(p["intent"], p["predicted"])].append(p)
    ranked = sorted(errors.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return ranked[:limit]


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def write_per_intent(out: Path, results: dict[str, dict[str, Any]]) -> None:
    lines = ["# Per intent: the bot (Rasa) and the baseline side by side", ""]
    rows_csv = []
    for name, result in results.items():
        rasa = per_intent(result["rasa_report"])
        base = per_intent(result["baseline"]["report"])
        lines += [
            f"## {TITLES[name]} — `{TEST_SETS[name].relative_to(ROOT)}`",
            "",
            "| intent | support | precision | recall | F1 | baseline precision | baseline recall | baseline F1 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for intent in sorted(set(rasa) | set(base), key=lambda i: (-(rasa.get(i) or {}).get("support", 0), i)):
            r, b = rasa.get(intent) or {}, base.get(intent) or {}
            support = int(r.get("support") or b.get("support") or 0)
            if not support and not r and not b:
                continue
            lines.append(
                f"| {intent} | {support} | {fmt(r.get('precision'))} | {fmt(r.get('recall'))} | "
                f"{fmt(r.get('f1-score'))} | {fmt(b.get('precision'))} | {fmt(b.get('recall'))} | "
                f"{fmt(b.get('f1-score'))} |"
            )
            rows_csv.append(
                [
                    name,
                    intent,
                    support,
                    r.get("precision"),
                    r.get("recall"),
                    r.get("f1-score"),
                    b.get("precision"),
                    b.get("recall"),
                    b.get("f1-score"),
                ]
            )
        lines.append("")
    (out / "per_intent.md").write_text("\n".join(lines), encoding="utf-8")
    with (out / "per_intent.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "test_set",
                "intent",
                "support",
                "precision",
                "recall",
                "f1",
                "baseline_precision",
                "baseline_recall",
                "baseline_f1",
            ]
        )
        writer.writerows(rows_csv)


def write_confused_pairs(out: Path, results: dict[str, dict[str, Any]]) -> None:
    lines = ["# Most confused intent pairs (the bot), with example messages", ""]
    for name, result in results.items():
        lines += [f"## {TITLES[name]}", ""]
        pairs = confused_pairs(result["rasa_predictions"])
        if not pairs:
            lines += ["No errors.", ""]
            continue
        baseline_errors = Counter(
            (p["intent"], p["predicted"]) for p in result["baseline"]["predictions"] if p["intent"] != p["predicted"]
        )
        for (gold, predicted), items in pairs:
            lines.append(
                f"### {gold} → read as {predicted}: {len(items)} (baseline: {baseline_errors[(gold, predicted)]})"
            )
            for item in items[:4]:
                lines.append(f"- 「{item['text']}」 (confidence {item['confidence']:.2f})")
            lines.append("")
    (out / "confused_pairs.md").write_text("\n".join(lines), encoding="utf-8")


def core_summary(core_dir: Path) -> dict[str, Any]:
    report_path = core_dir / "story_report.json"
    if not report_path.exists():
        return {"available": False}
    report = json.loads(report_path.read_text(encoding="utf-8"))
    conversations = report.get("conversation_accuracy") or {}
    failed_path = core_dir / "failed_test_stories.yml"
    failed_text = failed_path.read_text(encoding="utf-8") if failed_path.exists() else ""
    failed = [line.split(":", 1)[1].strip() for line in failed_text.splitlines() if line.strip().startswith("- story:")]
    return {
        "available": True,
        "stories_correct": conversations.get("correct"),
        "stories_total": conversations.get("total"),
        "conversation_accuracy": conversations.get("accuracy"),
        "action_accuracy": report.get("accuracy"),
        "failed_stories": failed,
    }


def write_core(out: Path, core: dict[str, Any]) -> None:
    lines = ["# Dialogue: `rasa test core --stories tests/test_stories.yml`", ""]
    if not core["available"]:
        lines.append("No story report (rasa test core failed; see core.log).")
    else:
        lines += [
            f"- stories predicted entirely right: **{core['stories_correct']}/{core['stories_total']}** "
            f"(conversation accuracy {core['conversation_accuracy']:.3f})",
            f"- actions predicted right: {core['action_accuracy']:.3f}",
            "- failed stories: " + (", ".join(core["failed_stories"]) if core["failed_stories"] else "none"),
            "",
            "Rasa's own files: core/story_report.json, core/failed_test_stories.yml, core/story_confusion_matrix.png.",
        ]
    (out / "core.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure_parse(model: Path, texts: list[str]) -> dict[str, float]:
    """Mean and p95 milliseconds of `Agent.parse_message` per message (devtools/bench.py)."""
    from devtools.bench import bench_parse, percentile

    timings = bench_parse(texts, model)
    return {"messages": len(timings), "mean_ms": sum(timings) / len(timings), "p95_ms": percentile(timings, 0.95)}


def write_summary(
    out: Path,
    results: dict[str, dict[str, Any]],
    core: dict[str, Any],
    model: Path,
    parse_figures: dict[str, float],
    blocked: dict[str, Any] | None = None,
) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    model_time = datetime.fromtimestamp(model.stat().st_mtime, timezone.utc) if model.exists() else None
    metrics: dict[str, Any] = {
        "generated": now.isoformat(timespec="seconds"),
        "model": str(model),
        "sets": {},
        "core": core,
    }
    lines = [
        f"# Evaluation of 借呗额度助手 — {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"Model `{model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}`"
        + (f", trained {model_time:%Y-%m-%d %H:%M} UTC." if model_time else "."),
        "",
    ]
    if blocked is not None:
        # First: of all the figures, this one predicts how the bot does with people it has not met.
        from quality.blocked_cv import markdown as blocked_markdown
        from quality.blocked_cv import verdicts as blocked_verdicts

        lines += [blocked_markdown(blocked), "## Test sets (regression checks)", ""]
        metrics["blocked_cv"] = {k: v for k, v in blocked.items() if k != "rows"}
        metrics["blocked_cv"]["met"] = all(ok for _, ok in blocked_verdicts(blocked))
    lines += [
        "| test set | messages | bot accuracy | bot errors | baseline accuracy | baseline errors "
        "| tuned baseline errors | floor | met |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    all_met = []
    for name, result in results.items():
        total = len(result["rasa_predictions"])
        errors = sum(p["intent"] != p["predicted"] for p in result["rasa_predictions"])
        accuracy = float(result["rasa_report"]["accuracy"])
        base, tuned = result["baseline"], result["tuned_baseline"]
        figures = {
            "accuracy": accuracy,
            "errors": errors,
            "baseline_errors": base["errors"],
            "tuned_baseline_errors": tuned["errors"],
        }
        checks = verdicts(name, figures) if name in TARGETS else []
        met = all(ok for _, ok in checks)
        target = describe(name) if name in TARGETS else "—"
        verdict = "; ".join("yes" if ok else "**NO**" for _, ok in checks) or "—"
        all_met.append(met)
        lines.append(
            f"| {TITLES[name]} | {total} | **{accuracy:.3f}** | {errors} | {base['accuracy']:.3f} | {base['errors']} | "
            f"{tuned['errors']} | {target} | {verdict} |"
        )
        metrics["sets"][name] = {
            "messages": total,
            "accuracy": accuracy,
            "errors": errors,
            "baseline_accuracy": base["accuracy"],
            "baseline_errors": base["errors"],
            "tuned_baseline_accuracy": tuned["accuracy"],
            "tuned_baseline_errors": tuned["errors"],
            "met": met,
        }
    parse = metrics["parse"] = parse_figures
    parse_met = parse["mean_ms"] <= MAX_PARSE_MS
    all_met.append(parse_met)
    lines += [
        "",
        f"NLU parse time per message ({parse['messages']} held-out messages, one process, after a warm-up): mean "
        f"**{parse['mean_ms']:.1f} ms**, p95 {parse['p95_ms']:.1f} ms (target ≤ {MAX_PARSE_MS:g} ms: "
        f"{'yes' if parse_met else '**NO**'}).",
        "",
        "Baseline (the target's): char 1–3-gram TF-IDF + logistic regression, scikit-learn defaults, on the same "
        "training data as typed. Tuned baseline: the same on normalised text with C=10, for comparison "
        "(quality/baseline.py).",
        "",
    ]
    if core["available"]:
        lines.append(
            f"Dialogue (`rasa test core`): **{core['stories_correct']}/{core['stories_total']}** test stories right, "
            f"action accuracy {core['action_accuracy']:.3f}"
            + (f"; failed: {', '.join(core['failed_stories'])}." if core["failed_stories"] else ".")
        )
    else:
        lines.append("Dialogue (`rasa test core`): no report — see core.log.")
    lines += ["", "## What to look at", ""]
    for name, result in results.items():
        pairs = confused_pairs(result["rasa_predictions"], limit=3)
        if pairs:
            worst = "; ".join(
                f"{gold} → {predicted} ×{len(items)} (「{items[0]['text']}」)" for (gold, predicted), items in pairs
            )
            lines.append(f"- {TITLES[name]}: most confused {worst}.")
        weakest = sorted(
            ((i, v) for i, v in per_intent(result["rasa_report"]).items() if v.get("support")),
            key=lambda kv: kv[1].get("f1-score", 0),
        )[:3]
        if weakest:
            lines.append(
                f"- {TITLES[name]}: weakest intents by F1: "
                + ", ".join(f"{i} {v.get('f1-score', 0):.2f} (n={int(v.get('support', 0))})" for i, v in weakest)
                + "."
            )
    lines += [
        "",
        "## Files",
        "",
        "- `per_intent.md` / `per_intent.csv` — precision, recall, F1, support per intent, bot and baseline",
        "- `confusion_<set>.png` — one per test set; rows: labelled intent, columns: predicted",
        "- `confused_pairs.md` — the most confused pairs with example messages (what to fix in data/)",
        "- `core.md` — dialogue story results; `rasa/`, `core/` — Rasa's own reports; `metrics.json` — the figures",
        "",
        # The blocked evaluation's own targets are in its section; these are the test sets' floors.
        "Every regression floor and the parse time met."
        if all(all_met)
        else "**Some regression floors or the parse time are not met** (see the table).",
        "",
    ]
    (out / "summary.md").write_text("\n".join(lines), encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "jiebei.tar.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "eval")
    parser.add_argument("--blocked", action="store_true", help="also the blocked cross-validation (~15 min)")
    args = parser.parse_args(argv)
    progress = Progress(len(TEST_SETS) + 5 + int(args.blocked))
    out: Path = args.out.resolve()
    model: Path = args.model.resolve()
    out.mkdir(parents=True, exist_ok=True)

    started = progress.step(f"model {model}")
    if not model.exists():
        print("      missing: make train", flush=True)
        subprocess.run(["make", "train"], cwd=ROOT, check=True)
    done(started)

    results: dict[str, dict[str, Any]] = {}
    for name, path in TEST_SETS.items():
        started = progress.step(f"rasa test nlu on {path.relative_to(ROOT)}")
        result_dir = out / "rasa" / name
        code = run_logged(
            [
                rasa_bin(),
                "test",
                "nlu",
                "--nlu",
                str(path),
                "--model",
                str(model),
                "--out",
                str(result_dir),
                "--successes",
            ],
            out / f"rasa_{name}.log",
        )
        if code != 0 or not (result_dir / "intent_report.json").exists():
            print(f"      rasa test nlu failed (exit {code}); see {out / f'rasa_{name}.log'}")
            return 1
        report = json.loads((result_dir / "intent_report.json").read_text(encoding="utf-8"))
        results[name] = {"rasa_report": report, "rasa_predictions": rasa_predictions(result_dir)}
        done(started, f": accuracy {report['accuracy']:.3f}")

    started = progress.step(f"rasa test core --stories {STORIES.relative_to(ROOT)}")
    code = run_logged(
        [rasa_bin(), "test", "core", "--stories", str(STORIES), "--model", str(model), "--out", str(out / "core")],
        out / "core.log",
    )
    core = core_summary(out / "core")
    done(
        started,
        f": {core.get('stories_correct')}/{core.get('stories_total')} stories"
        if core["available"]
        else f" (exit {code})",
    )

    started = progress.step("NLU parse time per message (held-out set)")
    # Before the baselines: their training leaves BLAS threads spinning that slow this process.
    from quality.overlap import read_nlu_examples

    parse_figures = measure_parse(model, [e.text for e in read_nlu_examples(TEST_SETS["heldout"])])
    done(started, f": mean {parse_figures['mean_ms']:.1f} ms")

    started = progress.step("baselines: char 1-3-gram TF-IDF + logistic regression, plain and tuned")
    from quality.baseline import run as run_baseline

    baseline, tuned = run_baseline(TEST_SETS, "plain"), run_baseline(TEST_SETS, "tuned")
    for name in results:
        results[name]["baseline"], results[name]["tuned_baseline"] = baseline[name], tuned[name]
    done(
        started, ": " + ", ".join(f"{n} {b['accuracy']:.3f} / {tuned[n]['accuracy']:.3f}" for n, b in baseline.items())
    )

    blocked = None
    if args.blocked:
        started = progress.step("blocked cross-validation: whole ATEC blocks held out, bot and plain baseline")
        from quality.blocked_cv import run as run_blocked
        from quality.blocked_cv import write_files as write_blocked

        blocked = run_blocked(model)
        write_blocked(out, blocked)
        done(
            started,
            f": bot {blocked['bot']['accuracy']:.3f} ({blocked['bot']['errors']} errors), "
            f"baseline {blocked['baseline']['accuracy']:.3f} ({blocked['baseline']['errors']})",
        )

    started = progress.step("writing the report")
    font = cjk_font()
    if font is None:
        print("      no CJK font found (apt-get install fonts-noto-cjk): Chinese in the pictures shows as boxes")
    for name, result in results.items():
        confusion_png(result["rasa_predictions"], TITLES[name], out / f"confusion_{name}.png", font)
    write_per_intent(out, results)
    write_confused_pairs(out, results)
    write_core(out, core)
    metrics = write_summary(out, results, core, model, parse_figures, blocked)
    done(started)

    for name, figures in metrics["sets"].items():
        print(
            f"{TITLES[name]}: bot {figures['accuracy']:.3f} ({figures['errors']} errors), "
            f"baseline {figures['baseline_accuracy']:.3f} ({figures['baseline_errors']} errors), "
            f"tuned baseline {figures['tuned_baseline_accuracy']:.3f} ({figures['tuned_baseline_errors']} errors)"
        )
    if blocked is not None:
        print(
            f"blocked cross-validation (new users): bot {blocked['bot']['accuracy']:.3f} "
            f"({blocked['bot']['errors']} errors), plain baseline {blocked['baseline']['accuracy']:.3f} "
            f"({blocked['baseline']['errors']} errors)"
        )
    print(f"Report: {out / 'summary.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
