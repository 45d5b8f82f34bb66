"""The scheduler, driven by a hand-set clock (no sleeping): cron times, and "exactly once per week" across
restarts, across two schedulers on one file (as two processes would be), and across real processes."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import Cron, CronError, Job, Scheduler, purge_job, watch_probe_job, weekly_report_job
from bot.store import Store
from bot.summary import WeeklyReport
from tests.storedata import outcome, probe

TOKYO = ZoneInfo("Asia/Tokyo")
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
MONDAY_9 = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)
WEEKLY = Cron.parse("0 9 * * 1")


class ManualClock:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


# --- cron ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 9 * * 1", datetime(2025, 6, 2, 8, 59, tzinfo=TOKYO), datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)),
        ("0 9 * * 1", datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO), datetime(2025, 6, 9, 9, 0, tzinfo=TOKYO)),
        ("0 9 * * mon", datetime(2025, 6, 3, tzinfo=TOKYO), datetime(2025, 6, 9, 9, 0, tzinfo=TOKYO)),
        ("*/15 * * * *", datetime(2025, 6, 2, 0, 7, tzinfo=TOKYO), datetime(2025, 6, 2, 0, 15, tzinfo=TOKYO)),
        ("0 * * * *", datetime(2025, 6, 2, 23, 30, tzinfo=TOKYO), datetime(2025, 6, 3, 0, 0, tzinfo=TOKYO)),
        ("30 8-10/2 * * 1-5", datetime(2025, 6, 6, 10, 31, tzinfo=TOKYO), datetime(2025, 6, 9, 8, 30, tzinfo=TOKYO)),
        ("0 0 1,15 * *", datetime(2025, 6, 2, tzinfo=TOKYO), datetime(2025, 6, 15, tzinfo=TOKYO)),
        ("0 0 13 * 5", datetime(2025, 6, 1, tzinfo=TOKYO), datetime(2025, 6, 6, tzinfo=TOKYO)),
        ("0 0 29 2 *", datetime(2025, 3, 1, tzinfo=TOKYO), datetime(2028, 2, 29, tzinfo=TOKYO)),
        ("0 12 * dec 0", datetime(2025, 6, 1, tzinfo=TOKYO), datetime(2025, 12, 7, 12, 0, tzinfo=TOKYO)),
        ("0 9 * * 7", datetime(2025, 6, 2, tzinfo=TOKYO), datetime(2025, 6, 8, 9, 0, tzinfo=TOKYO)),
    ],
    ids=["monday-9", "strictly-after", "day-name", "step", "next-day", "range-step-weekdays",
         "list-of-days", "day-or-weekday", "leap-day", "month-name-sunday", "seven-is-sunday"],
)  # fmt: skip
def test_cron_next_time(expression: str, after: datetime, expected: datetime) -> None:
    """The next matching minute after a moment, in the schedule's time zone."""
    assert Cron.parse(expression).next_after(after, TOKYO) == expected


def test_cron_follows_the_time_zone() -> None:
    """09:00 in Tokyo is 00:00 UTC: the same cron gives different instants in different zones."""
    after = datetime(2025, 6, 1, tzinfo=UTC)
    assert WEEKLY.next_after(after, TOKYO) == datetime(2025, 6, 2, 0, 0, tzinfo=UTC)
    assert WEEKLY.next_after(after, ZoneInfo("UTC")) == datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def test_cron_skips_a_wall_time_that_dst_removes() -> None:
    """02:30 does not exist in New York on 2025-03-09; the job runs the day before and after."""
    york = ZoneInfo("America/New_York")
    found = Cron.parse("30 2 * * *").occurrences(
        datetime(2025, 3, 8, tzinfo=york), datetime(2025, 3, 11, tzinfo=york), york
    )
    assert [m.day for m in found] == [8, 10]


@pytest.mark.parametrize(
    ("expression", "message"),
    [("0 9 * *", "needs 5 fields"), ("60 9 * * 1", "outside 0–59"), ("0 9 * * funday", "not a number"),
     ("0 25 * * *", "outside 0–23"), ("0 0 30 2 *", "never fires"), ("*/0 * * * *", "outside"),
     ("5-1 * * * *", "outside")],
    ids=["four-fields", "minute-60", "bad-day-name", "hour-25", "february-30", "zero-step", "reversed-range"],
)  # fmt: skip
def test_bad_cron_is_one_clear_error(expression: str, message: str) -> None:
    """MAILCHECK_REPORT_CRON mistakes name the field and the allowed range."""
    with pytest.raises(CronError, match=message):
        Cron.parse(expression)


# --- exactly once ------------------------------------------------------------------------------------


def weekly_scheduler(
    db_path: Path, clock: ManualClock, posts: list[WeeklyReport], **kwargs: object
) -> Scheduler:
    """A scheduler with the real weekly-report job; ``publish`` keeps what would be posted."""
    store = Store(db_path, clock=clock.now)
    job = weekly_report_job(
        store, channel="C1", cron=WEEKLY, tz=TOKYO, knowledge_dir=KNOWLEDGE, publish=posts.append
    )
    return Scheduler(store, [job], tz=TOKYO, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_weekly_post_fires_once_and_again_next_week(db_path: Path) -> None:
    """At 09:00 Monday one post; later ticks that day nothing; next Monday one more."""
    clock, posts = ManualClock(MONDAY_9 - timedelta(minutes=1)), []
    scheduler = weekly_scheduler(db_path, clock, posts)
    assert scheduler.run_pending() == []
    for minute in (0, 1, 30, 600):
        clock.moment = MONDAY_9 + timedelta(minutes=minute)
        scheduler.run_pending()
    assert len(posts) == 1
    assert posts[0].period.end == MONDAY_9  # the report ends at the scheduled time
    clock.moment = MONDAY_9 + timedelta(days=7, seconds=5)
    assert scheduler.run_pending() == ["weekly_report:C1@2025-W24"]
    assert len(posts) == 2


def test_weekly_post_fires_once_across_a_restart(db_path: Path) -> None:
    """The process posts at 09:00 and restarts at 09:05: the new one finds the week done."""
    clock, posts = ManualClock(MONDAY_9 + timedelta(seconds=20)), []
    first = weekly_scheduler(db_path, clock, posts)
    assert first.run_pending() == ["weekly_report:C1@2025-W23"]
    first.store.close()
    clock.moment = MONDAY_9 + timedelta(minutes=5)
    restarted = weekly_scheduler(db_path, clock, posts)
    assert restarted.run_pending() == []
    assert len(posts) == 1


def test_weekly_post_fires_once_with_two_schedulers_on_one_file(db_path: Path) -> None:
    """Two Store+Scheduler pairs (as two processes) tick at the same moment: one post between them."""
    clock, posts = ManualClock(MONDAY_9), []
    schedulers = [weekly_scheduler(db_path, clock, posts) for _ in range(2)]
    barrier = threading.Barrier(2)

    def tick(scheduler: Scheduler) -> None:
        barrier.wait()
        scheduler.run_pending()

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(posts) == 1
    clock.moment = MONDAY_9 + timedelta(days=7)
    assert [len(s.run_pending()) for s in schedulers] == [1, 0]
    assert len(posts) == 2


def _process_tick(path: str, posts_dir: str, moment: str, owner: str) -> list[str]:
    clock = ManualClock(datetime.fromisoformat(moment))
    store = Store(path, clock=clock.now)

    def publish(report: WeeklyReport) -> None:
        (Path(posts_dir) / f"{owner}-{report.period.end:%Y%m%d}").write_text("posted")

    job = weekly_report_job(
        store, channel="C1", cron=WEEKLY, tz=TOKYO, knowledge_dir=KNOWLEDGE, publish=publish
    )
    ran = Scheduler(store, [job], tz=TOKYO, clock=clock, owner=owner).run_pending()
    store.close()
    return ran


def test_weekly_post_fires_once_across_real_processes(db_path: Path, tmp_path: Path) -> None:
    """Four spawned processes reach 09:00 together: exactly one of them posts."""
    Store(db_path).close()
    posts = tmp_path / "posts"
    posts.mkdir()
    moment = (MONDAY_9 + timedelta(seconds=30)).isoformat()
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        ran = pool.starmap(_process_tick, [(str(db_path), str(posts), moment, f"p{i}") for i in range(4)])
    assert sorted(len(r) for r in ran) == [0, 0, 0, 1]
    assert len(list(posts.iterdir())) == 1


@pytest.mark.parametrize(
    ("started", "posts_this_week"),
    [(timedelta(minutes=90), 1), (timedelta(hours=11), 1), (timedelta(days=2), 0)],
    ids=["restart-after-90-min", "restart-same-evening", "first-start-on-wednesday"],
)
def test_missed_post_is_made_late_only_within_grace(
    db_path: Path, started: timedelta, posts_this_week: int
) -> None:
    """A process down at 09:00 still posts that day; one first started on Wednesday waits for Monday."""
    clock, posts = ManualClock(MONDAY_9 + started), []
    scheduler = weekly_scheduler(db_path, clock, posts)
    scheduler.run_pending()
    assert len(posts) == posts_this_week
    clock.moment = MONDAY_9 + timedelta(days=7, minutes=1)
    scheduler.run_pending()
    assert len(posts) == posts_this_week + 1


def test_failed_post_is_retried_once_after_the_pause(db_path: Path) -> None:
    """Slack down at 09:00: no retry at 09:05, a retry at 09:11 that succeeds, then nothing more."""
    clock, posts = ManualClock(MONDAY_9), []
    failures = [RuntimeError("Slack is down")]

    def flaky(report: WeeklyReport) -> None:
        if failures:
            raise failures.pop()
        posts.append(report)

    store = Store(db_path, clock=clock.now)
    job = weekly_report_job(
        store, channel="C1", cron=WEEKLY, tz=TOKYO, knowledge_dir=KNOWLEDGE, publish=flaky
    )
    scheduler = Scheduler(store, [job], tz=TOKYO, clock=clock, retry_after=timedelta(minutes=10))
    assert scheduler.run_pending() == []
    assert store.job_status("weekly_report:C1", "2025-W23") == "failed"
    clock.moment = MONDAY_9 + timedelta(minutes=5)
    assert scheduler.run_pending() == []
    clock.moment = MONDAY_9 + timedelta(minutes=11)
    assert scheduler.run_pending() == ["weekly_report:C1@2025-W23"]
    clock.moment = MONDAY_9 + timedelta(minutes=30)
    assert scheduler.run_pending() == []
    assert len(posts) == 1


def test_claim_of_a_dead_process_is_taken_over_after_the_lease(db_path: Path) -> None:
    """A process that claimed the week and died: the others wait out the lease, then one posts."""
    clock, posts = ManualClock(MONDAY_9), []
    scheduler = weekly_scheduler(db_path, clock, posts, lease=timedelta(hours=1))
    assert scheduler.store.claim("weekly_report:C1", "2025-W23", owner="dead", lease=timedelta(hours=1),
                                 retry_after=timedelta(minutes=10), at=MONDAY_9)  # fmt: skip
    clock.moment = MONDAY_9 + timedelta(minutes=30)
    assert scheduler.run_pending() == []
    clock.moment = MONDAY_9 + timedelta(minutes=61)
    assert scheduler.run_pending() == ["weekly_report:C1@2025-W23"]
    assert len(posts) == 1


def test_report_covers_the_week_before_the_scheduled_time(db_path: Path) -> None:
    """Cases of the week before Monday 09:00 are in the post; one from 09:30 is not."""
    clock, posts = ManualClock(MONDAY_9 + timedelta(minutes=40)), []
    scheduler = weekly_scheduler(db_path, clock, posts)
    scheduler.store.record_diagnosis(outcome("timeout"), source="slack", at=MONDAY_9 - timedelta(days=2))
    scheduler.store.record_diagnosis(outcome("timeout"), source="slack", at=MONDAY_9 + timedelta(minutes=30))
    scheduler.run_pending()
    assert posts[0].incidents.total == 1


def test_run_forever_returns_when_stopped(db_path: Path) -> None:
    """The loop the server runs: it ticks, and ends as soon as the stop event is set (no waiting)."""
    clock = ManualClock(MONDAY_9)
    stop = threading.Event()

    class StopAfterPost(list[WeeklyReport]):
        def append(self, report: WeeklyReport) -> None:
            super().append(report)
            stop.set()

    posts = StopAfterPost()
    weekly_scheduler(db_path, clock, posts).run_forever(stop)
    assert len(posts) == 1
    weekly_scheduler(db_path, clock, posts).run_forever(stop)  # already stopped: returns at once
    assert len(posts) == 1


def test_sleep_is_until_the_next_time_but_at_most_a_minute(db_path: Path) -> None:
    """The loop wakes for the next occurrence, and at least once a minute."""
    clock = ManualClock(MONDAY_9 - timedelta(seconds=20))
    scheduler = weekly_scheduler(db_path, clock, [])
    assert scheduler.seconds_until_next() == 20
    clock.moment = MONDAY_9 + timedelta(seconds=1)
    assert scheduler.seconds_until_next() == 60


# --- the other jobs ----------------------------------------------------------------------------------


def test_watch_probes_run_hourly_once_across_two_schedulers(db_path: Path) -> None:
    """Every watched server is probed once an hour and recorded, whichever process gets the hour."""
    clock = ManualClock(datetime(2025, 6, 2, 10, 0, 10, tzinfo=TOKYO))
    probed: list[str] = []

    def fake_network_probe(host: str) -> object:
        probed.append(host)
        return probe(host)

    schedulers = []
    for _ in range(2):
        store = Store(db_path, clock=clock.now)
        schedulers.append(Scheduler(store, [watch_probe_job(store, probe=fake_network_probe)], tz=TOKYO,  # type: ignore[arg-type]
                                    clock=clock))  # fmt: skip
    schedulers[0].store.watch_add("mail.example.jp")
    schedulers[0].store.watch_add("backup.example.jp")
    for hour in range(3):
        clock.moment = datetime(2025, 6, 2, 10 + hour, 0, 10, tzinfo=TOKYO)
        for scheduler in schedulers:
            scheduler.run_pending()
    assert sorted(probed) == sorted(["mail.example.jp", "backup.example.jp"] * 3)
    rows = list(schedulers[1].store.export("probes", datetime(2025, 6, 1, tzinfo=UTC)))
    assert len(rows) == 6 and {r["source"] for r in rows} == {"watch"}


def test_purge_job_runs_nightly(db_path: Path) -> None:
    """At 03:30 the retention purge removes old cases and keeps their weekly counts."""
    clock = ManualClock(datetime(2025, 6, 3, 3, 30, 5, tzinfo=TOKYO))
    store = Store(db_path, clock=clock.now)
    store.record_diagnosis(outcome(), source="slack", at=datetime(2024, 1, 3, tzinfo=UTC))
    scheduler = Scheduler(store, [purge_job(store, retention_days=400)], tz=TOKYO, clock=clock)
    assert scheduler.run_pending() == ["purge@2025-06-03"]
    assert store.case_count() == 0
    assert len(list(store.export("weekly", datetime(2023, 1, 1, tzinfo=UTC)))) == 1


def test_one_failing_job_does_not_stop_the_others(db_path: Path) -> None:
    """A job that raises is logged and retried later; the other due jobs still run in that tick."""
    clock = ManualClock(MONDAY_9)
    store = Store(db_path, clock=clock.now)
    ran: list[str] = []

    def broken(_: datetime) -> None:
        raise OSError("disk full")

    jobs = [Job("broken", WEEKLY, lambda m: "w", broken, timedelta(hours=1)),
            Job("fine", WEEKLY, lambda m: "w", lambda m: ran.append("fine"), timedelta(hours=1))]  # fmt: skip
    assert Scheduler(store, jobs, tz=TOKYO, clock=clock).run_pending() == ["fine@w"]
    assert ran == ["fine"]
