"""Real result objects for the store, summary and scheduler tests (no mocks: the shared frozen types).

``outcome()`` builds the Outcome that ``Triage.handle`` would return for a chosen symptom, so a test can
place exact numbers in a real SQLite file without depending on how the classifier scores today's
knowledge. ``probe()`` builds a ProbeReport whose JSON carries the ``facts`` block the store derives from.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.model import (
    Candidate,
    Check,
    Diagnosis,
    Entities,
    Escalation,
    Finding,
    Match,
    Node,
    ProbeReport,
    Redaction,
    Reply,
    Symptom,
    Text,
)
from bot.redact import redact
from bot.triage import Outcome

# Monday 2025-06-02 00:00 Asia/Tokyo: the `--now` of the fixed-data report.
NOW = datetime(2025, 6, 1, 15, 0, tzinfo=UTC)


def outcome(
    symptom: str = "auth_failed",
    text: str = "パスワードが正しくありません",
    *,
    client: str | None = "iphone",
    protocol: str | None = "imap",
    lang: str = "ja",
    confidence: float = 0.9,
    addresses: tuple[str, ...] = (),
    probe: ProbeReport | None = None,
) -> Outcome:
    """The Outcome of one diagnosed message; ``text`` goes through the real redaction first."""
    redaction: Redaction = redact(text)
    leaf = Node(
        id="leaf",
        title=Text("題", "Title"),
        checklist=(Text("確認する", "Check"),),
        donts=(Text("しない", "Do not"),),
        escalation=Escalation("provider", Text("いつ", "When")),
    )
    found = Symptom(
        id=symptom,
        title=Text(symptom, symptom),
        summary=Text("要約", "Summary"),
        evidence=(),
        probe_checks=(),
        start="leaf",
        nodes={"leaf": leaf},
    )
    entities = Entities(client=client, protocol=protocol, addresses=addresses)
    match = Match(lang, entities, (Candidate(symptom, confidence),), redaction.text)  # type: ignore[arg-type]
    diagnosis = Diagnosis(
        found, match, confidence, (), leaf, None, probe=probe, password_pasted=redaction.password_pasted
    )
    reply = Reply(lang, symptom, "Title", "Summary", ("Check",), ("Do not",), "When")  # type: ignore[arg-type]
    return Outcome(diagnosis, reply, redaction)


def probe(
    host: str = "mail.example.jp",
    *,
    up: bool = True,
    connect_ms: float = 40.0,
    cert_days: int | None = 60,
    mx: tuple[str, ...] = (),
    srv: tuple[str, ...] = (),
    starttls: bool = True,
    quota_pct: int | None = None,
) -> ProbeReport:
    """A probe report with the check names and detail texts bot.probe writes (verdict.py, tls.py, dns.py)."""
    checks = [Check("dns:address", "ok", f"A {host}: 192.0.2.1", 3.0)]
    domain = host.split(".", 1)[1]
    if mx:
        checks.append(Check("dns:mx", "ok", f"MX {domain}: {', '.join(mx)}", 2.0))
    if srv:
        checks.append(Check("dns:srv", "ok", f"SRV _imaps._tcp.{domain}: {', '.join(srv)}", 2.0))
    if not up:
        checks += [
            Check("tcp:imaps", "failed", "port 993: timed out"),
            Check("tcp:imap", "failed", "port 143: timed out"),
        ]
        findings = (Finding("cannot_connect", "error", Text("接続できません", "Cannot connect")),)
        return ProbeReport(host, tuple(checks), findings, ms=3000.0)
    expiry = (
        f"expires in {cert_days} days"
        if cert_days is not None and cert_days >= 0
        else f"expired {-(cert_days or 0)} days ago"
    )
    tls = f"TLSv1.3, certificate for {host}, issued by Test CA, {expiry}, trusted"
    checks += [
        Check("tcp:imaps", "ok", "port 993: open", connect_ms),
        Check("tls:imaps", "ok", tls, 12.0),
        Check("greeting:imaps", "ok", "* OK Dovecot ready.; capabilities: RESP-CODES QUOTA; login: PLAIN", 5.0),
        Check("tcp:imap", "ok", "port 143: open", connect_ms + 1),
        Check("greeting:imap", "ok", "* OK Dovecot ready.; capabilities after TLS: RESP-CODES; login: PLAIN"
              if starttls else "* OK Dovecot ready.; capabilities: -; login: PLAIN; login allowed without encryption", 5.0),
        Check("tls:imap", "ok" if starttls else "failed",
              tls if starttls else "STARTTLS not offered: passwords would travel unencrypted", 11.0),
    ]  # fmt: skip
    if quota_pct is not None:
        checks.append(Check("quota:imaps", "ok", f"{quota_pct * 10} of 1000 KB used ({quota_pct:.0f}%)"))
    return ProbeReport(host, tuple(checks), (), ms=connect_ms + 30)


def at(days: float, base: datetime = NOW) -> datetime:
    """``days`` before the report's now (positive = in the past)."""
    return base - timedelta(days=days)
