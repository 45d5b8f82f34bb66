"""Upgrades in place: a database written by every earlier schema version opens with the current code and
keeps every row. The old schemas below are frozen copies of what each version created; never edit them
to match new code (that would hide a broken migration)."""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import MIGRATION_NAMES, SCHEMA_VERSION, Store
from tests.storedata import outcome

SALT = "ab" * 32
OLD_TS = int(datetime(2025, 5, 28, 3, 0, tzinfo=UTC).timestamp())

MIGRATIONS_TABLE = """
CREATE TABLE "_sqlite_migrations" ("id" INTEGER PRIMARY KEY, "migration_set" TEXT, "name" TEXT, "applied_at" TEXT);
CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name" ON "_sqlite_migrations" ("migration_set", "name");
"""

# Version 1 (0001_cases): cases and the salt.
SCHEMA_V1 = (
    MIGRATIONS_TABLE
    + """
CREATE TABLE "meta" ("key" TEXT PRIMARY KEY, "value" TEXT);
CREATE TABLE "cases" (
   "id" INTEGER PRIMARY KEY, "ts" INTEGER NOT NULL, "source" TEXT NOT NULL, "workspace" TEXT, "channel" TEXT,
   "user_hash" TEXT, "symptom" TEXT NOT NULL, "confidence" REAL, "client" TEXT, "protocol" TEXT, "lang" TEXT,
   "text" TEXT, "password_pasted" INTEGER, "outcome" TEXT);
CREATE INDEX "cases_ts" ON "cases" ("ts");
"""
)

# Version 2 (0002_probes_watch): probes, the watch list, four more case columns.
SCHEMA_V2 = (
    SCHEMA_V1
    + """
ALTER TABLE "cases" ADD COLUMN "leaf" TEXT;
ALTER TABLE "cases" ADD COLUMN "hosts" TEXT;
ALTER TABLE "cases" ADD COLUMN "probe_id" INTEGER;
ALTER TABLE "cases" ADD COLUMN "outcome_at" INTEGER;
CREATE TABLE "probes" (
   "id" INTEGER PRIMARY KEY, "ts" INTEGER NOT NULL, "source" TEXT NOT NULL, "host" TEXT NOT NULL,
   "user_hash" TEXT, "healthy" INTEGER, "up" INTEGER, "connect_ms" REAL, "cert_days_left" INTEGER,
   "cert_id" TEXT, "quota_used_pct" REAL, "mx" TEXT, "srv" TEXT, "capabilities" TEXT, "report" TEXT);
CREATE INDEX "probes_host_ts" ON "probes" ("host", "ts");
CREATE INDEX "probes_ts" ON "probes" ("ts");
CREATE TABLE "watch" ("host" TEXT PRIMARY KEY, "added_at" INTEGER, "added_by" TEXT);
"""
)

# Version 3 (0003_weekly_jobs): weekly counts, job claims, one covering index instead of cases_ts.
SCHEMA_V3 = (
    SCHEMA_V2
    + """
CREATE TABLE "weekly_cases" ("week" TEXT, "symptom" TEXT, "protocol" TEXT, "client" TEXT, "cases" INTEGER,
   "solved" INTEGER, "stuck" INTEGER, PRIMARY KEY ("week", "symptom", "protocol", "client"));
CREATE TABLE "weekly_probes" ("week" TEXT, "host" TEXT, "probes" INTEGER, "up" INTEGER, "connect_ms_median" FLOAT,
   "cert_days_min" INTEGER, "quota_max" FLOAT, PRIMARY KEY ("week", "host"));
CREATE TABLE "jobs" ("name" TEXT, "period" TEXT, "status" TEXT, "owner" TEXT, "claimed_at" INTEGER,
   "finished_at" INTEGER, PRIMARY KEY ("name", "period"));
DROP INDEX "cases_ts";
CREATE INDEX "cases_report" ON "cases" ("ts", "symptom", "protocol", "client", "outcome");
"""
)

# Version 4 (0004_hourly_rollup): cases counted per hour, kept by triggers.
_HOURLY_KEY = (
    "hour = old.ts / 3600 AND symptom = old.symptom AND protocol = coalesce(old.protocol, '') AND "
    "client = coalesce(old.client, '') AND outcome = coalesce(old.outcome, '')"
)
_HOURLY_ADD = (
    "INSERT INTO hourly_cases (hour, symptom, protocol, client, outcome, n) VALUES (new.ts / 3600, new.symptom, "
    "coalesce(new.protocol, ''), coalesce(new.client, ''), coalesce(new.outcome, ''), 1) ON CONFLICT (hour, "
    "symptom, protocol, client, outcome) DO UPDATE SET n = n + 1;"
)
SCHEMA_V4 = (
    SCHEMA_V3
    + f"""
CREATE TABLE hourly_cases (hour INTEGER NOT NULL, symptom TEXT NOT NULL, protocol TEXT NOT NULL, client TEXT NOT
   NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (hour, symptom, protocol, client, outcome))
   WITHOUT ROWID;
CREATE TRIGGER cases_hourly_insert AFTER INSERT ON cases BEGIN {_HOURLY_ADD} END;
CREATE TRIGGER cases_hourly_delete AFTER DELETE ON cases BEGIN UPDATE hourly_cases SET n = n - 1 WHERE
   {_HOURLY_KEY}; END;
CREATE TRIGGER cases_hourly_update AFTER UPDATE OF ts, symptom, protocol, client, outcome ON cases BEGIN
   UPDATE hourly_cases SET n = n - 1 WHERE {_HOURLY_KEY}; {_HOURLY_ADD} END;
"""
)


def old_hash(user: str, workspace: str = "T1") -> str:
    return hmac.new(bytes.fromhex(SALT), f"{workspace}\x00{user}".encode(), hashlib.sha256).hexdigest()[:32]


def rows_v1(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO meta VALUES ('salt', ?)", (SALT,))
    conn.executemany(
        "INSERT INTO cases (ts, source, workspace, channel, user_hash, symptom, confidence, client, protocol, "
        "lang, text, password_pasted, outcome) VALUES (?, 'slack', 'T1', 'C1', ?, ?, 0.8, 'iphone', 'imap', "
        "'ja', ?, 0, ?)",
        [(OLD_TS, old_hash("U1"), "auth_failed", "パスワードが違います", "solved"),
         (OLD_TS + 60, old_hash("U2"), "timeout", "タイムアウトしました", None),
         (OLD_TS + 120, old_hash("U1"), "auth_failed", "認証に失敗しました", "stuck")],
    )  # fmt: skip


def rows_v2(conn: sqlite3.Connection) -> None:
    rows_v1(conn)
    conn.execute("UPDATE cases SET leaf = 'retype_once', hosts = '[]'")
    conn.execute(
        "INSERT INTO probes (ts, source, host, healthy, up, connect_ms, cert_days_left, mx, srv, capabilities, "
        "report) VALUES (?, 'watch', 'mail.example.jp', 1, 1, 41.5, 30, '[\"mx.example.jp\"]', '[]', "
        '\'["imaps:OPEN"]\', \'{"host": "mail.example.jp"}\')',
        (OLD_TS,),
    )
    conn.execute("INSERT INTO watch VALUES ('mail.example.jp', ?, NULL)", (OLD_TS,))


def rows_v3(conn: sqlite3.Connection) -> None:
    rows_v2(conn)
    conn.execute(
        "INSERT INTO jobs VALUES ('weekly_report:C1', '2025-W22', 'done', 'old:1', ?, ?)", (OLD_TS, OLD_TS)
    )
    conn.execute("INSERT INTO weekly_cases VALUES ('2024-01-01', 'timeout', '', '', 4, 1, 2)")


def rows_v4(conn: sqlite3.Connection) -> None:
    rows_v3(conn)  # the triggers count these cases into hourly_cases, as version 4 did


OLD_VERSIONS: dict[int, tuple[str, Callable[[sqlite3.Connection], None]]] = {
    1: (SCHEMA_V1, rows_v1),
    2: (SCHEMA_V2, rows_v2),
    3: (SCHEMA_V3, rows_v3),
    4: (SCHEMA_V4, rows_v4),
}


def build_old(path: Path, version: int) -> None:
    """A database exactly as version ``version`` left it: its schema, its migration log, its rows."""
    schema, fill = OLD_VERSIONS[version]
    conn = sqlite3.connect(path)
    conn.executescript(schema)
    conn.executemany(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('mailcheck', ?, '2025-05-01')",
        [(name,) for name in MIGRATION_NAMES[:version]],
    )
    fill(conn)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def test_every_earlier_version_has_a_fixture() -> None:
    """Adding a migration means adding the previous version's frozen schema here."""
    assert sorted(OLD_VERSIONS) == list(range(1, SCHEMA_VERSION))


@pytest.mark.parametrize("version", sorted(OLD_VERSIONS), ids=[f"v{v}" for v in sorted(OLD_VERSIONS)])
def test_old_database_upgrades_in_place_and_keeps_rows(db_path: Path, version: int) -> None:
    """Every row survives; the new columns and tables exist; the version and migration log are current."""
    build_old(db_path, version)
    with Store(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        cases = list(store.export("cases", datetime(2025, 1, 1, tzinfo=UTC)))
        assert [(c["symptom"], c["outcome"], c["text"]) for c in cases] == [
            ("auth_failed", "solved", "パスワードが違います"),
            ("timeout", None, "タイムアウトしました"),
            ("auth_failed", "stuck", "認証に失敗しました"),
        ]
        assert "outcome_at" in cases[0] and "leaf" in cases[0]
        probes = list(store.export("probes", datetime(2025, 1, 1, tzinfo=UTC)))
        assert len(probes) == (1 if version >= 2 else 0)
        assert [e.host for e in store.watch_list()] == (["mail.example.jp"] if version >= 2 else [])
        assert store.job_status("weekly_report:C1", "2025-W22") == ("done" if version >= 3 else None)
        assert len(list(store.export("weekly", datetime(2023, 1, 1, tzinfo=UTC)))) == (
            1 if version >= 3 else 0
        )
        # the hourly counts the report reads were filled from the old rows
        assert store.symptom_counts(datetime(2025, 5, 28, tzinfo=UTC), datetime(2025, 5, 29, tzinfo=UTC)) == {
            "auth_failed": 2, "timeout": 1,
        }  # fmt: skip
        assert store.first_delivery("event:Ev-after-upgrade")  # the delivery log exists after any upgrade
    conn = sqlite3.connect(db_path)
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    conn.close()
    assert applied == list(MIGRATION_NAMES)


@pytest.mark.parametrize("version", sorted(OLD_VERSIONS), ids=[f"v{v}" for v in sorted(OLD_VERSIONS)])
def test_upgraded_database_keeps_its_salt_and_takes_new_rows(db_path: Path, version: int) -> None:
    """Hashes made before the upgrade still match the same user; new diagnoses and outcomes are recorded."""
    build_old(db_path, version)
    with Store(db_path) as store:
        assert store.hash_user("U1", "T1") == old_hash("U1")
        case = store.record_diagnosis(outcome(), source="slack", workspace="T1", user="U1")
        assert store.record_outcome(case, "solved")
        assert store.record_outcome(1, "solved")  # an old row takes the answer too
        assert store.case_count() == 4


def test_empty_file_is_a_fresh_database(db_path: Path) -> None:
    """A zero-byte file (e.g. made by `touch`) becomes a current database."""
    db_path.touch()
    with Store(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.case_count() == 0


def test_reopening_applies_nothing_twice(db_path: Path) -> None:
    """Opening a current database writes no migration again."""
    Store(db_path).close()
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def _open_and_count(path: str) -> int:
    with Store(path) as store:
        return store.case_count()


def test_two_processes_upgrading_at_once_migrate_once(db_path: Path) -> None:
    """Processes opening the same old file together: all succeed, each migration runs exactly once."""
    build_old(db_path, 1)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        counts = pool.map(_open_and_count, [str(db_path)] * 4)
    assert counts == [3, 3, 3, 3]
    conn = sqlite3.connect(db_path)
    names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    conn.close()
    assert names == list(MIGRATION_NAMES)
