"""`mailcheck report weekly` through the real entry point (a subprocess), on real SQLite files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from bot.store import Store
from tests.cli_run import run_cli
from tests.servers.slack_api import SlackApiServer
from tests.test_store_migrations import build_old
from tests.test_summary import fill


@pytest.fixture
def filled_db(db_path: Path) -> Path:
    """The fixed week of tests/test_summary.py in a real file."""
    with Store(db_path) as store:
        fill(store)
    return db_path


@pytest.fixture
def slack_api() -> Iterator[SlackApiServer]:
    with SlackApiServer() as api:
        yield api


def test_json_report_on_fixed_data(filled_db: Path) -> None:
    """--json prints the period, exact incident numbers, solved rate, clients, servers and advice."""
    result = run_cli("report", "weekly", "--db", str(filled_db), "--now", "2025-06-02", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["period"]["start"] == "2025-05-26T00:00:00+09:00"
    assert data["incidents"]["total"] == 9 and data["incidents"]["previous_total"] == 3
    assert data["incidents"]["by_symptom"]["messages_missing"] == 3
    assert data["solved_rate"] == 0.5714
    assert data["top_clients"][0] == {"client": "iphone", "count": 4}
    assert {s["host"] for s in data["servers"]} == {"mail.example.jp", "backup.example.jp"}
    assert "pop_to_imap" in [a["id"] for a in data["advice"]]


def test_text_report_and_chart_file(filled_db: Path, tmp_path: Path) -> None:
    """Without --json the report is text; --png writes the chart and says where."""
    png = tmp_path / "weekly.png"
    result = run_cli("report", "weekly", "--db", str(filled_db), "--now", "2025-06-02", "--png", str(png))
    assert result.returncode == 0, result.stderr
    assert "相談の件数 / Incidents: 9" in result.stdout
    assert f"chart written to {png}" in result.stderr
    with Image.open(png) as image:
        assert image.size == (1200, 800)


@pytest.mark.parametrize(
    ("prepare", "total"),
    [("fresh", 0), ("old-v1", 3), ("empty-week", 0)],
    ids=["fresh-database", "database-from-version-1", "empty-week"],
)
def test_report_never_fails_on_little_or_old_data(db_path: Path, prepare: str, total: int) -> None:
    """A missing file, a version-1 file and a week without cases all give a report and exit 0."""
    if prepare == "old-v1":
        build_old(db_path, 1)
    elif prepare == "empty-week":
        with Store(db_path) as store:
            store.watch_add("mail.example.jp")
    result = run_cli("report", "weekly", "--db", str(db_path), "--now", "2025-06-02", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["incidents"]["total"] == total


def test_post_twice_posts_once(filled_db: Path, slack_api: SlackApiServer) -> None:
    """--post from a platform scheduler, run twice: one message with the chart; the rerun says so."""
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack_api.api_url}
    args = ("report", "weekly", "--db", str(filled_db), "--now", "2025-06-02T09:00", "--post", "C1")
    first, second = run_cli(*args, env=env), run_cli(*args, env=env)
    assert first.returncode == 0, first.stderr
    assert "weekly report 2025-W23 posted to C1" in first.stderr
    assert second.returncode == 0 and "already posted (nothing to do)" in second.stderr
    assert len(slack_api.calls("chat.postMessage")) == 1
    assert len(slack_api.calls("files.completeUploadExternal")) == 1


def test_post_without_token_is_one_line(filled_db: Path) -> None:
    """--post needs SLACK_BOT_TOKEN; without it: one Error line, exit 2, nothing claimed."""
    result = run_cli("report", "weekly", "--db", str(filled_db), "--post", "C1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: --post needs SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-…)"
    ]


def test_refused_post_is_one_line_exit_1(filled_db: Path, slack_api: SlackApiServer) -> None:
    """A channel the bot is not in: one Error line naming the fix, exit 1, no traceback."""
    slack_api.refuse_channel("C9")
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack_api.api_url}
    result = run_cli("report", "weekly", "--db", str(filled_db), "--post", "C9", env=env)
    assert result.returncode == 1
    assert "Error: Slack refused the post to C9 (not_in_channel)" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [(("--now", "soon"), {}, "is not an ISO date"),
     ((), {"MAILCHECK_TZ": "Mars/Olympus"}, "is not a time zone name"),
     (("--png", "/nonexistent-folder/x.png"), {}, "does not exist")],
    ids=["bad-now", "bad-time-zone", "png-folder-missing"],
)  # fmt: skip
def test_bad_input_is_one_error_line(
    db_path: Path, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    """Wrong values give `Error: …` and exit 2, never a traceback."""
    result = run_cli("report", "weekly", "--db", str(db_path), *args, env=env)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_not_a_database_is_one_error_line(tmp_path: Path) -> None:
    """Pointing --db at some other file says so instead of crashing."""
    other = tmp_path / "notes.txt"
    other.write_text("hello " * 1000)
    result = run_cli("report", "weekly", "--db", str(other))
    assert result.returncode == 2
    assert "is not a mailcheck database" in result.stderr and "Traceback" not in result.stderr


def test_knowledge_check_also_checks_the_advice_file(tmp_path: Path) -> None:
    """A mistake in shared/advice.yml is reported by `mailcheck knowledge check` with file and line."""
    import shutil

    folder = tmp_path / "knowledge"
    shutil.copytree(Path(__file__).resolve().parent.parent / "knowledge", folder)
    advice = folder / "shared" / "advice.yml"
    advice.write_text(advice.read_text(encoding="utf-8").replace("{cert_days_at_most: 21}", "{cert_days: 21}"),
                      encoding="utf-8")  # fmt: skip
    result = run_cli("knowledge", "check", str(folder))
    assert result.returncode == 1
    assert "knowledge/shared/advice.yml:15: when: unknown condition 'cert_days'" in result.stdout
