"""The weekly post in Slack, against the recording stand-in for Slack's Web API on loopback: Block Kit
with a plain-text fallback, the chart through files_upload_v2, once per week however it is triggered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.knowledge import load
from bot.scheduler import Cron, Scheduler, weekly_report_job
from bot.slack.report_post import (
    PostError,
    fallback_text,
    post_once,
    post_report,
    publisher,
    report_blocks,
)
from bot.slack.web import make_client
from bot.store import Store
from bot.summary import WeeklyReport, advice_path, build_weekly, load_advice
from tests.servers.slack_api import SlackApiServer
from tests.storedata import NOW
from tests.test_summary import fill

TOKYO = ZoneInfo("Asia/Tokyo")
KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


@pytest.fixture
def slack_api() -> Iterator[SlackApiServer]:
    """Slack's Web API stand-in on 127.0.0.1 and a free port, recording every call."""
    with SlackApiServer() as api:
        yield api


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        fill(opened)
        yield opened


@pytest.fixture
def report(store: Store) -> WeeklyReport:
    knowledge = load(KNOWLEDGE)
    rules = load_advice(advice_path(KNOWLEDGE), knowledge)
    return build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge, rules=rules)


def test_blocks_fit_slack_limits_and_read_japanese_first(report: WeeklyReport) -> None:
    """Header, period, numbers, servers, advice: within Block Kit's limits, Japanese with English under it."""
    blocks = report_blocks(report)
    assert blocks[0]["type"] == "header" and len(blocks) <= 50
    texts = [b["text"]["text"] for b in blocks if b["type"] in ("section", "header")]
    contexts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert all(len(t) <= 3000 for t in texts) and all(len(t) <= 2000 for t in contexts)
    body = "\n".join(texts)
    assert "相談の件数 / Incidents: 9*" in body and "`auth_failed`: 3（+1）" in body
    assert "証明書の期限まで、あと 18 日" in body
    assert any("expires in 18 days" in c for c in contexts)


def test_fallback_text_is_the_plain_report(report: WeeklyReport) -> None:
    """Notifications show the plain report (clipped to a safe length)."""
    text = fallback_text(report)
    assert text.startswith("週次メールレポート / Weekly mail report") and len(text) <= 3500


def test_post_sends_blocks_then_uploads_the_chart(slack_api: SlackApiServer, report: WeeklyReport) -> None:
    """chat.postMessage with blocks and text, then the PNG through files_upload_v2 to the same channel."""
    client = make_client("xoxb-test", slack_api.api_url)
    post_report(client, "C1", report)
    (message,) = slack_api.calls("chat.postMessage")
    assert message.params["channel"] == "C1" and message.blocks[0]["type"] == "header"
    assert "Weekly mail report" in message.text
    (ticket,) = slack_api.calls("files.getUploadURLExternal")
    assert ticket.params["filename"] == "mailcheck-weekly.png" and int(ticket.params["length"]) > 10_000
    uploaded = next(iter(slack_api.state.uploads.values()))
    assert b"\x89PNG\r\n\x1a\n" in uploaded
    (done,) = slack_api.calls("files.completeUploadExternal")
    assert done.params["channel_id"] == "C1"


def test_post_once_is_safe_to_run_twice(
    slack_api: SlackApiServer, store: Store, report: WeeklyReport
) -> None:
    """`report weekly --post` twice in the same week: one message; the second run says nothing to do."""
    client = make_client("xoxb-test", slack_api.api_url)
    assert post_once(store, client, "C1", report, period="2025-W23", owner="cli:1") is True
    assert post_once(store, client, "C1", report, period="2025-W23", owner="cli:2") is False
    assert len(slack_api.calls("chat.postMessage")) == 1


def test_rate_limit_is_retried_and_posts_once(
    slack_api: SlackApiServer, store: Store, report: WeeklyReport
) -> None:
    """A 429 with Retry-After is waited out by the client's retry handler; still one message."""
    slack_api.fail_next("chat.postMessage", status=429, retry_after=1)
    client = make_client("xoxb-test", slack_api.api_url)
    assert post_once(store, client, "C1", report, period="2025-W23", owner="cli:1")
    assert [c.status for c in slack_api.calls("chat.postMessage")] == [429, 200]


def test_refused_channel_is_one_clear_error_and_can_be_retried(
    slack_api: SlackApiServer, store: Store, report: WeeklyReport
) -> None:
    """Not in the channel: PostError says what to do, and the week stays open for the next run."""
    slack_api.refuse_channel("C9")
    client = make_client("xoxb-test", slack_api.api_url)
    with pytest.raises(PostError, match=r"not_in_channel.*invite"):
        post_once(store, client, "C9", report, period="2025-W23", owner="cli:1")
    assert store.job_status("weekly_report:C9", "2025-W23") == "failed"
    slack_api.state.refused_channels.clear()
    assert post_once(store, client, "C9", report, period="2025-W23", owner="cli:2")


def test_scheduler_and_cli_never_both_post_a_week(slack_api: SlackApiServer, db_path: Path) -> None:
    """`mailcheck report weekly --post` ran from cron at 09:00; `serve`'s scheduler at 09:01 finds it done."""
    monday = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)

    class Clock:
        moment = monday + timedelta(minutes=1)

        def now(self) -> datetime:
            return self.moment

    client = make_client("xoxb-test", slack_api.api_url)
    with Store(db_path) as store:
        report = build_weekly(store, now=monday, tz=TOKYO)
        assert post_once(store, client, "C1", report, period="2025-W23", owner="cli:1")
        job = weekly_report_job(store, channel="C1", cron=Cron.parse("0 9 * * 1"), tz=TOKYO,
                                knowledge_dir=KNOWLEDGE, publish=publisher(client, "C1"))  # fmt: skip
        assert Scheduler(store, [job], tz=TOKYO, clock=Clock()).run_pending() == []
        Clock.moment = monday + timedelta(days=7, minutes=1)
        assert Scheduler(store, [job], tz=TOKYO, clock=Clock()).run_pending() == ["weekly_report:C1@2025-W24"]
    assert len(slack_api.calls("chat.postMessage")) == 2
