"""From facts to checks and findings, for situations a real server rarely shows on demand
(a certificate about to expire, a step cut off by the deadline, SERVFAIL, a full mailbox)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.model import SYMPTOM_IDS
from bot.probe import verdict
from bot.probe.auth import AuthResult
from bot.probe.dns import Lookup
from bot.probe.endpoint import Endpoint, EndpointResult
from bot.probe.greeting import Greeting
from bot.probe.policy import parse_target
from bot.probe.tcp import Connect
from bot.probe.tls import CertInfo, TlsResult

NOW = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
HOST = "mail.example.jp"
ADDR = ("192.0.2.10",)
LOOKUPS = (Lookup(HOST, "A", "ok", ADDR), Lookup(HOST, "AAAA", "nodata"))


def cert(days_left: int) -> CertInfo:
    return CertInfo(
        HOST, "Example CA", (HOST,), NOW - dt.timedelta(days=80), NOW + dt.timedelta(days=days_left), False
    )


def good_tls(days_left: int = 60) -> TlsResult:
    return TlsResult(True, "TLSv1.3", cert(days_left), True, True, days_left)


def endpoint(service: str, port: int) -> Endpoint:
    return Endpoint(service, HOST, ADDR, port)


def opened(service: str, port: int, **changes: object) -> EndpointResult:
    """An endpoint that connected; greeting and TLS as given."""
    protocol = "pop3" if service.startswith("pop3") else "imap"
    base: dict[str, object] = {
        "connect": Connect("open", port, ADDR[0], 1.0),
        "greeting": Greeting(protocol, "ok", "* OK ready"),
    }  # type: ignore[arg-type]
    base.update(changes)
    return EndpointResult(endpoint(service, port), **base)  # type: ignore[arg-type]


def refused(service: str, port: int) -> EndpointResult:
    return EndpointResult(endpoint(service, port), connect=Connect("refused", port, ADDR[0]))


def facts(
    *endpoints: EndpointResult, auth: AuthResult | None = None, lookups: tuple[Lookup, ...] = LOOKUPS
) -> verdict.Facts:
    host = HOST if any(lk.values for lk in lookups) else None
    return verdict.Facts(parse_target(HOST), host, lookups, endpoints, auth, timeout=3.0)


def serious(f: verdict.Facts) -> list[tuple[str, str]]:
    return [(x.symptom, x.severity) for x in verdict.findings(f) if x.severity != "info"]


def test_certificate_expiring_soon_is_a_check_warning_but_only_information() -> None:
    """5 days left on a working server: the TLS check warns, the finding is info (the server is healthy)."""
    f = facts(opened("imaps", 993, tls=good_tls(5)), refused("pop3s", 995))
    statuses = {c.name: c.status for c in verdict.checks(f)}
    assert statuses["tls:imaps"] == "warning"
    assert serious(f) == []
    soon = next(x for x in verdict.findings(f) if x.symptom == "tls_certificate")
    assert soon.severity == "info" and "あと5日" in soon.message.ja


def test_step_cut_off_by_the_deadline_is_inconclusive() -> None:
    """A greeting still pending at the deadline: inconclusive check, a timeout warning, never a failure."""
    f = facts(
        EndpointResult(endpoint("imaps", 993), Connect("open", 993, ADDR[0]), good_tls(), pending="greeting")
    )
    check = next(c for c in verdict.checks(f) if c.name == "greeting:imaps")
    assert (check.status, check.detail) == ("inconclusive", "no answer within the time limit (3 s)")
    assert serious(f) == [("timeout", "warning")]


def test_plain_port_without_starttls_next_to_working_tls_is_information() -> None:
    """993 works; 143 without STARTTLS is a failed check but only information in the findings."""
    f = facts(opened("imaps", 993, tls=good_tls()), opened("imap", 143))
    assert {c.name: c.status for c in verdict.checks(f)}["tls:imap"] == "failed"
    assert serious(f) == []


@pytest.mark.parametrize(
    ("status", "severity", "words"),
    [
        ("nxdomain", "error", "NXDOMAIN"),
        ("servfail", "error", "SERVFAIL"),
        ("nodata", "error", "A/AAAA"),
        ("timeout", "warning", "did not finish in time"),
    ],
    ids=["nxdomain", "servfail", "nodata", "timeout"],
)
def test_dns_outcomes_are_told_apart(status: str, severity: str, words: str) -> None:
    """NXDOMAIN, SERVFAIL, no address and a timeout each get their own words; only the timeout is a warning."""
    lookups = (Lookup(HOST, "A", status), Lookup(HOST, "AAAA", status))  # type: ignore[arg-type]
    found = verdict.findings(facts(lookups=lookups))
    assert [(x.symptom, x.severity) for x in found] == [("dns_not_found", severity)]
    assert words in found[0].message.ja + found[0].message.en


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        (AuthResult("imaps", "ok", quota_used_kb=50, quota_limit_kb=100), []),
        (AuthResult("imaps", "ok", quota_used_kb=95, quota_limit_kb=100), [("mailbox_full", "warning")]),
        (AuthResult("imaps", "ok", quota_used_kb=101, quota_limit_kb=100), [("mailbox_full", "error")]),
        (
            AuthResult("imaps", "rejected", "OVERQUOTA", "mailbox_full", "[OVERQUOTA]"),
            [("mailbox_full", "error")],
        ),
        (
            AuthResult("imaps", "unavailable", "UNAVAILABLE", "server_outage", "try later"),
            [("server_outage", "warning")],
        ),
        (AuthResult("imaps", "error", text="connection reset"), [("unknown", "warning")]),
    ],
    ids=["half-full", "nearly-full", "over-quota", "overquota-code", "unavailable", "error"],
)
def test_login_and_quota_findings(auth: AuthResult, expected: list[tuple[str, str]]) -> None:
    """Quota from 90% warns, over 100% is an error; temporary refusals are warnings; all ids are symptoms."""
    f = facts(opened("imaps", 993, tls=good_tls()), auth=auth)
    assert serious(f) == expected
    assert all(x.symptom in SYMPTOM_IDS for x in verdict.findings(f))
