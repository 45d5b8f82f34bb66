"""Jobs on a clock: the weekly report post, the hourly watch-list probes, the daily retention purge.

"Exactly once per week, even across restarts or several processes": before a job runs for a period
(an ISO week, an hour, a day) it claims that period with a unique row in the store; only the claimant
runs it, and a finished claim is never run again. A process that starts late still runs an occurrence
it missed within the job's grace time (a restart at 09:05 still posts Monday's report); one that
starts days later does not post a stale report.

The clock is injected, so tests drive time by hand and never sleep. Cron expressions are the usual
five fields (minute hour day-of-month month day-of-week) with ``*``, numbers, ranges ``a-b``, steps
``*/n`` and lists ``a,b``; day names ``mon``…``sun`` are accepted; times are in ``MAILCHECK_TZ``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.model import ProbeReport
from bot.store import Store
from bot.summary import WeeklyReport, build_weekly, report_inputs, week_key

log = logging.getLogger("mailcheck.scheduler")

MINUTE = timedelta(minutes=1)
_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
_DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_MONTH_NAMES = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}  # fmt: skip
# No five-field expression needs more steps than this to find its next time (months, then days,
# hours and minutes are skipped whole); more means it never fires (e.g. 30 February).
_MAX_STEPS = 20_000


class CronError(ValueError):
    """An expression we cannot read; the message names the field and gives an example."""


# --- cron ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month was "*"
    any_weekday: bool  # day of week was "*"

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise CronError(
                f"cron {text!r}: needs 5 fields (minute hour day month weekday), e.g. '0 9 * * 1'"
            )
        sets = [_field(part, *spec, text) for part, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in sets[4])  # 7 is Sunday too
        cron = cls(text, sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")
        cron.next_after(datetime(2000, 1, 1, tzinfo=UTC), ZoneInfo("UTC"))  # raises when it never fires
        return cron

    def day_matches(self, moment: datetime) -> bool:
        """Cron's rule: with both day fields restricted, either may match; otherwise both must."""
        day_ok = moment.day in self.days
        weekday_ok = (moment.isoweekday() % 7) in self.weekdays
        if not self.any_day and not self.any_weekday:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first time strictly after ``moment`` (aware) that matches, as an aware time in ``tz``."""
        local = moment.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0) + MINUTE
        for _ in range(_MAX_STEPS):
            if local.month not in self.months:
                local = _next_month(local)
            elif not self.day_matches(local):
                local = (local + timedelta(days=1)).replace(hour=0, minute=0)
            elif local.hour not in self.hours:
                local = (local + timedelta(hours=1)).replace(minute=0)
            elif local.minute not in self.minutes:
                local += MINUTE
            else:
                found = _aware(local, tz)
                if found is not None and found > moment:
                    return found
                local += MINUTE  # a wall time the DST change skipped, or one already passed
        raise CronError(f"cron {self.text!r} never fires (no such date)")

    def occurrences(self, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
        """Every time in (start, end]."""
        found: list[datetime] = []
        moment = self.next_after(start, tz)
        while moment <= end:
            found.append(moment)
            moment = self.next_after(moment, tz)
        return found


def _field(part: str, name: str, low: int, high: int, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in part.lower().split(","):
        base, _, step_text = item.partition("/")
        step = _number(step_text, name, text) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = _number(a, name, text), _number(b, name, text)
        else:
            first = _number(base, name, text)
            last = high if step_text else first
        if not (low <= first <= high and low <= last <= high and first <= last and step > 0):
            raise CronError(f"cron {text!r}: {name} {item!r} is outside {low}–{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(word: str, name: str, text: str) -> int:
    names = _DAY_NAMES if name == "day of week" else _MONTH_NAMES if name == "month" else {}
    if word in names:
        return names[word]
    if not word.isdigit():
        raise CronError(f"cron {text!r}: {name} {word!r} is not a number")
    return int(word)


def _next_month(local: datetime) -> datetime:
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return local.replace(year=year, month=month, day=1, hour=0, minute=0)


def _aware(local: datetime, tz: ZoneInfo) -> datetime | None:
    """``local`` in ``tz``; None for a wall time that does not exist (skipped by a DST change)."""
    aware = local.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        return None
    return aware


# --- clock and jobs -----------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Job:
    """``action`` runs once per ``period(occurrence)``; a missed occurrence still runs within ``grace``."""

    name: str
    cron: Cron
    period: Callable[[datetime], str]
    action: Callable[[datetime], None]
    grace: timedelta


class Scheduler:
    """Runs due jobs; safe to run in several processes on one store (the claim decides who runs)."""

    def __init__(
        self,
        store: Store,
        jobs: Sequence[Job],
        *,
        tz: ZoneInfo,
        clock: Clock | None = None,
        owner: str | None = None,
        lease: timedelta = timedelta(hours=1),
        retry_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self.store, self.jobs, self.tz = store, tuple(jobs), tz
        self.clock: Clock = clock or SystemClock()
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease, self.retry_after = lease, retry_after
        self._finished: dict[tuple[str, str], None] = {}  # remembered so a tick costs no database write

    def due(self) -> list[tuple[Job, datetime]]:
        """For each job, its latest occurrence within the grace time, when there is one."""
        now = self.clock.now()
        found = []
        for job in self.jobs:
            times = job.cron.occurrences(now - job.grace, now, self.tz)
            if times:
                found.append((job, times[-1]))
        return found

    def run_pending(self) -> list[str]:
        """Run what is due and not yet done anywhere; returns ``name@period`` of each job run here."""
        ran = []
        for job, occurrence in self.due():
            period = job.period(occurrence)
            if self._attempt(job, occurrence, period):
                ran.append(f"{job.name}@{period}")
        return ran

    def _attempt(self, job: Job, occurrence: datetime, period: str) -> bool:
        key = (job.name, period)
        if key in self._finished:
            return False
        if self.store.job_status(job.name, period) == "done":
            self._remember(key)
            return False
        now = self.clock.now()
        if not self.store.claim(job.name, period, owner=self.owner, lease=self.lease,
                                retry_after=self.retry_after, at=now):  # fmt: skip
            return False
        try:
            job.action(occurrence)
        except Exception:  # a failed post is retried after retry_after; it must not stop the other jobs
            log.exception("job %s for %s failed; will retry", job.name, period)
            self.store.finish(job.name, period, owner=self.owner, ok=False, at=self.clock.now())
            return False
        self.store.finish(job.name, period, owner=self.owner, ok=True, at=self.clock.now())
        self._remember(key)
        return True

    def _remember(self, key: tuple[str, str]) -> None:
        self._finished[key] = None
        while len(self._finished) > 500:
            del self._finished[next(iter(self._finished))]

    def seconds_until_next(self, cap: float = 60.0) -> float:
        """How long to sleep: until the next occurrence, at most ``cap`` (so retries and clock jumps count)."""
        now = self.clock.now()
        upcoming = [job.cron.next_after(now, self.tz) for job in self.jobs]
        if not upcoming:
            return cap
        return max(0.5, min(cap, (min(upcoming) - now).total_seconds()))

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_pending()
            except Exception:  # e.g. the database briefly locked by a backup: try again next tick
                log.exception("scheduler tick failed")
            stop.wait(self.seconds_until_next())


# --- the jobs mailcheck runs --------------------------------------------------------------------------


def weekly_report_job(
    store: Store,
    *,
    channel: str,
    cron: Cron,
    tz: ZoneInfo,
    knowledge_dir: Path,
    publish: Callable[[WeeklyReport], None],
    grace: timedelta = timedelta(hours=12),
) -> Job:
    """Build the report for the week before the scheduled time and hand it to ``publish`` (the Slack post)."""

    def action(occurrence: datetime) -> None:
        knowledge, rules = report_inputs(knowledge_dir)
        publish(build_weekly(store, now=occurrence, tz=tz, knowledge=knowledge, rules=rules))

    # Same name and period as `mailcheck report weekly --post`, so the two never both post a week.
    return Job(report_job_name(channel), cron, lambda moment: week_key(moment, tz), action, grace)


def report_job_name(channel: str) -> str:
    return f"weekly_report:{channel}"


def watch_probe_job(
    store: Store,
    *,
    probe: Callable[[str], ProbeReport],
    cron: Cron | None = None,
    workers: int = 4,
    grace: timedelta = timedelta(minutes=50),
) -> Job:
    """Probe every server on the watch list (a few at a time) and record each result."""

    def action(_: datetime) -> None:
        hosts = [entry.host for entry in store.watch_list()]
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(hosts) or 1))) as pool:
            for report in pool.map(probe, hosts):
                store.record_probe(report, source="watch")

    return Job("watch_probes", cron or Cron.parse("0 * * * *"), _hour_key, action, grace)


def purge_job(store: Store, *, retention_days: int, cron: Cron | None = None) -> Job:
    def action(_: datetime) -> None:
        result = store.purge(retention_days)
        if result.cases or result.probes:
            log.info(
                "purged %d cases and %d probes older than %s", result.cases, result.probes, result.cutoff
            )

    return Job("purge", cron or Cron.parse("30 3 * * *"), _day_key, action, timedelta(hours=20))


def _hour_key(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def _day_key(moment: datetime) -> str:
    return moment.date().isoformat()
