"""Concurrent writers on one real SQLite file: threads (Slack's handlers) and processes (several workers).
Nothing is lost, no id is handed out twice, and a job claim has exactly one winner."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Store
from tests.storedata import outcome, probe

WRITES = 150
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def write_many(store: Store, worker: int, ids: list[int]) -> None:
    """One writer: a diagnosis, its answer, and now and then a probe, like a busy Slack handler."""
    for n in range(WRITES):
        case = store.record_diagnosis(outcome(text=f"worker {worker} message {n}"), source=f"w{worker}")
        store.record_outcome(case, "solved" if n % 2 else "stuck")
        if n % 10 == 0:
            store.record_probe(probe(), source=f"w{worker}")
        ids.append(case)


def run_threads(count: int, target: object, args_of: object) -> None:
    threads = [threading.Thread(target=target, args=args_of(i)) for i in range(count)]  # type: ignore[arg-type,operator]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def assert_complete(db_path: Path, writers: int, ids: list[int]) -> None:
    with Store(db_path) as store:
        rows = list(store.export("cases", SINCE))
        assert len(rows) == writers * WRITES
        assert len(set(ids)) == len(ids) == writers * WRITES
        assert all(r["outcome"] in ("solved", "stuck") for r in rows)
        for worker in range(writers):
            texts = {r["text"] for r in rows if r["source"] == f"w{worker}"}
            assert texts == {f"worker {worker} message {n}" for n in range(WRITES)}
        assert len(list(store.export("probes", SINCE))) == writers * WRITES // 10


@pytest.mark.parametrize("shared", [True, False], ids=["one-store-many-threads", "store-per-thread"])
def test_threads_lose_no_rows(db_path: Path, shared: bool) -> None:
    """Eight threads writing at once, through one Store or one Store each, keep every row."""
    ids: list[int] = []
    common = Store(db_path)
    stores = [common if shared else Store(db_path) for _ in range(8)]
    run_threads(8, write_many, lambda i: (stores[i], i, ids))
    for store in {id(s): s for s in stores}.values():
        store.close()
    assert_complete(db_path, 8, ids)


def _process_writer(path: str, worker: int) -> list[int]:
    ids: list[int] = []
    with Store(path) as store:
        write_many(store, worker, ids)
    return ids


def test_processes_lose_no_rows(db_path: Path) -> None:
    """Four processes (spawned, each its own connection and Store) writing at once keep every row."""
    Store(db_path).close()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(_process_writer, [(str(db_path), w) for w in range(4)])
    assert_complete(db_path, 4, [i for ids in results for i in ids])


def _process_claim(path: str, owner: str) -> bool:
    with Store(path) as store:
        return store.claim("weekly_report:C1", "2025-W23", owner=owner, lease=timedelta(hours=1),
                           retry_after=timedelta(minutes=10))  # fmt: skip


def test_claim_has_one_winner_across_processes(db_path: Path) -> None:
    """Six processes claim the same week at once: exactly one gets it."""
    Store(db_path).close()
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        won = pool.starmap(_process_claim, [(str(db_path), f"p{i}") for i in range(6)])
    assert sorted(won) == [False] * 5 + [True]


def test_claim_has_one_winner_across_threads(db_path: Path) -> None:
    """Sixteen threads, each with its own Store, claim the same hour: exactly one gets it."""
    won: list[bool] = []

    def claim(i: int) -> None:
        with Store(db_path) as store:
            won.append(store.claim("watch_probes", "2025-06-02T00", owner=f"t{i}", lease=timedelta(hours=1),
                                   retry_after=timedelta(minutes=10)))  # fmt: skip

    Store(db_path).close()
    run_threads(16, claim, lambda i: (i,))
    assert sorted(won) == [False] * 15 + [True]
