"""The bot's memory: one SQLite file (WAL) reached through sqlite-utils. Only this module speaks SQL.

What is kept, and what never is:
- cases: every diagnosis, its symptom, client, protocol, the message text with secrets masked (again,
  here, whatever the caller already did) and e-mail addresses cut down to their domain; the Slack user
  only as an HMAC of the id under a random salt that lives in this database (so the hash means nothing
  outside it); the Solved / Still stuck answer.
- probes: every live probe (watch list or on request) as the probe's JSON plus the facts the weekly
  report compares (reachable, connect time, certificate, quota, MX/SRV, capabilities).
- watch: the company's own mail servers, probed on a schedule.
- weekly_cases / weekly_probes: per-week counts that outlive the retention purge.
- jobs: one row per scheduled job and period, so a weekly post happens once however many processes run.

Concurrency: one connection per thread, a busy timeout, and short ``BEGIN IMMEDIATE`` transactions, so
Slack's handler threads and several processes on one file wait for each other instead of failing.
The schema is created and upgraded in place by versioned migrations (``MIGRATIONS``), never by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlite_utils import Database, Migrations

from bot.model import Check, Diagnosis, ProbeReport, Redaction, Reply
from bot.redact import redact

OUTCOMES = ("solved", "stuck")
EXPORT_TABLES = ("cases", "probes", "weekly")
DEFAULT_RETENTION_DAYS = 400
# The weekly report compares the last two weeks; a purge never takes rows it still needs.
MIN_RETENTION_DAYS = 15
MAX_TEXT_CHARS = 4000
WEEK = timedelta(days=7)
# 1970-01-05 was a Monday: weeks are counted from there (UTC), as ISO weeks are.
_MONDAY_EPOCH = 345_600
_EMAIL = re.compile(r"[^\s@＠<>()\[\]{}\"'「」、。,;:]+[@＠]((?:[\w-]+\.)+[\w-]+)")
_HOST = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)


class Outcome(Protocol):
    """What the store reads from ``bot.triage.Outcome`` (named structurally: the store sits below triage)."""

    @property
    def diagnosis(self) -> Diagnosis: ...
    @property
    def reply(self) -> Reply: ...
    @property
    def redaction(self) -> Redaction: ...
    @property
    def text(self) -> str: ...


class StoreError(Exception):
    """The database cannot be used; the message names the file and what to do."""


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_epoch(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("naive datetime: give a time zone")
    return int(when.timestamp())


def from_epoch(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def week_floor(ts: int) -> int:
    """Start (Monday 00:00 UTC) of the week holding ``ts``."""
    return ts - (ts - _MONDAY_EPOCH) % int(WEEK.total_seconds())


def scrub(text: str) -> str:
    """Secrets masked (again) and every e-mail address cut to its domain: what the store may keep."""
    masked = redact(text).text
    return _EMAIL.sub(lambda m: "*@" + m.group(1), masked)[:MAX_TEXT_CHARS]


def normalise_host(raw: str) -> str:
    """A mail server name as the watch list keeps it: lower case, ASCII (IDN as punycode), no dot at the end.

    An e-mail address is cut to its domain; anything else that is not a host name is a ValueError whose
    message can be shown as it is.
    """
    text = raw.strip().rstrip(".").lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    try:
        ascii_name = text.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    if not _HOST.match(ascii_name) or "." not in ascii_name:
        raise ValueError(
            f"{raw.strip()[:80]!r} はサーバー名ではありません（例: mail.example.co.jp） / "
            "is not a server name (e.g. mail.example.co.jp)"
        )
    return ascii_name


# --- derived facts of one probe ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeFacts:
    """What the weekly report compares between probes of one server."""

    up: bool
    connect_ms: float | None = None
    cert_days_left: int | None = None
    cert_id: str | None = None
    quota_used_pct: float | None = None
    mx: tuple[str, ...] = ()
    srv: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()


def probe_payload(report: ProbeReport) -> dict[str, Any]:
    """The probe's own ``--json`` object: one shape for the CLI, Slack and the database."""
    from bot.probe.report import probe_json

    return dict(probe_json(report))


def derive_facts(report: ProbeReport, payload: dict[str, Any]) -> ProbeFacts:
    """Facts from a probe; the structured ``facts`` block of the probe JSON wins over the check texts."""
    from_checks = _facts_from_checks(report)
    given = payload.get("facts")
    if not isinstance(given, dict):
        return from_checks
    return ProbeFacts(
        up=from_checks.up,
        connect_ms=_num(given.get("connect_ms"), from_checks.connect_ms),
        cert_days_left=_int_or(given.get("cert_days_left"), from_checks.cert_days_left),
        cert_id=str(given["cert_id"]) if given.get("cert_id") else from_checks.cert_id,
        quota_used_pct=_num(given.get("quota_used_pct"), from_checks.quota_used_pct),
        mx=_strings(given.get("mx")) or from_checks.mx,
        srv=_strings(given.get("srv")) or from_checks.srv,
        capabilities=_strings(given.get("capabilities")) or from_checks.capabilities,
    )


def _num(value: object, default: float | None) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _int_or(value: object, default: int | None) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(sorted({str(v) for v in value}))


# The probe's check names are "<kind>:<service>" (tcp:imaps, tls:imap, greeting:pop3s, quota:imaps, dns:mx);
# these patterns read the details it writes (bot/probe/verdict.py, tls.py, dns.py, greeting.py).
_RECEIVE = ("imaps", "imap", "pop3s", "pop3")
_STARTTLS_SERVICES = {"imap": "STARTTLS", "pop3": "STLS"}
_EXPIRES = re.compile(r"expires in (\d+) days?")
_EXPIRED = re.compile(r"expired (\d+) days? ago")
_PERCENT = re.compile(r"\((\d+(?:\.\d+)?)%\)")
_CAPS = re.compile(r"capabilities(?: after TLS)?: ([A-Z0-9 =-]+)")
_DNS_VALUES = re.compile(r"(?:^|; )(?:MX|SRV) [^:]+: ([^;]+)")


def _facts_from_checks(report: ProbeReport) -> ProbeFacts:
    """Facts read from the probe's checks, for probe JSON without a ``facts`` block."""
    by_name = {c.name: c for c in report.checks}
    reached = [s for s in _RECEIVE if _ok(by_name.get(f"greeting:{s}")) or _ok(by_name.get(f"tls:{s}"))]
    connect = [c.ms for s in _RECEIVE if _ok(c := by_name.get(f"tcp:{s}")) and c is not None and c.ms > 0]
    days = [d for s in _RECEIVE if (d := _cert_days(by_name.get(f"tls:{s}"))) is not None]
    quota = [float(m.group(1)) for c in report.checks if c.name.startswith("quota:")
             if (m := _PERCENT.search(c.detail))]  # fmt: skip
    return ProbeFacts(
        up=report.refused is None and bool(reached),
        connect_ms=min(connect) if connect else None,
        cert_days_left=min(days) if days else None,
        quota_used_pct=max(quota) if quota else None,
        mx=_dns_values(by_name.get("dns:mx")),
        srv=_dns_values(by_name.get("dns:srv")),
        capabilities=_capabilities(by_name),
    )


def _ok(check: Check | None) -> bool:
    return check is not None and check.status in ("ok", "warning")


def _cert_days(check: Check | None) -> int | None:
    if check is None:
        return None
    if m := _EXPIRES.search(check.detail):
        return int(m.group(1))
    if m := _EXPIRED.search(check.detail):
        return -int(m.group(1))
    return None


def _dns_values(check: Check | None) -> tuple[str, ...]:
    if check is None or check.status != "ok":
        return ()
    found = {v.strip() for m in _DNS_VALUES.finditer(check.detail) for v in m.group(1).split(",")}
    return tuple(sorted(v for v in found if v))


def _capabilities(by_name: dict[str, Check]) -> tuple[str, ...]:
    """``service:OPEN`` for each receive port that answered, then ``service:CAPABILITY``.

    The OPEN marker lets the report tell "STARTTLS disappeared" from "the port was down this time".
    STARTTLS is read from the TLS check, because a server stops advertising it once TLS is on.
    """
    caps: set[str] = set()
    for service in _RECEIVE:
        greeting, tls = by_name.get(f"greeting:{service}"), by_name.get(f"tls:{service}")
        if not (_ok(greeting) or tls is not None) or (tls is not None and tls.status == "inconclusive"):
            continue  # not reached, or TLS timed out: this probe says nothing about the capabilities
        caps.add(f"{service}:OPEN")
        if greeting is not None and (m := _CAPS.search(greeting.detail)):
            caps.update(f"{service}:{cap}" for cap in m.group(1).split() if cap != "-")
        starttls = _STARTTLS_SERVICES.get(service)
        if starttls and tls is not None and "not offered" not in tls.detail:
            caps.add(f"{service}:{starttls}")
    return tuple(sorted(caps))


# --- rows handed to the summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class CaseGroup:
    """How many cases share one symptom, protocol, client and answer within a period."""

    symptom: str
    protocol: str | None
    client: str | None
    outcome: str | None
    count: int


@dataclass(frozen=True)
class ProbeRow:
    ts: datetime
    host: str
    healthy: bool
    facts: ProbeFacts


@dataclass(frozen=True)
class WatchEntry:
    host: str
    added_at: datetime


@dataclass(frozen=True)
class PurgeResult:
    cases: int
    probes: int
    weeks: int
    cutoff: datetime


# --- schema ------------------------------------------------------------------------------------------

MIGRATIONS = Migrations("mailcheck")
_NAMES: list[str] = []


def _migration(name: str) -> Callable[[Callable[[Database], None]], Callable[[Database], None]]:
    """Register a schema step. Names are permanent: old databases record them as applied."""
    _NAMES.append(name)
    return MIGRATIONS(name=name)


@_migration("0001_cases")
def _m0001_cases(db: Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")
    db.table("meta").insert({"key": "salt", "value": secrets.token_hex(32)})
    db.table("cases").create(
        {
            "id": int, "ts": int, "source": str, "workspace": str, "channel": str, "user_hash": str,
            "symptom": str, "confidence": float, "client": str, "protocol": str, "lang": str,
            "text": str, "password_pasted": int, "outcome": str,
        },
        pk="id",
        not_null={"ts", "source", "symptom"},
    )  # fmt: skip
    db.table("cases").create_index(["ts"], index_name="cases_ts")


@_migration("0002_probes_watch")
def _m0002_probes_watch(db: Database) -> None:
    db.table("probes").create(
        {
            "id": int, "ts": int, "source": str, "host": str, "user_hash": str, "healthy": int,
            "up": int, "connect_ms": float, "cert_days_left": int, "cert_id": str,
            "quota_used_pct": float, "mx": str, "srv": str, "capabilities": str, "report": str,
        },
        pk="id",
        not_null={"ts", "source", "host"},
    )  # fmt: skip
    db.table("probes").create_index(["host", "ts"], index_name="probes_host_ts")
    db.table("probes").create_index(["ts"], index_name="probes_ts")
    db.table("watch").create({"host": str, "added_at": int, "added_by": str}, pk="host")
    for column, kind in (("leaf", str), ("hosts", str), ("probe_id", int), ("outcome_at", int)):
        db.table("cases").add_column(column, kind)


@_migration("0003_weekly_jobs")
def _m0003_weekly_jobs(db: Database) -> None:
    db.table("weekly_cases").create(
        {
            "week": str,
            "symptom": str,
            "protocol": str,
            "client": str,
            "cases": int,
            "solved": int,
            "stuck": int,
        },
        pk=("week", "symptom", "protocol", "client"),
    )
    db.table("weekly_probes").create(
        {"week": str, "host": str, "probes": int, "up": int, "connect_ms_median": float,
         "cert_days_min": int, "quota_max": float},
        pk=("week", "host"),
    )  # fmt: skip
    db.table("jobs").create(
        {"name": str, "period": str, "status": str, "owner": str, "claimed_at": int, "finished_at": int},
        pk=("name", "period"),
    )
    # One covering index answers every weekly-report query by a range scan of the period.
    db.execute("DROP INDEX IF EXISTS cases_ts")
    db.table("cases").create_index(
        ["ts", "symptom", "protocol", "client", "outcome"], index_name="cases_report"
    )


# The key of one group of cases: empty strings stand for "unknown", so the key can be a primary key.
_GROUP = "symptom, coalesce(protocol, ''), coalesce(client, ''), coalesce(outcome, '')"
_HOURLY_KEY = "hour = {r}.ts / 3600 AND symptom = {r}.symptom AND protocol = coalesce({r}.protocol, '') " \
    "AND client = coalesce({r}.client, '') AND outcome = coalesce({r}.outcome, '')"  # fmt: skip
_HOURLY_ADD = (
    "INSERT INTO hourly_cases (hour, symptom, protocol, client, outcome, n) VALUES (new.ts / 3600, "
    "new.symptom, coalesce(new.protocol, ''), coalesce(new.client, ''), coalesce(new.outcome, ''), 1) "
    "ON CONFLICT (hour, symptom, protocol, client, outcome) DO UPDATE SET n = n + 1;"
)
_HOURLY_REMOVE = f"UPDATE hourly_cases SET n = n - 1 WHERE {_HOURLY_KEY.format(r='old')};"


@_migration("0004_hourly_rollup")
def _m0004_hourly_rollup(db: Database) -> None:
    """Cases counted per hour, kept current by triggers: the report reads hours, not a million rows.

    A GROUP BY over half a million cases costs SQLite a sort of all of them (about a second); the same
    counts from the hourly table are a few thousand rows. Triggers keep it exact for every writer,
    including other processes and old code paths, in the same transaction as the case itself.
    """
    db.execute(
        "CREATE TABLE hourly_cases (hour INTEGER NOT NULL, symptom TEXT NOT NULL, protocol TEXT NOT NULL, "
        "client TEXT NOT NULL, outcome TEXT NOT NULL, n INTEGER NOT NULL, "
        "PRIMARY KEY (hour, symptom, protocol, client, outcome)) WITHOUT ROWID"
    )
    db.execute(
        f"INSERT INTO hourly_cases SELECT ts / 3600, {_GROUP}, count(*) FROM cases GROUP BY ts / 3600, {_GROUP}"
    )
    db.execute(f"CREATE TRIGGER cases_hourly_insert AFTER INSERT ON cases BEGIN {_HOURLY_ADD} END")
    db.execute(f"CREATE TRIGGER cases_hourly_delete AFTER DELETE ON cases BEGIN {_HOURLY_REMOVE} END")
    db.execute(
        "CREATE TRIGGER cases_hourly_update AFTER UPDATE OF ts, symptom, protocol, client, outcome ON cases "
        f"BEGIN {_HOURLY_REMOVE} {_HOURLY_ADD} END"
    )


@_migration("0005_deliveries")
def _m0005_deliveries(db: Database) -> None:
    """Slack deliveries already answered, shared by every process on this file and kept across restarts,
    so a retry that arrives after a restart (or at another worker) is still answered once."""
    db.execute("CREATE TABLE deliveries (key TEXT PRIMARY KEY, ts INTEGER NOT NULL) WITHOUT ROWID")
    db.execute("CREATE INDEX deliveries_ts ON deliveries (ts)")


MIGRATION_NAMES = tuple(_NAMES)
DELIVERY_TTL = 3600  # Slack retries within minutes; an hour covers a slow restart too
SCHEMA_VERSION = len(MIGRATION_NAMES)


# --- the store ---------------------------------------------------------------------------------------


class Store:
    """One SQLite file. Safe to share between threads; several processes may open the same file."""

    def __init__(self, path: str | Path, *, clock: Clock = utc_now, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.clock = clock
        self._timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        try:
            self._migrate()
            self._salt = bytes.fromhex(self._meta("salt"))
        except sqlite3.Error as exc:
            self.close()
            raise StoreError(_explain(self.path, exc)) from None
        except StoreError:
            self.close()
            raise

    # connections and transactions

    def _db(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = Database(self._connect())
            self._local.db = db
        return db

    def _connect(self) -> sqlite3.Connection:
        if not self.path.parent.is_dir():
            raise StoreError(f"{self.path}: the folder {self.path.parent} does not exist")
        # isolation_level=None: transactions are ours (BEGIN IMMEDIATE), never the driver's implicit ones.
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            self._connections.append(conn)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL is safe from corruption in WAL mode; a power cut may lose the last moments, not the file.
        conn.execute("PRAGMA synchronous=NORMAL")
        # Deleted text is overwritten, so a purge really removes old messages from the file.
        conn.execute("PRAGMA secure_delete=ON")
        return conn

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """A short write transaction that takes the write lock up front, so it waits instead of failing."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            db.conn.execute("COMMIT")
        except sqlite3.Error as exc:  # locked too long, disk full, file damaged: one clear line
            raise StoreError(_explain(self.path, exc)) from exc

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self._db().execute(sql, params).fetchall())
        except sqlite3.Error as exc:
            raise StoreError(_explain(self.path, exc)) from exc

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # schema

    @property
    def schema_version(self) -> int:
        return int(self._rows("PRAGMA user_version")[0][0])

    def _migrate(self) -> None:
        if self.schema_version == SCHEMA_VERSION:
            return
        with self._write() as db:
            # Re-read under the write lock: another process may have just migrated.
            self._refuse_foreign(db)
            MIGRATIONS.apply(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _refuse_foreign(self, db: Database) -> None:
        """Never reshape a database that is not ours, or one a newer mailcheck wrote."""
        applied = {m.name for m in MIGRATIONS.applied(db)}
        newer = applied - set(MIGRATION_NAMES)
        if newer:
            raise StoreError(
                f"{self.path} was written by a newer mailcheck (migration {sorted(newer)[-1]}); "
                "upgrade mailcheck to use it"
            )
        tables = set(db.table_names()) - {"_sqlite_migrations"}
        if not applied and tables:
            raise StoreError(
                f"{self.path} is another program's database (tables: {', '.join(sorted(tables)[:5])}); "
                "give mailcheck its own file with --db or MAILCHECK_DB"
            )

    def _meta(self, key: str) -> str:
        rows = self._rows("SELECT value FROM meta WHERE key = ?", (key,))
        if not rows:
            raise StoreError(f"{self.path}: the database lacks its {key}; it may be damaged")
        return str(rows[0][0])

    # identities

    def hash_user(self, user: str | None, workspace: str | None = None) -> str | None:
        """HMAC-SHA256 of the user id under this database's salt; the id itself is never stored."""
        if not user:
            return None
        message = f"{workspace or ''}\x00{user}".encode()
        return hmac.new(self._salt, message, hashlib.sha256).hexdigest()[:32]

    def _now(self, at: datetime | None) -> int:
        return to_epoch(at or self.clock())

    # recording

    def first_delivery(self, key: str, *, ttl: int = DELIVERY_TTL, at: datetime | None = None) -> bool:
        """True the first time ``key`` (a Slack event id, a channel+ts) is seen within ``ttl`` seconds,
        across processes and restarts; False for a repeat. Old keys are dropped as new ones arrive."""
        now = to_epoch(at or datetime.now(UTC))
        with self._write() as db:
            db.execute("DELETE FROM deliveries WHERE ts < ?", (now - ttl,))
            cursor = db.execute("INSERT OR IGNORE INTO deliveries (key, ts) VALUES (?, ?)", (key[:200], now))
            return cursor.rowcount == 1

    def record_diagnosis(
        self,
        outcome: Outcome,
        *,
        source: str,
        workspace: str | None = None,
        channel: str | None = None,
        user: str | None = None,
        at: datetime | None = None,
    ) -> int:
        """Keep one diagnosis (and its probe, when one ran); returns the case id for the outcome buttons."""
        row = self._case_row(outcome, source=source, workspace=workspace, channel=channel, user=user, at=at)
        probe = outcome.diagnosis.probe
        with self._write() as db:
            if probe is not None:
                row["probe_id"] = self._insert_probe(db, probe, source=source, user_hash=row["user_hash"],
                                                     ts=row["ts"])  # fmt: skip
            return _inserted(db.table("cases").insert(row).last_rowid)

    def _case_row(self, outcome: Outcome, *, source: str, workspace: str | None, channel: str | None,
                  user: str | None, at: datetime | None) -> dict[str, Any]:  # fmt: skip
        d = outcome.diagnosis
        entities = d.match.entities
        hosts = sorted({*entities.hosts, *(a.rsplit("@", 1)[-1] for a in entities.addresses)})
        return {
            "ts": self._now(at),
            "source": _label(source),
            "workspace": _label(workspace) if workspace else None,
            "channel": _label(channel) if channel else None,
            "user_hash": self.hash_user(user, workspace),
            "symptom": d.symptom.id,
            "confidence": round(float(d.confidence), 4),
            "client": entities.client,
            "protocol": entities.protocol,
            "lang": outcome.reply.lang,
            "text": scrub(outcome.text),
            "password_pasted": int(d.password_pasted or outcome.redaction.password_pasted),
            "outcome": None,
            "leaf": d.leaf.id,
            "hosts": json.dumps([scrub(h) for h in hosts], ensure_ascii=False),
            "probe_id": None,
            "outcome_at": None,
        }

    def record_outcome(self, case_id: int, outcome: str, *, at: datetime | None = None) -> bool:
        """The Solved / Still stuck answer; the last press wins. False when the case is unknown (purged)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        with self._write() as db:
            cursor = db.execute(
                "UPDATE cases SET outcome = ?, outcome_at = ? WHERE id = ?", (outcome, self._now(at), case_id)
            )
            return cursor.rowcount == 1

    def record_step(self, case_id: int, outcome: Outcome) -> bool:
        """After an answer in the tree: the case now ends at another leaf (same symptom, same case)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE cases SET leaf = ?, symptom = ? WHERE id = ?",
                (outcome.diagnosis.leaf.id, outcome.diagnosis.symptom.id, case_id),
            )
            return cursor.rowcount == 1

    def record_probe(
        self, report: ProbeReport, *, source: str, user: str | None = None, at: datetime | None = None
    ) -> int:
        """Keep one probe with the facts the weekly report compares; returns its id."""
        with self._write() as db:
            return self._insert_probe(
                db, report, source=source, user_hash=self.hash_user(user), ts=self._now(at)
            )

    def _insert_probe(self, db: Database, report: ProbeReport, *, source: str, user_hash: str | None,
                      ts: int) -> int:  # fmt: skip
        payload = probe_payload(report)
        facts = derive_facts(report, payload)
        row = {
            "ts": ts,
            "source": _label(source),
            "host": report.host.lower()[:253],
            "user_hash": user_hash,
            "healthy": int(report.healthy),
            "up": int(facts.up),
            "connect_ms": facts.connect_ms,
            "cert_days_left": facts.cert_days_left,
            "cert_id": facts.cert_id,
            "quota_used_pct": facts.quota_used_pct,
            "mx": json.dumps(facts.mx),
            "srv": json.dumps(facts.srv),
            "capabilities": json.dumps(facts.capabilities),
            # A probe never carries a password, but the JSON goes through the same mask on principle.
            "report": redact(json.dumps(payload, ensure_ascii=False, default=str)).text,
        }
        return _inserted(db.table("probes").insert(row).last_rowid)

    # watch list

    def watch_add(self, host: str, *, user: str | None = None, at: datetime | None = None) -> bool:
        """Add a server (normalised); False when it was already on the list. ValueError for a bad name."""
        name = normalise_host(host)
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO watch (host, added_at, added_by) VALUES (?, ?, ?)",
                (name, self._now(at), self.hash_user(user)),
            )
            return cursor.rowcount == 1

    def watch_remove(self, host: str) -> bool:
        try:
            name = normalise_host(host)
        except ValueError:
            return False
        with self._write() as db:
            return db.execute("DELETE FROM watch WHERE host = ?", (name,)).rowcount == 1

    def watch_list(self) -> list[WatchEntry]:
        rows = self._rows("SELECT host, added_at FROM watch ORDER BY host")
        return [WatchEntry(host, from_epoch(added)) for host, added in rows]

    # reading for the weekly report

    def case_groups(self, start: datetime, end: datetime) -> list[CaseGroup]:
        """Cases in [start, end) counted per symptom, protocol, client and answer."""
        counts = self._counted(to_epoch(start), to_epoch(end), _GROUP, 4)
        groups = sorted((key, n) for key, n in counts.items() if n)
        return [CaseGroup(s, p or None, c or None, o or None, n) for (s, p, c, o), n in groups]

    def symptom_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        counts = self._counted(to_epoch(start), to_epoch(end), "symptom", 1)
        return {str(key[0]): n for key, n in counts.items() if n}

    def _counted(self, start: int, end: int, columns: str, width: int) -> Counter[tuple[Any, ...]]:
        """Exact counts for [start, end): whole hours from ``hourly_cases``, the partial hours at either
        end from ``cases`` itself (an index range of under an hour each)."""
        first, last = -(-start // 3600), end // 3600  # the whole hours inside the range
        counts: Counter[tuple[Any, ...]] = Counter()
        if first >= last:
            edges = [(start, end)]
        else:
            edges = [(start, first * 3600), (last * 3600, end)]
            sql = (
                f"SELECT {columns}, sum(n) FROM hourly_cases WHERE hour >= ? AND hour < ? GROUP BY {columns}"
            )
            for row in self._rows(sql, (first, last)):
                counts[tuple(row[:width])] += int(row[width])
        raw = columns if width == 1 else _GROUP
        for a, b in edges:
            if a < b:
                sql = f"SELECT {raw}, count(*) FROM cases WHERE ts >= ? AND ts < ? GROUP BY {raw}"
                for row in self._rows(sql, (a, b)):
                    counts[tuple(row[:width])] += int(row[width])
        return counts

    def probes_of(self, host: str, start: datetime, end: datetime) -> list[ProbeRow]:
        """Probes of one server in [start, end), oldest first."""
        rows = self._rows(
            f"SELECT {_PROBE_COLUMNS} FROM probes WHERE host = ? AND ts >= ? AND ts < ? ORDER BY ts, id",
            (host, to_epoch(start), to_epoch(end)),
        )
        return [_probe_row(r) for r in rows]

    def last_probe_before(self, host: str, end: datetime) -> ProbeRow | None:
        rows = self._rows(
            f"SELECT {_PROBE_COLUMNS} FROM probes WHERE host = ? AND ts < ? ORDER BY ts DESC, id DESC LIMIT 1",
            (host, to_epoch(end)),
        )
        return _probe_row(rows[0]) if rows else None

    def probed_hosts(self, start: datetime, end: datetime, source: str = "watch") -> list[str]:
        """Servers probed by ``source`` in the period (a server removed from the list still shows)."""
        rows = self._rows(
            "SELECT DISTINCT host FROM probes WHERE source = ? AND ts >= ? AND ts < ? ORDER BY host",
            (source, to_epoch(start), to_epoch(end)),
        )
        return [str(r[0]) for r in rows]

    def case_count(self) -> int:
        return int(self._rows("SELECT count(*) FROM cases")[0][0])

    # job claims (the scheduler's "exactly once")

    def claim(self, name: str, period: str, *, owner: str, lease: timedelta, retry_after: timedelta,
              at: datetime | None = None) -> bool:  # fmt: skip
        """Take the job for this period. True for exactly one caller across threads and processes.

        A claim whose owner died (older than ``lease``) or that failed (older than ``retry_after``) may be
        taken over; a finished one never.
        """
        now = self._now(at)
        with self._write() as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO jobs (name, period, status, owner, claimed_at) VALUES (?, ?, 'claimed', ?, ?)",
                (name, period, owner, now),
            ).rowcount
            if inserted == 1:
                return True
            taken = db.execute(
                "UPDATE jobs SET status = 'claimed', owner = ?, claimed_at = ? WHERE name = ? AND period = ? "
                "AND ((status = 'claimed' AND claimed_at < ?) OR (status = 'failed' AND claimed_at <= ?))",
                (
                    owner,
                    now,
                    name,
                    period,
                    now - int(lease.total_seconds()),
                    now - int(retry_after.total_seconds()),
                ),
            ).rowcount
            return bool(taken == 1)

    def finish(self, name: str, period: str, *, owner: str, ok: bool, at: datetime | None = None) -> None:
        status = "done" if ok else "failed"
        with self._write() as db:
            db.execute(
                "UPDATE jobs SET status = ?, finished_at = ? WHERE name = ? AND period = ? AND owner = ?",
                (status, self._now(at), name, period, owner),
            )

    def job_status(self, name: str, period: str) -> str | None:
        rows = self._rows("SELECT status FROM jobs WHERE name = ? AND period = ?", (name, period))
        return str(rows[0][0]) if rows else None

    # export and retention

    def columns(self, table: str) -> list[str]:
        """The columns ``export(table, …)`` yields, in order (for a CSV header even when no row matches)."""
        if table not in EXPORT_TABLES:
            raise ValueError(f"table must be one of {', '.join(EXPORT_TABLES)}, not {table!r}")
        return [c.name for c in self._db().table("weekly_cases" if table == "weekly" else table).columns]

    def export(self, table: str, since: datetime, until: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Rows of ``cases``, ``probes`` or ``weekly`` from ``since``, times as ISO 8601 (UTC)."""
        if table not in EXPORT_TABLES:
            raise ValueError(f"table must be one of {', '.join(EXPORT_TABLES)}, not {table!r}")
        end = to_epoch(until) if until else 2**62
        if table == "weekly":
            week = from_epoch(week_floor(to_epoch(since))).date().isoformat()
            sql = "SELECT * FROM weekly_cases WHERE week >= ? ORDER BY week, symptom, protocol, client"
            yield from self._db().query(sql, (week,))
            return
        sql = f"SELECT * FROM {table} WHERE ts >= ? AND ts < ? ORDER BY ts, id"
        for row in self._db().query(sql, (to_epoch(since), end)):
            for key in ("ts", "outcome_at", "added_at"):
                if isinstance(row.get(key), int):
                    row[key] = from_epoch(row[key]).isoformat()
            yield row

    def purge(
        self, retention_days: int = DEFAULT_RETENTION_DAYS, *, now: datetime | None = None
    ) -> PurgeResult:
        """Delete cases and probes older than the retention, one week per short transaction.

        Whole weeks only: each week is counted into ``weekly_cases``/``weekly_probes`` and deleted in the same
        transaction, so the long-term counts survive and nothing is counted twice.
        """
        days = max(retention_days, MIN_RETENTION_DAYS)
        cutoff = week_floor(self._now(now) - days * 86_400)
        totals = [0, 0, 0]
        while (week := self._oldest_week(cutoff)) is not None:
            with self._write() as db:
                cases, probes = _purge_week(db, week, min(week + int(WEEK.total_seconds()), cutoff))
            totals[0] += cases
            totals[1] += probes
            totals[2] += 1
        return PurgeResult(totals[0], totals[1], totals[2], from_epoch(cutoff))

    def _oldest_week(self, cutoff: int) -> int | None:
        rows = self._rows(
            "SELECT min(t) FROM (SELECT min(ts) AS t FROM cases UNION ALL SELECT min(ts) FROM probes)"
        )
        oldest = rows[0][0]
        return week_floor(int(oldest)) if oldest is not None and oldest < cutoff else None


_PROBE_COLUMNS = (
    "ts, host, healthy, up, connect_ms, cert_days_left, cert_id, quota_used_pct, mx, srv, capabilities"
)


def _probe_row(row: tuple[Any, ...]) -> ProbeRow:
    ts, host, healthy, up, ms, days, cert_id, quota, mx, srv, caps = row
    facts = ProbeFacts(
        up=bool(up),
        connect_ms=ms,
        cert_days_left=days,
        cert_id=cert_id,
        quota_used_pct=quota,
        mx=tuple(json.loads(mx or "[]")),
        srv=tuple(json.loads(srv or "[]")),
        capabilities=tuple(json.loads(caps or "[]")),
    )
    return ProbeRow(from_epoch(ts), host, bool(healthy), facts)


def _purge_week(db: Database, start: int, end: int) -> tuple[int, int]:
    week = from_epoch(start).date().isoformat()
    db.execute(
        "INSERT INTO weekly_cases (week, symptom, protocol, client, cases, solved, stuck) "
        "SELECT ?, symptom, coalesce(protocol, ''), coalesce(client, ''), count(*), "
        "sum(outcome = 'solved'), sum(outcome = 'stuck') FROM cases WHERE ts >= ? AND ts < ? "
        "GROUP BY symptom, coalesce(protocol, ''), coalesce(client, '') "
        "ON CONFLICT (week, symptom, protocol, client) DO UPDATE SET cases = cases + excluded.cases, "
        "solved = solved + excluded.solved, stuck = stuck + excluded.stuck",
        (week, start, end),
    )
    for host, probes, up, cert_min, quota_max in db.execute(
        "SELECT host, count(*), sum(up), min(cert_days_left), max(quota_used_pct) FROM probes "
        "WHERE ts >= ? AND ts < ? GROUP BY host",
        (start, end),
    ).fetchall():
        times = [r[0] for r in db.execute(
            "SELECT connect_ms FROM probes WHERE host = ? AND ts >= ? AND ts < ? AND connect_ms IS NOT NULL "
            "ORDER BY connect_ms", (host, start, end)).fetchall()]  # fmt: skip
        median = times[len(times) // 2] if times else None
        db.execute(
            "INSERT INTO weekly_probes (week, host, probes, up, connect_ms_median, cert_days_min, quota_max) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (week, host) DO UPDATE SET probes = probes + excluded.probes, "
            "up = up + excluded.up, cert_days_min = min(coalesce(cert_days_min, excluded.cert_days_min), "
            "coalesce(excluded.cert_days_min, cert_days_min)), quota_max = max(coalesce(quota_max, 0), "
            "coalesce(excluded.quota_max, 0))",
            (week, host, probes, up, median, cert_min, quota_max),
        )
    cases = db.execute("DELETE FROM cases WHERE ts >= ? AND ts < ?", (start, end)).rowcount
    db.execute(
        "DELETE FROM hourly_cases WHERE hour >= ? AND hour < ? AND n <= 0", (start // 3600, end // 3600)
    )
    probes_deleted = db.execute("DELETE FROM probes WHERE ts >= ? AND ts < ?", (start, end)).rowcount
    return int(cases), int(probes_deleted)


def _inserted(rowid: int | None) -> int:
    if rowid is None:  # sqlite-utils always sets it after a one-row insert
        raise StoreError("the database did not return the new row's id")
    return rowid


def _label(value: str) -> str:
    """Sources, workspaces and channels are ids: short, one line, no secrets."""
    return scrub(" ".join(str(value).split()))[:80]


def _explain(path: Path, exc: sqlite3.Error) -> str:
    message = str(exc)
    if "not a database" in message or "malformed" in message:
        return f"{path} is not a mailcheck database (SQLite: {message}); give another file with --db"
    if "unable to open" in message or "readonly" in message:
        return f"cannot open {path} for writing (SQLite: {message}); check the folder and its permissions"
    if "locked" in message:
        return f"{path} stayed locked by another program (SQLite: {message}); try again"
    return f"{path}: SQLite error: {message}"
