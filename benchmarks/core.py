"""Core figures (printed, never asserted): corpus accuracy, per-message latency, throughput, CLI cold start,
peak memory, and how well confidence is calibrated.

    python benchmarks/core.py [--rounds 20] [--cold 10]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load  # noqa: E402
from bot.triage import Triage  # noqa: E402
from tests.test_corpus import load_corpus, load_heldout  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def calibration(triage: Triage, rows: list[dict[str, str]]) -> tuple[float, list[str]]:
    """Expected calibration error over 5 confidence bins: |accuracy - mean confidence|, weighted.
    Only answered messages count: an `unknown` reply asks a question instead of claiming a symptom."""
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(5)]
    abstained = 0
    for row in rows:
        d = triage.handle(row["text"]).diagnosis
        if d.symptom.id == "unknown":
            abstained += 1
            continue
        bins[min(4, int(d.confidence * 5))].append((d.confidence, d.symptom.id == row["symptom"]))
    answered = len(rows) - abstained
    ece, lines = 0.0, []
    for i, items in enumerate(bins):
        if not items:
            continue
        conf = statistics.fmean(c for c, _ in items)
        acc = statistics.fmean(1.0 if ok else 0.0 for _, ok in items)
        ece += len(items) / answered * abs(acc - conf)
        lines.append(
            f"  confidence {i / 5:.1f}-{(i + 1) / 5:.1f}: n={len(items):3d} mean={conf:.2f} accuracy={acc:.2f}"
        )
    lines.append(f"  answered `unknown` (asked a question): {abstained}")
    return ece, lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20, help="passes over the corpus for latency")
    parser.add_argument("--cold", type=int, default=10, help="CLI cold starts to time")
    args = parser.parse_args()

    started = time.perf_counter()
    triage = Triage(load(ROOT / "knowledge"))
    load_ms = (time.perf_counter() - started) * 1000
    rows = load_corpus()
    right = sum(triage.handle(r["text"]).diagnosis.symptom.id == r["symptom"] for r in rows)
    print(f"corpus: {len(rows)} messages, top-1 accuracy {right / len(rows):.1%} ({right}/{len(rows)})")
    heldout = load_heldout()
    right_h = sum(triage.handle(r["text"]).diagnosis.symptom.id == r["symptom"] for r in heldout)
    print(f"held-out set (never used for tuning): {len(heldout)} messages, top-1 {right_h / len(heldout):.1%} "
          f"({right_h}/{len(heldout)})")  # fmt: skip
    ece, lines = calibration(triage, heldout)
    print(f"calibration on the held-out set: expected calibration error {ece:.3f}")
    print("\n".join(lines))
    ece, lines = calibration(triage, rows)
    print(f"calibration on the tuning corpus: expected calibration error {ece:.3f}")
    print("\n".join(lines))

    latencies: list[float] = []
    total_started = time.perf_counter()
    for _ in range(args.rounds):
        for row in rows:
            t0 = time.perf_counter()
            triage.handle(row["text"])
            latencies.append((time.perf_counter() - t0) * 1000)
    total = time.perf_counter() - total_started
    print(f"diagnose latency (in-process, {len(latencies)} calls): median {statistics.median(latencies):.3f} ms, "
          f"p99 {percentile(latencies, 0.99):.3f} ms, max {max(latencies):.3f} ms  [target p99 < 2 ms]")  # fmt: skip
    print(f"throughput: {len(latencies) / total:,.0f} messages/s (one thread)")
    big = "受信できません " * 150_000
    t0 = time.perf_counter()
    triage.handle(big)
    print(f"one 1 MB message: {(time.perf_counter() - t0) * 1000:.1f} ms; knowledge load: {load_ms:.1f} ms")

    cold: list[float] = []
    for _ in range(args.cold):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "diagnose", "0x800CCC0E"], cwd=ROOT, capture_output=True, check=True
        )
        cold.append((time.perf_counter() - t0) * 1000)
    print(f"CLI cold start `python -m bot diagnose` ({args.cold} runs): median {statistics.median(cold):.0f} ms, "
          f"max {max(cold):.0f} ms  [target < 500 ms]")  # fmt: skip
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak memory (this process, after all of the above): {peak_kib / 1024:.1f} MiB")
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"peak memory of one CLI run: {child / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
