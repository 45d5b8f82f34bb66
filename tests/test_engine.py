"""Ranking and tree walking on a small knowledge folder, independent of the real content."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import load
from bot.model import Check, Finding, ProbeReport, Text
from bot.render import to_text
from bot.triage import Triage
from tests.knowledge_factory import write_minimal_knowledge


@pytest.fixture
def triage(tmp_path: Path) -> Triage:
    return Triage(load(write_minimal_knowledge(tmp_path / "k")))


def test_phrase_pattern_and_code_each_rank(triage: Triage) -> None:
    """A phrase, a regex and an error code each lead to their own symptom."""
    assert triage.handle("we see timeout-phrase here").diagnosis.symptom.id == "timeout"
    assert triage.handle("oh mailbox_full-patttttern").diagnosis.symptom.id == "mailbox_full"
    assert triage.handle("server said [ACCOUNTLOCKED]").diagnosis.symptom.id == "account_locked"


def test_more_evidence_wins_and_candidates_are_ranked(triage: Triage) -> None:
    """Two hits beat one; every matching symptom is listed with a score, best first."""
    match = triage.handle("timeout-phrase and timeout-pattern, also auth_failed-phrase").diagnosis.match
    assert [c.symptom for c in match.candidates] == ["timeout", "auth_failed"]
    assert match.candidates[0].score > match.candidates[1].score > 0


def test_nothing_matched_is_unknown_with_clarifying_question(triage: Triage) -> None:
    """No evidence: answer `unknown` and ask the clarifying question instead of guessing."""
    outcome = triage.handle("こんにちは")
    assert outcome.diagnosis.symptom.id == "unknown"
    assert outcome.reply.question == "どのアプリで、どんな文面が出ていますか？"
    assert outcome.as_json()["reply"]["question"]  # type: ignore[index]


def test_default_branch_and_pending_question(triage: Triage) -> None:
    """Without an answer the default branch is taken and its question offered next."""
    d = triage.handle("timeout-phrase").diagnosis
    assert d.leaf.id == "leaf_no"
    assert d.question is not None and d.question.id == "q1"
    assert [(s.node, s.answer, s.how) for s in d.path] == [("q1", "no", "default")]


def test_message_answers_the_question(triage: Triage) -> None:
    """auto_yes {protocol: pop3}: a message naming POP goes down the yes branch without asking."""
    d = triage.handle("timeout-phrase on POP3").diagnosis
    assert d.leaf.id == "leaf_yes"
    assert d.question is None
    assert d.path[0].how == "auto"


def test_person_answer_overrides(triage: Triage) -> None:
    """A button press (user answer) beats both the message and the default."""
    d = triage.handle("timeout-phrase on POP3", answers={"q1": "no"}).diagnosis
    assert (d.leaf.id, d.path[0].how) == ("leaf_no", "user")


def test_reply_language_follows_message_or_flag(triage: Triage) -> None:
    """Japanese message → Japanese reply; --lang forces it."""
    assert triage.handle("timeout-phrase です").reply.lang == "ja"
    assert triage.handle("timeout-phrase here").reply.lang == "en"
    assert triage.handle("timeout-phrase です", lang="en").reply.checklist == ("Step two",)


def test_probe_error_outranks_vague_message(triage: Triage) -> None:
    """An expired certificate found by the probe beats a generic 'cannot connect' message."""
    report = ProbeReport(
        host="mail.example.jp",
        checks=(Check("tls:993", "failed", "certificate expired", 3.0),),
        findings=(Finding("tls_certificate", "error", Text("証明書が期限切れ", "certificate expired")),),
    )
    outcome = triage.handle("cannot_connect-phrase mail.example.jp", probe=lambda host: report)
    assert outcome.diagnosis.symptom.id == "tls_certificate"
    assert outcome.diagnosis.probe is report


def test_probe_called_with_host_from_message(triage: Triage) -> None:
    """The probe target is the named server, else the domain of the address."""
    seen: list[str] = []

    def probe(host: str) -> ProbeReport:
        seen.append(host)
        return ProbeReport(host, (), ())

    triage.handle("timeout-phrase imap.example.jp", probe=probe)
    triage.handle("timeout-phrase for taro@example.co.jp", probe=probe)
    triage.handle("timeout-phrase", probe=probe)
    assert seen == ["imap.example.jp", "example.co.jp"]


def test_pasted_password_is_flagged_and_not_in_reply(triage: Triage) -> None:
    """The reply warns about the password and never contains it."""
    outcome = triage.handle("timeout-phrase パスワードは Secret123 です")
    assert outcome.redaction.password_pasted
    assert "Secret123" not in to_text(outcome)
    assert "Secret123" not in str(outcome.as_json())
    assert "パスワード" in outcome.reply.warnings[0]


def test_english_message_with_password_answers_in_english(triage: Triage) -> None:
    """The bilingual mask does not make an English message look Japanese."""
    outcome = triage.handle("Cannot get mail timeout-phrase, my password: hunter2xyz")
    assert outcome.reply.lang == "en"
    assert "hunter2xyz" not in outcome.text
