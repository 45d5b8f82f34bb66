"""Store benchmark (printed, never asserted): insert rate, and the weekly report over 1,000,000 incidents.

    python3 benchmarks/store.py [--rows 1000000] [--inserts 5000] [--keep DIR]

Insert rate: real diagnoses (the corpus through the bot's own pipeline) recorded one by one, each its
own transaction as in the Slack app; then the same from 8 threads at once. The million rows are those
real rows copied with their times spread (SQL, not the API: the API rate is the figure above), with
five watched servers probed hourly. Two layouts: spread over the 400-day retention (a normal year),
and all in the two weeks the report compares (the worst case for its queries). Target: under 2 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.summary import advice_path, build_weekly, load_advice  # noqa: E402
from bot.triage import Outcome, Triage  # noqa: E402
from tests.storedata import probe  # noqa: E402
from tests.test_corpus import load_corpus  # noqa: E402

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)
HOSTS = [f"mail{i}.example.jp" for i in range(5)]


def outcomes(triage: Triage) -> list[Outcome]:
    return [triage.handle(row["text"]) for row in load_corpus()]


def insert_rate(path: Path, samples: list[Outcome], count: int) -> tuple[float, float]:
    """(rows per second one by one, median ms per insert)."""
    took: list[float] = []
    with Store(path) as store:
        start = time.perf_counter()
        for n in range(count):
            t = time.perf_counter()
            case = store.record_diagnosis(samples[n % len(samples)], source="slack", workspace="T1",
                                          channel="C1", user=f"U{n % 40}")  # fmt: skip
            if n % 3:
                store.record_outcome(case, "solved" if n % 3 == 1 else "stuck")
            took.append(time.perf_counter() - t)
        total = time.perf_counter() - start
    return count / total, statistics.median(took) * 1000


def threaded_rate(path: Path, samples: list[Outcome], per_thread: int, threads: int = 8) -> float:
    with Store(path) as store:

        def work(offset: int) -> None:
            for n in range(per_thread):
                store.record_diagnosis(samples[(n + offset) % len(samples)], source="slack", user=f"U{n}")

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return per_thread * threads / (time.perf_counter() - start)


def fill(path: Path, templates: Path, rows: int, span: timedelta) -> None:
    """``rows`` cases copied from the recorded ones, times spread evenly over ``span`` before NOW."""
    end = int(NOW.timestamp())
    seconds = int(span.total_seconds())
    with Store(path) as store:
        for host in HOSTS:
            store.watch_add(host)
            for hour in range(int(span.total_seconds() // 3600)):
                if hour > 24 * 30:
                    break  # a month of hourly probes is plenty for the report's queries
                at = NOW - timedelta(hours=hour)
                store.record_probe(probe(host, up=hour % 97 != 0, connect_ms=30 + hour % 20,
                                         cert_days=60 - hour // 24), source="watch", at=at)  # fmt: skip
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS t", (str(templates),))
    count = conn.execute("SELECT count(*) FROM t.cases").fetchone()[0]
    columns = "source, workspace, channel, user_hash, symptom, confidence, client, protocol, lang, text, " \
              "password_pasted, leaf, hosts"  # fmt: skip
    batch = 100_000
    for first in range(0, rows, batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            f"WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            f"INSERT INTO main.cases (ts, outcome, {columns}) "
            f"SELECT ? - (i * ? / ?), CASE i % 20 WHEN 0 THEN 'stuck' WHEN 1 THEN 'stuck' WHEN 2 THEN NULL "
            f"ELSE CASE WHEN i % 3 = 0 THEN NULL ELSE 'solved' END END, {columns} "
            f"FROM n JOIN t.cases ON t.cases.id = 1 + (i % ?)",
            (first, min(first + batch, rows) - 1, end, seconds, rows, count),
        )
        conn.execute("COMMIT")
    conn.execute("DETACH DATABASE t")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def time_report(path: Path, rounds: int) -> tuple[float, float, int]:
    """(first report after opening, median of the next ``rounds``, incidents in the week)."""
    knowledge = load(ROOT / "knowledge")
    rules = load_advice(advice_path(knowledge.root), knowledge)
    with Store(path) as store:
        start = time.perf_counter()
        report = build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge, rules=rules)
        cold = time.perf_counter() - start
        warm = []
        for _ in range(rounds):
            start = time.perf_counter()
            build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge, rules=rules)
            warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm), report.incidents.total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--inserts", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="mailcheck-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    samples = outcomes(Triage(load(ROOT / "knowledge")))
    templates = folder / "templates.db"
    rate, median_ms = insert_rate(templates, samples, args.inserts)
    print(f"insert: {args.inserts} diagnoses one by one (each its own transaction, 2/3 with an answer): "
          f"{rate:,.0f}/s, median {median_ms:.2f} ms per diagnosis")  # fmt: skip
    print(
        f"insert: 8 threads on one Store: {threaded_rate(folder / 'threads.db', samples, 500):,.0f} diagnoses/s"
    )
    for name, span in (
        ("spread over 400 days", timedelta(days=400)),
        ("all in the 14 days compared", timedelta(days=14)),
    ):
        path = folder / f"million-{span.days}.db"
        start = time.perf_counter()
        fill(path, templates, args.rows, span)
        built = time.perf_counter() - start
        cold, warm, week = time_report(path, args.rounds)
        size = sum(p.stat().st_size for p in folder.glob(path.name + "*")) / 1e6
        print(f"report over {args.rows:,} incidents {name} ({week:,} in the week; file {size:,.0f} MB, "
              f"built in {built:.0f} s): first {cold:.2f} s, then median {warm:.2f} s (target < 2 s)")  # fmt: skip
    if args.keep is None:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
