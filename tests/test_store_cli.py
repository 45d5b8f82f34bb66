"""The history commands through the real entry point: recording diagnoses and chats, the watch list,
export and purge, on real SQLite files."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.store import Store
from tests.cli_run import run_cli
from tests.storedata import outcome

SINCE = datetime(2000, 1, 1, tzinfo=UTC)
SECRET = "Kq8!vN3xTz"


def cases(db_path: Path) -> list[dict[str, object]]:
    with Store(db_path) as store:
        return list(store.export("cases", SINCE))


def test_diagnose_with_db_records_the_redacted_case(db_path: Path) -> None:
    """`diagnose --db` keeps the case with the password masked; stdout is the same JSON as without."""
    text = f"iPhone: パスワードが正しくありません。パスワードは {SECRET} です"
    result = run_cli("diagnose", "--json", "--db", str(db_path), text)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["symptom"] == "auth_failed"
    (row,) = cases(db_path)
    assert (row["source"], row["symptom"], row["password_pasted"]) == ("cli", "auth_failed", 1)
    assert SECRET not in str(row["text"])


def test_diagnose_records_when_mailcheck_db_is_set(db_path: Path) -> None:
    """MAILCHECK_DB alone turns recording on for diagnose, also for --jsonl (one case per line)."""
    result = run_cli("diagnose", "--jsonl", stdin="Mailbox is full\nconnection timed out\n",
                     env={"MAILCHECK_DB": str(db_path)})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert len(cases(db_path)) == 2


def test_plain_diagnose_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """Without --db or MAILCHECK_DB, diagnose creates no ./mailcheck.db (the run has no side effects)."""
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["diagnose", "--json", "Mailbox is full"]) == 0
    assert json.loads(capsys.readouterr().out)["symptom"] == "mailbox_full"
    assert list(tmp_path.iterdir()) == []


def test_chat_records_each_case_and_the_answer(db_path: Path) -> None:
    """The console chat keeps every diagnosis and the Solved / Still stuck choice."""
    script = "Cannot Get Mail. The connection to the server failed.\n3\nMailbox is full\n4\n"
    result = run_cli("chat", "--db", str(db_path), stdin=script)
    assert result.returncode == 0, result.stderr
    rows = cases(db_path)
    assert [(r["source"], r["outcome"]) for r in rows] == [("console", "solved"), ("console", "stuck")]


def test_chat_records_to_mailcheck_db(db_path: Path) -> None:
    """MAILCHECK_DB is the chat's default history file."""
    result = run_cli("chat", stdin="Mailbox is full\n", env={"MAILCHECK_DB": str(db_path)})
    assert result.returncode == 0, result.stderr
    assert len(cases(db_path)) == 1


def test_chat_runs_on_when_history_cannot_be_saved(tmp_path: Path) -> None:
    """An unusable history file is said once on stderr; the chat still answers."""
    bad = tmp_path / "notes.txt"
    bad.write_text("not sqlite " * 500)
    result = run_cli("chat", "--db", str(bad), stdin="Mailbox is full\n")
    assert result.returncode == 0
    assert "history is not saved" in result.stderr
    assert "容量" in result.stdout or "full" in result.stdout.lower()


def test_watch_add_list_remove(db_path: Path) -> None:
    """Servers are added once (normalised), listed, removed; removing an unknown one exits 1."""
    db = ("--db", str(db_path))
    assert run_cli("watch", "add", "Mail.Example.JP", *db).stdout.strip() == "Mail.Example.JP: added"
    assert "already on the watch list" in run_cli("watch", "add", "mail.example.jp.", *db).stdout
    listed = json.loads(run_cli("watch", "list", "--json", *db).stdout)
    assert [e["host"] for e in listed] == ["mail.example.jp"]
    assert run_cli("watch", "remove", "mail.example.jp", *db).returncode == 0
    missing = run_cli("watch", "remove", "mail.example.jp", *db)
    assert missing.returncode == 1 and "not on the watch list" in missing.stdout
    assert run_cli("watch", "list", *db).stdout == ""


def test_watch_add_rejects_a_bad_name(db_path: Path) -> None:
    """A value that is not a server name: one bilingual Error line, exit 2."""
    result = run_cli("watch", "add", "http://not a host", "--db", str(db_path))
    assert result.returncode == 2
    assert "サーバー名ではありません" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("fmt", ["csv", "json"], ids=["csv", "json"])
def test_export_since_date(db_path: Path, fmt: str) -> None:
    """Rows from --since on, as CSV with a header or a JSON list; users hashed, addresses as domains."""
    with Store(db_path) as store:
        store.record_diagnosis(outcome(addresses=("taro@example.jp",), text="taro@example.jp が受信できない"),
                               source="slack", user="U123", at=datetime(2025, 5, 1, tzinfo=UTC))  # fmt: skip
        store.record_diagnosis(outcome(), source="slack", at=datetime(2025, 6, 1, tzinfo=UTC))
    result = run_cli("export", "--since", "2025-04-30", "--format", fmt, "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout))) if fmt == "csv" else json.loads(result.stdout)
    assert len(rows) == 2
    assert rows[0]["text"] == "*@example.jp が受信できない" and "U123" not in result.stdout
    later = run_cli("export", "--since", "2025-05-15", "--format", fmt, "--db", str(db_path))
    assert "1 cases rows" in later.stderr


def test_export_of_an_empty_table_has_a_header(db_path: Path) -> None:
    """CSV of nothing is still a header line, so a spreadsheet opens it."""
    result = run_cli("export", "--since", "2025-01-01", "--table", "probes", "--db", str(db_path))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("id,ts,source,host")


def test_purge_keeps_weekly_counts(db_path: Path) -> None:
    """`mailcheck purge` removes cases past the retention and says how many; weekly counts remain."""
    with Store(db_path) as store:
        store.record_diagnosis(outcome(), source="slack", at=datetime(2020, 1, 8, tzinfo=UTC))
    result = run_cli("purge", "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("removed 1 cases and 0 probes")
    weekly = run_cli(
        "export", "--since", "2019-12-01", "--table", "weekly", "--format", "json", "--db", str(db_path)
    )
    assert json.loads(weekly.stdout)[0]["cases"] == 1
