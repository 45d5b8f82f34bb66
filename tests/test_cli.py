"""The `mailcheck` command as a user runs it: exit codes, JSON contract, bad input, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_run import run_cli
from tests.knowledge_factory import write_minimal_knowledge

JSON_FIELDS = {"symptom", "confidence", "candidates", "lang", "client", "protocol", "entities", "reply"}


def test_version_and_help() -> None:
    """--version prints the version; --help works on every command."""
    assert run_cli("--version").stdout.startswith("mailcheck ")
    for command in (["--help"], ["diagnose", "--help"], ["knowledge", "--help"], ["knowledge", "check", "--help"],
                    ["chat", "--help"]):  # fmt: skip
        result = run_cli(*command)
        assert result.returncode == 0, result.stderr
        assert "usage:" in result.stdout


def test_diagnose_json_contract() -> None:
    """--json prints one object with the documented fields."""
    result = run_cli("diagnose", "--json", "iPhoneで「IMAPアカウントのパスワードが正しくありません」と出ます")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= JSON_FIELDS
    assert data["symptom"] == "auth_failed"
    assert data["lang"] == "ja"
    assert data["client"] == "iphone"
    assert {"checklist", "donts", "escalation"} <= set(data["reply"])
    assert 0 < data["confidence"] <= 1
    assert data["candidates"][0] == {"symptom": "auth_failed", "score": data["confidence"]}


def test_diagnose_reads_stdin_and_forces_language() -> None:
    """No TEXT: the message comes from standard input; --lang en answers in English."""
    result = run_cli("diagnose", "--lang", "en", stdin="Outlook 0x800CCC0E で送受信できません")
    assert result.returncode == 0, result.stderr
    assert "What to do:" in result.stdout


def test_jsonl_one_object_per_line() -> None:
    """--jsonl keeps one output line per input line, in order, for bulk triage."""
    lines = ["0x800CCC0E", "", "IMAPアカウントのパスワードが正しくありません", "\x00\x01\x02"]
    result = run_cli("diagnose", "--jsonl", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["line"] for o in objects] == [1, 2, 3, 4]
    assert objects[1]["symptom"] == "unknown"
    assert objects[2]["symptom"] == "auth_failed"


BAD_INPUTS = [
    ("only emoji", "😀😀😀", 0),
    ("binary", b"\xff\xfe\x00\x81garbage\x00", 0),
    ("one megabyte", "メール " * 200_000, 0),
    ("mixed scripts", "Привет 你好 مرحبا こんにちは hello", 0),
    ("hostile", "<script>alert(1)</script>'; DROP TABLE cases; --", 0),
    ("empty", "", 2),
    ("whitespace", "   \n  ", 2),
]


@pytest.mark.parametrize(("data", "code"), [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_gets_clear_answer(data: str | bytes, code: int) -> None:
    """Odd input gives a reply or one clear error line, the documented exit code, and no traceback."""
    result = run_cli("diagnose", stdin=data)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    if code == 0:
        assert result.stdout.strip()
    else:
        assert result.stderr.startswith("Error: ")


def test_wrong_usage_exits_2() -> None:
    """Unknown options and commands exit 2 with usage."""
    assert run_cli("diagnose", "--nope").returncode == 2
    assert run_cli("frobnicate").returncode == 2
    assert run_cli("diagnose", "--lang", "fr", "x").returncode == 2


def test_knowledge_check_real_folder_is_clean() -> None:
    """The shipped knowledge folder validates."""
    result = run_cli("knowledge", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 14 symptoms")


def test_knowledge_check_reports_and_bot_refuses(tmp_path: Path) -> None:
    """A broken folder: check prints file:line and exits 1; diagnose refuses to run and says why."""
    folder = write_minimal_knowledge(tmp_path / "knowledge")
    path = folder / "symptoms" / "timeout.yml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("yes: leaf_yes", "yes: missing_leaf"), encoding="utf-8"
    )
    check = run_cli("knowledge", "check", str(folder))
    assert check.returncode == 1
    assert "symptoms/timeout.yml:" in check.stdout and "unknown node 'missing_leaf'" in check.stdout
    refused = run_cli("diagnose", "x", env={"MAILCHECK_KNOWLEDGE": str(folder)})
    assert refused.returncode == 2
    assert "unknown node 'missing_leaf'" in refused.stderr


def test_malformed_setting_is_one_line() -> None:
    """A malformed environment variable gives one clear line and exit 2."""
    result = run_cli("diagnose", "x", env={"MAILCHECK_PROBE_ALLOW": "not-a-cidr"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "MAILCHECK_PROBE_ALLOW" in result.stderr


def test_password_never_echoed() -> None:
    """A pasted password is hidden in the reply and the user is told to change it."""
    result = run_cli("diagnose", "--json", "受信できません。パスワードは Himitsu2024 です")
    data = json.loads(result.stdout)
    assert "Himitsu2024" not in result.stdout + result.stderr
    assert data["password_pasted"] is True
    assert "変更" in " ".join(data["reply"]["warnings"])
