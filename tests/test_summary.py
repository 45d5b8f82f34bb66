"""The weekly summary on fixed data in a real SQLite file: exact numbers, server changes, advice, and
sensible reports for an empty week, a fresh file and a file from an older version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.knowledge import Knowledge, load
from bot.store import Store
from bot.summary import (
    ReportError,
    WeeklyReport,
    advice_path,
    build_weekly,
    inspect_advice,
    load_advice,
    parse_now,
    render_text,
    week_key,
)
from tests.storedata import NOW, at, outcome, probe
from tests.test_store_migrations import build_old

TOKYO = ZoneInfo("Asia/Tokyo")

# (days before NOW, symptom, client, protocol, answer)
THIS_WEEK = [
    (0.5, "auth_failed", "iphone", "imap", "solved"),
    (1.5, "auth_failed", "iphone", "imap", "stuck"),
    (2.5, "auth_failed", "outlook", "pop3", None),
    (1.2, "messages_missing", "outlook", "pop3", "solved"),
    (3.2, "messages_missing", "outlook", "pop3", "solved"),
    (6.9, "messages_missing", "thunderbird", "pop3", "stuck"),
    (4.1, "account_locked", "iphone", "imap", "stuck"),
    (4.2, "account_locked", "iphone", "imap", "solved"),
    (5.5, "timeout", None, None, None),
]
LAST_WEEK = [(7.5, "auth_failed"), (8.0, "auth_failed"), (13.9, "timeout")]
OUTSIDE = [14.5, -0.1]  # before the previous week, and after --now


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load(Path(__file__).resolve().parent.parent / "knowledge")


def fill(store: Store) -> None:
    """The fixed week: nine cases, three the week before, two watched servers with changes."""
    for days, symptom, client, protocol, answer in THIS_WEEK:
        case = store.record_diagnosis(
            outcome(symptom, client=client, protocol=protocol), source="slack", at=at(days)
        )
        if answer:
            store.record_outcome(case, answer, at=at(days))
    for days, symptom in LAST_WEEK:
        store.record_diagnosis(outcome(symptom), source="slack", at=at(days))
    for days in OUTSIDE:
        store.record_diagnosis(outcome("tls_mismatch"), source="slack", at=at(days))
    store.watch_add("mail.example.jp")
    store.watch_add("backup.example.jp")
    mail = dict(mx=("mx1.example.jp",), srv=("imap.example.jp:993",))
    store.record_probe(probe(cert_days=25, **mail), source="watch", at=at(8))  # type: ignore[arg-type]
    store.record_probe(probe(connect_ms=40, cert_days=23, **mail), source="watch", at=at(6))  # type: ignore[arg-type]
    store.record_probe(probe(connect_ms=50, cert_days=21, **mail), source="watch", at=at(4))  # type: ignore[arg-type]
    store.record_probe(probe(up=False), source="watch", at=at(2))
    store.record_probe(probe(connect_ms=60, cert_days=18, mx=("mx2.example.jp",), starttls=False, quota_pct=85),
                       source="watch", at=at(1))  # fmt: skip
    store.record_probe(probe("backup.example.jp", cert_days=100), source="watch", at=at(9))
    store.record_probe(probe("backup.example.jp", cert_days=400), source="watch", at=at(3))


@pytest.fixture
def report(db_path: Path, knowledge: Knowledge) -> WeeklyReport:
    """The report for Monday 2025-06-02 00:00 Tokyo over the fixed data."""
    with Store(db_path) as store:
        fill(store)
        rules = load_advice(advice_path(knowledge.root), knowledge)
        return build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge, rules=rules)


def test_period_is_the_seven_days_before_now(report: WeeklyReport) -> None:
    """The period ends at --now and starts 7 days before; the previous one is the 7 days before that."""
    data = report.as_json()
    assert data["period"] == {"start": "2025-05-26T00:00:00+09:00", "end": "2025-06-02T00:00:00+09:00",
                              "tz": "Asia/Tokyo"}  # fmt: skip
    assert data["previous_period"] == {
        "start": "2025-05-19T00:00:00+09:00",
        "end": "2025-05-26T00:00:00+09:00",
    }


def test_incident_numbers_are_exact(report: WeeklyReport) -> None:
    """Totals, per-symptom counts (most first), protocols, answers and top clients match the data."""
    data = report.as_json()
    assert data["incidents"] == {
        "total": 9,
        "by_symptom": {"auth_failed": 3, "messages_missing": 3, "account_locked": 2, "timeout": 1},
        "previous_total": 3,
        "previous_by_symptom": {"auth_failed": 2, "timeout": 1},
        "by_protocol": {"imap": 4, "pop3": 4, "unknown": 1},
    }
    assert data["solved_rate"] == round(4 / 7, 4)
    assert data["outcomes"] == {"solved": 4, "stuck": 3, "unanswered": 2}
    assert data["top_clients"] == [{"client": "iphone", "count": 4}, {"client": "outlook", "count": 3},
                                   {"client": "thunderbird", "count": 1}]  # fmt: skip


def test_daily_counts_fall_on_the_right_days(report: WeeklyReport) -> None:
    """Each case lands in its Tokyo day; the seven days sum to the week's total."""
    daily = report.as_json()["daily"]
    assert [d["date"] for d in daily] == [f"2025-05-{d}" for d in range(26, 32)] + ["2025-06-01"]
    assert [d["by_symptom"] for d in daily] == [
        {"messages_missing": 1}, {"timeout": 1}, {"account_locked": 2}, {"messages_missing": 1},
        {"auth_failed": 1}, {"auth_failed": 1, "messages_missing": 1}, {"auth_failed": 1},
    ]  # fmt: skip
    assert sum(d["total"] for d in daily) == 9


def test_watched_server_health_and_changes(report: WeeklyReport) -> None:
    """Uptime, median connect time, certificate, quota and what changed since last week, per server."""
    servers = {s["host"]: s for s in report.as_json()["servers"]}  # type: ignore[index]
    mail = servers["mail.example.jp"]
    assert (mail["probes"], mail["uptime_pct"], mail["median_connect_ms"]) == (4, 75.0, 50.0)
    assert (mail["cert_days_left"], mail["quota_used_pct"]) == (18, 85.0)
    assert [c["what"] for c in mail["changes"]] == ["mx", "starttls_lost"]
    assert mail["changes"][0] == {"what": "mx", "before": "mx1.example.jp", "after": "mx2.example.jp"}
    assert mail["changes"][1]["before"] == "imap:STARTTLS"
    assert mail["daily_uptime_pct"] == [None, 100.0, None, 100.0, None, 0.0, 100.0]
    backup = servers["backup.example.jp"]
    assert (backup["uptime_pct"], backup["cert_days_left"]) == (100.0, 400)
    assert [c["what"] for c in backup["changes"]] == ["certificate"]


def test_advice_follows_the_numbers_in_file_order(report: WeeklyReport) -> None:
    """Exactly the rules whose conditions hold fire, with the numbers filled in."""
    advice = report.as_json()["advice"]
    assert [(a["id"], a.get("host")) for a in advice] == [  # type: ignore[index]
        ("starttls_lost", "mail.example.jp"),
        ("certificate_expiring", "mail.example.jp"),
        ("mailbox_nearly_full", "mail.example.jp"),
        ("server_unreliable", "mail.example.jp"),
        ("mx_changed", "mail.example.jp"),
        ("certificate_renewed", "backup.example.jp"),
        ("pop_to_imap", None),
        ("one_password_owner", None),
        ("sudden_rise", None),
    ]
    texts = {a["id"]: a["text"] for a in advice}  # type: ignore[index]
    assert "あと 18 日" in texts["certificate_expiring"]["ja"]
    assert "85%" in texts["mailbox_nearly_full"]["en"]
    assert "3 件" in texts["pop_to_imap"]["ja"]
    assert "from 3 last week to 9" in texts["sudden_rise"]["en"]


def test_advice_is_grounded_in_the_knowledge_folder(report: WeeklyReport, knowledge: Knowledge) -> None:
    """Each advice names the knowledge leaf with the full steps and whom to contact."""
    pop = next(a for a in report.advice if a.id == "pop_to_imap")
    leaf = knowledge.symptoms["messages_missing"].nodes["pop_took_them"]
    assert pop.see_title == leaf.title
    assert pop.escalate_name == knowledge.targets["in_house_admin"][0]
    text = render_text(report, "ja")
    assert f"詳しくは: {leaf.title.ja}" in text  # type: ignore[union-attr]


def test_plain_text_report_reads_in_both_languages(report: WeeklyReport) -> None:
    """The text report starts in Japanese, gives English beside it, and names every symptom with its title."""
    text = render_text(report)
    assert text.startswith("週次メールレポート / Weekly mail report")
    assert "相談の件数 / Incidents: 9 (先週 / last week 3, +6)" in text
    assert "メールが消えた" in text and "(messages_missing): 3 (+3)" in text
    assert "mail.example.jp: 稼働 / up 75%" in text
    english = render_text(report, "en")
    assert "Incidents: 9 (last week 3, +6)" in english and "稼働" not in english


def test_empty_week_is_a_quiet_report(db_path: Path, knowledge: Knowledge) -> None:
    """No cases this week (only last week's): zeros, last week's numbers, and the quiet-week note."""
    with Store(db_path) as store:
        for days, symptom in LAST_WEEK:
            store.record_diagnosis(outcome(symptom), source="slack", at=at(days))
        rules = load_advice(advice_path(knowledge.root), knowledge)
        data = build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge, rules=rules).as_json()
    assert data["incidents"]["total"] == 0 and data["incidents"]["by_symptom"] == {}  # type: ignore[index]
    assert data["incidents"]["previous_total"] == 3  # type: ignore[index]
    assert data["solved_rate"] is None and data["top_clients"] == []
    assert [a["id"] for a in data["advice"]] == ["quiet_week"]  # type: ignore[union-attr,index]


def test_fresh_database_gives_a_report(db_path: Path, knowledge: Knowledge) -> None:
    """A brand-new file: seven empty days, no servers, no error, and a text that says so."""
    with Store(db_path) as store:
        report = build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge, rules=())
    data = report.as_json()
    assert data["incidents"]["total"] == 0 and len(data["daily"]) == 7  # type: ignore[index,arg-type]
    assert data["servers"] == [] and data["advice"] == []
    assert "今週の相談はありません" in render_text(report)


def test_old_version_database_gives_a_report(db_path: Path, knowledge: Knowledge) -> None:
    """A file from schema version 1 upgrades and its cases are counted (they are in the week of --now)."""
    build_old(db_path, 1)  # three cases on 2025-05-28
    with Store(db_path) as store:
        data = build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge, rules=()).as_json()
    assert data["incidents"]["by_symptom"] == {"auth_failed": 2, "timeout": 1}  # type: ignore[index]
    assert data["solved_rate"] == 0.5


def test_server_without_probes_this_week_is_listed_as_unprobed(db_path: Path) -> None:
    """A server just added to the list shows up with no numbers rather than being left out."""
    with Store(db_path) as store:
        store.watch_add("new.example.jp")
        report = build_weekly(store, now=NOW, tz=TOKYO)
    (server,) = report.servers
    assert (server.host, server.probes, server.uptime_pct, server.changes) == ("new.example.jp", 0, None, ())
    assert "今週の確認なし" in render_text(report)


def test_port_down_is_not_a_lost_capability(db_path: Path) -> None:
    """STARTTLS missing only because the server was down in the last probe is no 'starttls_lost'."""
    with Store(db_path) as store:
        store.record_probe(probe(), source="watch", at=at(8))
        store.record_probe(probe(up=False), source="watch", at=at(1))
        report = build_weekly(store, now=NOW, tz=TOKYO)
    assert report.servers[0].changes == ()
    assert report.servers[0].uptime_pct == 0.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2025-06-02", datetime(2025, 6, 2, tzinfo=TOKYO)),
     ("2025-06-02T09:30", datetime(2025, 6, 2, 9, 30, tzinfo=TOKYO)),
     ("2025-06-02T00:30:00+00:00", datetime(2025, 6, 2, 0, 30, tzinfo=UTC))],
    ids=["date-is-midnight-tokyo", "naive-time-is-tokyo", "offset-kept"],
)  # fmt: skip
def test_now_accepts_iso_dates_and_times(text: str, expected: datetime) -> None:
    """--now takes an ISO date (midnight in MAILCHECK_TZ) or a date-time."""
    assert parse_now(text, TOKYO) == expected


@pytest.mark.parametrize("text", ["next monday", "2025-13-01", ""], ids=["words", "bad-month", "empty"])
def test_bad_now_is_one_clear_error(text: str) -> None:
    """A value that is not an ISO date says what form is expected."""
    with pytest.raises(ReportError, match="ISO date"):
        parse_now(text, TOKYO)


def test_week_key_uses_the_iso_week_in_the_time_zone() -> None:
    """Monday 09:00 Tokyo is still Sunday in UTC; the key follows Tokyo."""
    monday = datetime(2025, 6, 2, 9, 0, tzinfo=TOKYO)
    assert week_key(monday, TOKYO) == "2025-W23"
    assert week_key(monday - timedelta(minutes=1), TOKYO) == "2025-W23"
    assert week_key(datetime(2025, 6, 1, 23, 0, tzinfo=TOKYO), TOKYO) == "2025-W22"


# --- the advice file ---------------------------------------------------------------------------------


def test_shipped_advice_file_is_valid(knowledge: Knowledge) -> None:
    """knowledge/shared/advice.yml has no mistakes, and every `see` points at a real leaf or symptom."""
    rules, problems = inspect_advice(advice_path(knowledge.root), knowledge)
    assert problems == []
    assert len(rules) >= 10
    for rule in rules:
        symptom, _, leaf = (rule.see or "unknown").partition("/")
        assert symptom in knowledge.symptoms
        assert not leaf or knowledge.symptoms[symptom].nodes[leaf].is_leaf


GOOD = "advice:\n  - id: ok\n    when: {quiet: true}\n    text: {ja: 静か, en: Quiet}\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("advice:\n  - id: a\n    when: {sometimes: 3}\n    text: {ja: あ, en: a}\n", 3, "unknown condition 'sometimes'"),
        ("advice:\n  - id: a\n    when: {quiet: true, rise_at_least: 2}\n    text: {ja: あ, en: a}\n", 3, "exactly one"),
        ("advice:\n  - id: a\n    when: {symptom: lost_mail, at_least: 2}\n    text: {ja: あ, en: a}\n", 3, "not a symptom id"),
        ("advice:\n  - id: a\n    when: {quiet: true}\n    text: {ja: '{hots}', en: a}\n", 4, "unknown placeholder {hots}"),
        ("advice:\n  - id: a\n    when: {quiet: true}\n    text: {ja: あ}\n", 4, "ja and en"),
        ("advice:\n  - id: a\n    when: {quiet: true}\n    see: messages_missing/nowhere\n    text: {ja: あ, en: a}\n",
         4, "has no leaf 'nowhere'"),
        ("advice:\n  - id: a\n    when: {quiet: true}\n    escalate: boss\n    text: {ja: あ, en: a}\n", 4, "escalate"),
        (GOOD + GOOD.replace("advice:\n", ""), 5, "duplicate advice id 'ok'"),
        ("advice:\n  - id: a\n    when: {cert_days_at_most: soon}\n    text: {ja: あ, en: a}\n", 3, "must be int"),
        ("advice: {}\n", 1, "must be a list"),
    ],
    ids=["unknown-condition", "two-conditions", "unknown-symptom", "unknown-placeholder", "missing-english",
         "missing-leaf", "unknown-contact", "duplicate-id", "wrong-type", "not-a-list"],
)  # fmt: skip
def test_advice_mistakes_name_file_and_line(tmp_path: Path, knowledge: Knowledge, body: str, line: int,
                                            message: str) -> None:  # fmt: skip
    """Each kind of mistake is reported as `file:line: what` for support staff to fix."""
    path = tmp_path / "knowledge" / "shared" / "advice.yml"
    path.parent.mkdir(parents=True)
    path.write_text(body, encoding="utf-8")
    _, problems = inspect_advice(path, knowledge)
    assert any(p.line == line and message in p.message for p in problems), problems
    assert all(p.file == "knowledge/shared/advice.yml" for p in problems)
    with pytest.raises(ReportError, match="advice file has mistakes"):
        load_advice(path, knowledge)


def test_missing_advice_file_means_no_advice(tmp_path: Path) -> None:
    """Without advice.yml the report still works, just without advice."""
    assert inspect_advice(tmp_path / "shared" / "advice.yml") == ((), [])


def test_case_recorded_in_the_same_second_is_counted(db_path: Path) -> None:
    """A case stored a fraction of a second before the report's now is in this week's count."""
    now = NOW + timedelta(microseconds=700_000)
    with Store(db_path) as store:
        store.record_diagnosis(
            outcome("mailbox_full"), source="cli", at=NOW + timedelta(microseconds=300_000)
        )
        report = build_weekly(store, now=now, tz=TOKYO)
    assert report.incidents.by_symptom == {"mailbox_full": 1}
