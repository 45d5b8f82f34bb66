"""The store on real SQLite files: what is kept, what never is, the watch list, export and purge."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.model import Redaction
from bot.store import (
    MIN_RETENTION_DAYS,
    SCHEMA_VERSION,
    Store,
    StoreError,
    normalise_host,
    scrub,
)
from bot.triage import Outcome
from tests.storedata import NOW, at, outcome, probe

SECRET = "Zq7!pX9kLm2#wR4t"


@pytest.fixture
def store(db_path: Path) -> Store:
    """A fresh store on a real file, closed after the test."""
    with Store(db_path) as opened:
        yield opened  # type: ignore[misc]


def file_bytes(db_path: Path) -> bytes:
    """Everything SQLite has written: the database, its WAL and shared-memory index."""
    found = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = db_path.with_name(db_path.name + suffix)
        if part.exists():
            found += part.read_bytes()
    return found


def test_fresh_file_gets_current_schema_in_wal_mode(store: Store, db_path: Path) -> None:
    """Opening a new path creates every table at the current version, in WAL mode."""
    assert store.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"cases", "probes", "watch", "weekly_cases", "weekly_probes", "jobs", "meta"} <= tables
    conn.close()


def test_diagnosis_row_keeps_what_the_report_needs(store: Store) -> None:
    """A recorded diagnosis keeps symptom, client, protocol, language, confidence, leaf and the time."""
    case = store.record_diagnosis(
        outcome("mailbox_full", "Mailbox is full [OVERQUOTA]", client="outlook", protocol="pop3", lang="en"),
        source="slack", workspace="T1", channel="C1", user="U1", at=at(1),
    )  # fmt: skip
    (row,) = store.export("cases", at(10))
    assert (row["id"], row["symptom"], row["client"], row["protocol"], row["lang"]) == (
        case, "mailbox_full", "outlook", "pop3", "en",
    )  # fmt: skip
    assert (row["source"], row["workspace"], row["channel"], row["leaf"]) == ("slack", "T1", "C1", "leaf")
    assert row["confidence"] == 0.9
    assert row["ts"] == at(1).isoformat()


def test_user_id_is_stored_only_as_salted_hash(store: Store, db_path: Path, tmp_path: Path) -> None:
    """The Slack user id never reaches the file; the hash is stable here and differs in another database."""
    store.record_diagnosis(outcome(), source="slack", workspace="T1", user="U0SECRETUSER")
    (row,) = store.export("cases", at(400))
    assert row["user_hash"] == store.hash_user("U0SECRETUSER", "T1")
    assert len(row["user_hash"]) == 32 and "U0SECRETUSER" not in row["user_hash"]
    assert b"U0SECRETUSER" not in file_bytes(db_path)
    with Store(tmp_path / "other.db") as other:
        assert other.hash_user("U0SECRETUSER", "T1") != row["user_hash"]


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("taro.yamada@example.co.jp で受信できません", "*@example.co.jp", "taro.yamada"),
        ("user hanako＠mail.example.jp failed", "*@mail.example.jp", "hanako"),
        ("imap://taro:hunter2secret@imap.example.com", "imap.example.com", "hunter2secret"),
    ],
    ids=["ascii-address", "full-width-at", "url-credentials"],
)
def test_addresses_kept_only_as_domain(text: str, kept: str, gone: str) -> None:
    """Stored text keeps the domain of an address and drops the person's part."""
    cleaned = scrub(text)
    assert kept in cleaned and gone not in cleaned


def test_hosts_column_keeps_server_and_address_domains(store: Store) -> None:
    """The hosts column lists servers named and the domains of addresses, never a local part."""
    store.record_diagnosis(outcome(addresses=("jiro@example.ne.jp",)), source="cli")
    (row,) = store.export("cases", at(400))
    assert json.loads(row["hosts"]) == ["example.ne.jp"]


def test_password_bytes_never_reach_database_or_wal_via_pipeline(db_path: Path, knowledge_dir: Path) -> None:
    """Through the real pipeline: a pasted password is in neither the .db file nor its -wal file."""
    from bot.knowledge import load
    from bot.triage import Triage

    triage = Triage(load(knowledge_dir))
    message = f"iPhone でパスワードが正しくありません。パスワードは {SECRET} です taro@example.co.jp"
    with Store(db_path) as store:
        case = store.record_diagnosis(triage.handle(message), source="slack", user="U1")
        store.record_outcome(case, "stuck")
        assert db_path.with_name(db_path.name + "-wal").exists()
        assert SECRET.encode() not in file_bytes(db_path)
        assert b"taro" not in file_bytes(db_path)
    assert SECRET.encode() not in file_bytes(db_path)


def test_store_masks_again_when_caller_passed_raw_text(db_path: Path) -> None:
    """Defence in depth: an Outcome whose text was never redacted is masked by the store itself."""
    raw = outcome()
    unredacted = Outcome(raw.diagnosis, raw.reply, Redaction(f"password: {SECRET}", False, 0))
    with Store(db_path) as store:
        store.record_diagnosis(unredacted, source="cli")
        (row,) = store.export("cases", at(400))
        assert SECRET not in row["text"] and "[伏せ字/redacted]" in row["text"]
        assert SECRET.encode() not in file_bytes(db_path)


def test_outcome_recorded_and_validated(store: Store) -> None:
    """Solved / Still stuck update the case; another word is refused; an unknown case returns False."""
    case = store.record_diagnosis(outcome(), source="slack")
    assert store.record_outcome(case, "solved") is True
    assert store.record_outcome(case, "stuck") is True
    (row,) = store.export("cases", at(400))
    assert row["outcome"] == "stuck" and row["outcome_at"] is not None
    with pytest.raises(ValueError, match="solved, stuck"):
        store.record_outcome(case, "fixed")
    assert store.record_outcome(case + 99, "solved") is False


def test_diagnosis_with_probe_records_both_linked(store: Store) -> None:
    """A diagnosis that ran a probe stores the probe too, and the case points at it."""
    case = store.record_diagnosis(outcome(probe=probe("imap.example.jp", cert_days=12)), source="cli")
    (case_row,) = store.export("cases", at(400))
    (probe_row,) = store.export("probes", at(400))
    assert case_row["id"] == case and case_row["probe_id"] == probe_row["id"]
    assert (probe_row["host"], probe_row["cert_days_left"], probe_row["up"]) == ("imap.example.jp", 12, 1)
    assert json.loads(probe_row["report"])["host"] == "imap.example.jp"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Mail.Example.co.jp.", "mail.example.co.jp"), ("taro@Example.JP", "example.jp"),
     ("メール.例え.jp", "xn--4dkua4c.xn--r8jz45g.jp")],
    ids=["case-and-dot", "address-to-domain", "idn-to-punycode"],
)  # fmt: skip
def test_watch_host_normalised(raw: str, expected: str) -> None:
    """Server names are kept lower case, ASCII, without the final dot; an address becomes its domain."""
    assert normalise_host(raw) == expected


@pytest.mark.parametrize("raw", ["", "not a host", "localhost", "a..b.jp", "-x.example.jp", "x" * 300 + ".jp"],
                         ids=["empty", "spaces", "single-label", "empty-label", "leading-dash", "too-long"])  # fmt: skip
def test_watch_rejects_what_is_not_a_server_name(store: Store, raw: str) -> None:
    """A bad name is a ValueError with a bilingual message, and nothing is added."""
    with pytest.raises(ValueError, match="サーバー名ではありません"):
        store.watch_add(raw)
    assert store.watch_list() == []


def test_watch_add_list_remove(store: Store) -> None:
    """Adding twice keeps one entry; the list is sorted; removing an absent server says so."""
    assert store.watch_add("mail.b.jp") is True
    assert store.watch_add("MAIL.B.JP") is False
    assert store.watch_add("mail.a.jp") is True
    assert [e.host for e in store.watch_list()] == ["mail.a.jp", "mail.b.jp"]
    assert store.watch_remove("mail.b.jp") is True
    assert store.watch_remove("mail.b.jp") is False
    assert [e.host for e in store.watch_list()] == ["mail.a.jp"]


def test_export_since_filters_and_columns_match(store: Store) -> None:
    """Export returns rows from ``since`` on, with exactly the columns the CSV header names."""
    for days in (30, 10, 1):
        store.record_diagnosis(outcome(), source="cli", at=at(days))
    rows = list(store.export("cases", at(15)))
    assert [r["ts"] for r in rows] == [at(10).isoformat(), at(1).isoformat()]
    assert list(rows[0]) == store.columns("cases")
    with pytest.raises(ValueError, match="cases, probes, weekly"):
        list(store.export("meta", at(15)))


def test_purge_deletes_old_rows_and_keeps_weekly_counts(store: Store) -> None:
    """Cases older than the retention go; their per-week counts stay and the export shows them."""
    old = datetime(2024, 1, 3, 12, 0, tzinfo=UTC)  # a Wednesday
    for symptom, result in (("auth_failed", "solved"), ("auth_failed", "stuck"), ("timeout", None)):
        case = store.record_diagnosis(outcome(symptom), source="slack", at=old)
        if result:
            store.record_outcome(case, result, at=old)
    store.record_probe(probe(up=False), source="watch", at=old)
    store.record_probe(probe(up=True), source="watch", at=old + timedelta(hours=1))
    recent = store.record_diagnosis(outcome(), source="slack", at=NOW - timedelta(days=3))
    result = store.purge(400, now=NOW)
    assert (result.cases, result.probes, result.weeks) == (3, 2, 1)
    assert [r["id"] for r in store.export("cases", datetime(2000, 1, 1, tzinfo=UTC))] == [recent]
    weekly = {r["symptom"]: r for r in store.export("weekly", datetime(2023, 12, 1, tzinfo=UTC))}
    assert weekly["auth_failed"]["week"] == "2024-01-01"
    assert (
        weekly["auth_failed"]["cases"],
        weekly["auth_failed"]["solved"],
        weekly["auth_failed"]["stuck"],
    ) == (2, 1, 1)
    assert weekly["timeout"]["cases"] == 1
    assert store.purge(400, now=NOW).cases == 0


def test_purge_never_takes_the_two_weeks_the_report_needs(store: Store) -> None:
    """A retention shorter than the report's two weeks is raised to MIN_RETENTION_DAYS."""
    store.record_diagnosis(outcome(), source="slack", at=NOW - timedelta(days=MIN_RETENTION_DAYS - 1))
    assert store.purge(1, now=NOW).cases == 0


def test_not_a_database_is_one_clear_error(db_path: Path) -> None:
    """A file that is not SQLite gives StoreError naming the file, not a traceback from sqlite3."""
    db_path.write_bytes(b"this is a text file, not a database" * 100)
    with pytest.raises(StoreError, match="is not a mailcheck database"):
        Store(db_path)


def test_another_programs_database_is_left_alone(db_path: Path) -> None:
    """A SQLite file with someone else's tables is refused and not modified."""
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="another program's database"):
        Store(db_path)
    conn = sqlite3.connect(db_path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["invoices"]
    conn.close()


def test_database_from_newer_version_is_refused(db_path: Path) -> None:
    """A migration this code does not know means a newer mailcheck wrote the file: say upgrade."""
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('mailcheck', '0099_future', '2030-01-01')")  # fmt: skip
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer mailcheck"):
        Store(db_path)


def test_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    """A path in a folder that does not exist names the folder."""
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nowhere" / "mailcheck.db")


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed-1", "seed-2", "seed-3"])
def test_hourly_counts_match_the_cases_for_any_window(store: Store, db_path: Path, seed: int) -> None:
    """The hourly table the report reads stays exact through inserts, answers, symptom changes and purges:
    counts for windows that start and end mid-hour equal a direct count of the cases."""
    import random

    rng = random.Random(seed)
    base = NOW - timedelta(days=3)
    ids = [store.record_diagnosis(outcome(rng.choice(["auth_failed", "timeout"]),
                                          protocol=rng.choice(["imap", "pop3", None])),
                                  source="slack", at=base + timedelta(seconds=rng.randrange(3 * 86400)))
           for _ in range(300)]  # fmt: skip
    for case in rng.sample(ids, 120):
        store.record_outcome(case, rng.choice(["solved", "stuck"]))
    for case in rng.sample(ids, 40):
        store.record_step(case, outcome("account_locked"))
    store.record_diagnosis(outcome(), source="slack", at=datetime(2024, 1, 3, tzinfo=UTC))
    assert store.purge(400, now=NOW).cases == 1
    conn = sqlite3.connect(db_path)
    for _ in range(25):
        a = base + timedelta(seconds=rng.randrange(3 * 86400))
        b = a + timedelta(seconds=rng.randrange(1, 2 * 86400))
        direct = conn.execute(
            "SELECT symptom, protocol, client, outcome, count(*) FROM cases WHERE ts >= ? AND ts < ? "
            "GROUP BY 1, 2, 3, 4", (int(a.timestamp()), int(b.timestamp()))).fetchall()  # fmt: skip
        assert {
            (g.symptom, g.protocol, g.client, g.outcome, g.count) for g in store.case_groups(a, b)
        } == set(direct)
    conn.close()


def test_delivery_is_first_once_across_restarts_and_until_it_expires(db_path: Path) -> None:
    """A Slack delivery key is new once; a second Store on the file (a restart, another worker) sees it too;
    after the time-to-live it may be answered again."""
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    with Store(db_path) as store:
        assert store.first_delivery("event:Ev1", at=start)
        assert not store.first_delivery("event:Ev1", at=start + timedelta(seconds=5))
        assert store.first_delivery("event:Ev2", at=start)
    with Store(db_path) as restarted:
        assert not restarted.first_delivery("event:Ev1", at=start + timedelta(minutes=10))
        assert restarted.first_delivery("event:Ev1", at=start + timedelta(hours=2))
