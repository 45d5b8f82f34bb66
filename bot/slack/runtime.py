"""Process-wide helpers of the Slack app: bounded work pools, delivery dedupe, open cases.

Why our own pools: bolt runs every listener on one pool of 5 threads and waits there for ``ack()``.
Five slow probes would make the sixth ``/mailcheck`` miss Slack's 3-second limit. Listeners therefore
only acknowledge and hand the work to these pools: a small one for slow network work (probes, settings
look-ups, OCR) and a larger one for diagnoses and replies, each with a bounded queue so a flood gets a
polite "busy" instead of an ever-growing backlog.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.model import Lang, ProbeReport

log = logging.getLogger("mailcheck.slack")

Pool = Literal["fast", "slow"]


class Workers:
    """Two bounded thread pools. ``submit`` says False (and runs nothing) when a pool's queue is full."""

    def __init__(self, fast: int = 8, slow: int = 4, queue: int = 64) -> None:
        self._pools = {
            "fast": ThreadPoolExecutor(max_workers=fast, thread_name_prefix="mailcheck-fast"),
            "slow": ThreadPoolExecutor(max_workers=slow, thread_name_prefix="mailcheck-slow"),
        }
        self._room = {
            "fast": threading.BoundedSemaphore(fast + queue),
            "slow": threading.BoundedSemaphore(slow + queue // 4),
        }

    def submit(self, pool: Pool, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        room = self._room[pool]
        if not room.acquire(blocking=False):
            log.warning("%s pool full; turning work away", pool)
            return False
        try:
            future = self._pools[pool].submit(_guarded, fn, *args, **kwargs)
        except RuntimeError:  # shutting down
            room.release()
            return False
        future.add_done_callback(lambda _f: room.release())
        return True

    def shutdown(self, wait: bool = True) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=not wait)


def _guarded(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """A bug in one reply must not kill the worker or reach the person as a traceback."""
    try:
        fn(*args, **kwargs)
    except Exception:
        log.exception("background work failed in %s", getattr(fn, "__name__", "task"))


class DeliveryLog(Protocol):
    """Durable memory of answered deliveries (``bot.store.Store`` provides it)."""

    def first_delivery(self, key: str) -> bool: ...


class Dedupe:
    """Remembers delivery keys for ``ttl`` seconds (Slack retries within minutes), at most ``size`` keys.

    With a ``log`` (the SQLite store) a key is also checked there, so a retry that reaches the app after a
    restart, or another process on the same database, is still answered once."""

    def __init__(self, ttl: float = 3600.0, size: int = 20_000, log: DeliveryLog | None = None) -> None:
        self.ttl, self.size, self.log = ttl, size, log
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen; False for every repeat while remembered."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if key in self._seen:
                return False
            self._seen[key] = now
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
        return self._first_in_log(key)

    def _first_in_log(self, key: str) -> bool:
        if self.log is None:
            return True
        try:
            return self.log.first_delivery(key)
        except Exception:  # a locked or full database must not cost the person their answer
            log.exception("delivery log unavailable; de-duplicating in memory only")
            return True

    def _expire(self, now: float) -> None:
        while self._seen:
            key, at = next(iter(self._seen.items()))
            if now - at < self.ttl:
                return
            del self._seen[key]


@dataclass
class Case:
    """What a button press needs and the button cannot carry: the (redacted) text and any probe report."""

    text: str
    lang: Lang
    source: str
    probe: ProbeReport | None = None
    quote_key: str = "quote"
    notes: tuple[str, ...] = ()
    created: float = field(default_factory=time.monotonic)


class Cases:
    """Open cases of this process, newest kept. With several processes the store is the shared memory."""

    def __init__(self, size: int = 5000, first_id: int | None = None) -> None:
        self.size = size
        self._cases: OrderedDict[int, Case] = OrderedDict()
        self._lock = threading.Lock()
        # Local ids start from the clock so a restart does not reuse the ids of messages still on screen.
        self._ids = itertools.count(
            first_id if first_id is not None else int(time.time()) % 1_000_000_000 * 10
        )

    def new_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def put(self, case_id: int, case: Case) -> None:
        with self._lock:
            self._cases[case_id] = case
            self._cases.move_to_end(case_id)
            while len(self._cases) > self.size:
                self._cases.popitem(last=False)

    def get(self, case_id: int) -> Case | None:
        with self._lock:
            return self._cases.get(case_id)
