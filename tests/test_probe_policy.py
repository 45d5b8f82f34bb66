"""The probe's rules that need no server: names, addresses, ports, rate limits, response codes, wording."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

import pytest

from bot.model import SYMPTOM_IDS, Check, Finding, ProbeReport, Text
from bot.probe import ProbeConfigError, RateLimiter, run_probe, tcp
from bot.probe.auth import (
    Credential,
    CredentialError,
    classify_rejection,
    credentials_from_env,
    load_credentials,
)
from bot.probe.dns import parse_dns_server
from bot.probe.policy import (
    Refusal,
    address_kind,
    check_address,
    parse_allow,
    parse_port_option,
    parse_target,
    resolve_ports,
)
from bot.probe.report import probe_json, probe_lines
from bot.probe.tls import name_matches

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


@pytest.mark.parametrize(
    ("raw", "name", "from_email"),
    [
        ("mail.example.co.jp", "mail.example.co.jp", False),
        ("  Mail.Example.COM. ", "mail.example.com", False),
        ("taro@example.co.jp", "example.co.jp", True),
        ("メール。例え。jp", "xn--4dkua4c.xn--r8jz45g.jp", False),
        ("ｍａｉｌ．ｅｘａｍｐｌｅ．ｊｐ", "mail.example.jp", False),
        ("user@日本語.jp", "xn--wgv71a119e.jp", True),
        ("203.0.113.7", "203.0.113.7", False),
        ("[2001:db8::1]", "2001:db8::1", False),
    ],
    ids=[
        "host",
        "case-and-dot",
        "email",
        "idn-fullwidth-dots",
        "fullwidth-ascii",
        "idn-email",
        "ipv4",
        "ipv6",
    ],
)
def test_parse_target_accepts_names_addresses_and_email(raw: str, name: str, from_email: bool) -> None:
    """Host names, e-mail addresses (their domain), IDN and address literals become one ASCII target."""
    target = parse_target(raw)
    assert (target.name, target.from_email) == (name, from_email)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "mail example.com",
        "mail.example.com\r\nQUIT",
        "localhost",
        "127.1",
        "0x7f.1",
        "2130706433",
        "-bad.example.com",
        "a..b.example.com",
        "xn--zz.example.com",
        "a" * 64 + ".example.com",
        "@example.com",
        "x" * 400,
        "mail_1.example.com",
    ],
    ids=[
        "empty",
        "space",
        "crlf-injection",
        "no-dot",
        "short-ipv4",
        "hex-ipv4",
        "integer-ipv4",
        "leading-hyphen",
        "empty-label",
        "bad-punycode",
        "label-too-long",
        "no-local-part",
        "too-long",
        "underscore",
    ],
)
def test_parse_target_refuses_hostile_or_invalid_names(raw: str) -> None:
    """Invalid or hostile names get a clear bilingual reason, never an exception escaping."""
    with pytest.raises(Refusal) as caught:
        parse_target(raw)
    assert caught.value.code == "invalid_host"
    assert "サーバー名" in caught.value.text.ja and "server name" in caught.value.text.en
    assert "\r" not in caught.value.text.ja and "\n" not in caught.value.text.en


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "shared"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("8.8.8.8", None),
        ("2001:4860:4860::8888", None),
    ],
    ids=lambda v: str(v),
)
def test_address_kind_names_every_off_limits_range(address: str, kind: str | None) -> None:
    """Private, loopback, link-local (cloud metadata), multicast, reserved and embedded IPv4 are off limits."""
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_check_address_lets_the_operator_allow_a_range() -> None:
    """An allowed range lets a loopback address through; the same address without it is refused."""
    check_address(ipaddress.ip_address("127.0.0.2"), LOOPBACK, "mail.test")
    with pytest.raises(Refusal) as caught:
        check_address(ipaddress.ip_address("127.0.0.2"), (), "mail.test")
    assert caught.value.code == "address_not_allowed"
    assert "mail.test (127.0.0.2)" in caught.value.text.en


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "169.254.169.254", "[::1]", "10.0.0.8", "[::ffff:192.168.0.1]"], ids=str
)
def test_run_probe_refuses_internal_addresses_without_connecting(host: str) -> None:
    """The probe returns a refused report with one bilingual finding and no checks at all."""
    report = run_probe(host, timeout=2)
    assert report.refused is not None and report.refused.startswith("address_not_allowed")
    assert report.checks == ()
    assert report.findings[0].severity == "error" and report.findings[0].message.ja
    assert not report.healthy


def test_refused_address_receives_no_connection() -> None:
    """Listeners on a loopback address's mail ports see no connection when the allow list is empty."""
    listeners = []
    for port in (993, 143, 995, 110):
        s = socket.socket()
        s.bind(("127.0.0.13", port))
        s.listen(8)
        s.setblocking(False)
        listeners.append(s)
    try:
        report = run_probe("127.0.0.13", timeout=2)
        assert report.refused is not None
        for s in listeners:
            with pytest.raises(BlockingIOError):
                s.accept()  # nothing is waiting in the queue: nobody connected
    finally:
        for s in listeners:
            s.close()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("imaps=22", "not a mail port"),
        ("ssh=993", "unknown service"),
        ("imaps", "expected NAME=PORT"),
        ("imaps=x", "expected NAME=PORT"),
    ],
    ids=["non-mail-port", "unknown-service", "no-equals", "not-a-number"],
)
def test_port_option_accepts_only_mail_ports(option: str, message: str) -> None:
    """--port NAME=PORT takes known services and mail ports only, with a message that says why not."""
    with pytest.raises(ProbeConfigError, match=message):
        parse_port_option(option)


def test_resolve_ports_keeps_standard_ports_and_applies_overrides() -> None:
    """Overrides replace one service's port and leave the others standard."""
    ports = resolve_ports({"submission": 2525})
    assert ports["submission"] == 2525 and ports["imaps"] == 993 and ports["pop3"] == 110


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:5353", ("::1", 5353)),
        ("2001:db8::53", ("2001:db8::53", 53)),
    ],
    ids=["ip", "ip-port", "ipv6-port", "ipv6"],
)
def test_parse_dns_server_forms(text: str, expected: tuple[str, int]) -> None:
    """IP[:PORT] in the forms the CLI and MAILCHECK_DNS_SERVER accept."""
    assert parse_dns_server(text) == expected


@pytest.mark.parametrize("text", ["ns.example.com", "127.0.0.1:0", "127.0.0.1:99999", "1.2.3.4:x"], ids=str)
def test_parse_dns_server_rejects_names_and_bad_ports(text: str) -> None:
    """A DNS server must be an address with a valid port; the message says so."""
    with pytest.raises(ProbeConfigError, match="DNS server"):
        parse_dns_server(text)


def test_parse_allow_reads_cidrs_and_names_the_bad_one() -> None:
    """MAILCHECK_PROBE_ALLOW is comma-separated CIDRs; a bad entry is named in the error."""
    assert parse_allow("127.0.0.0/8, 2001:db8::/32") == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("2001:db8::/32"),
    )
    with pytest.raises(ProbeConfigError, match="'nonsense'"):
        parse_allow("127.0.0.0/8,nonsense")


def test_run_probe_rejects_unusable_settings() -> None:
    """A timeout of zero, a missing CA file and a non-mail port are the operator's mistakes: ProbeConfigError."""
    with pytest.raises(ProbeConfigError, match="timeout"):
        run_probe("mail.example.com", timeout=0)
    with pytest.raises(ProbeConfigError, match="CA file"):
        run_probe("mail.example.com", cafile="/nonexistent/ca.pem")
    with pytest.raises(ProbeConfigError, match="not a mail port"):
        run_probe("mail.example.com", ports={"imaps": 8080})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_limits_each_user_and_refills() -> None:
    """Three probes at once per user, then a wait; another user is not affected; time refills the bucket."""
    clock = FakeClock()
    limiter = RateLimiter(per_user=(3, 1 / 20), overall=(100, 1), clock=clock)
    assert [limiter.acquire("U1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("U1") == pytest.approx(20.0)
    assert limiter.acquire("U2") == 0.0
    clock.now += 20
    assert limiter.acquire("U1") == 0.0


def test_rate_limiter_global_bucket_and_limited_users_do_not_spend_it() -> None:
    """The global bucket caps everyone; a user over their own limit does not use up global tokens."""
    clock = FakeClock()
    limiter = RateLimiter(per_user=(1, 1 / 60), overall=(2, 1 / 10), clock=clock)
    assert limiter.acquire("U1") == 0.0
    assert limiter.acquire("U1") > 0  # refused by the user bucket: no global token spent
    assert limiter.acquire("U2") == 0.0
    assert limiter.acquire("U3") == pytest.approx(10.0)


def test_run_probe_refuses_when_rate_limited() -> None:
    """An exhausted limiter gives a refused report that says how long to wait, before any lookup."""
    clock = FakeClock()
    limiter = RateLimiter(per_user=(1, 1 / 30), overall=(10, 1), clock=clock)
    limiter.acquire("U1")
    report = run_probe("mail.example.invalid", rate_limiter=limiter, user="U1")
    assert report.refused is not None and report.refused.startswith("rate_limited")
    assert "30秒" in report.findings[0].message.ja and "30 seconds" in report.findings[0].message.en


@pytest.mark.parametrize(
    ("server_text", "status", "code", "symptom"),
    [
        ("[AUTHENTICATIONFAILED] Authentication failed.", "rejected", "AUTHENTICATIONFAILED", "auth_failed"),
        ("-ERR [AUTH] Authentication failed.", "rejected", "AUTH", "auth_failed"),
        ("-ERR [AUTH] Account locked after too many failed logins", "rejected", "AUTH", "account_locked"),
        ("[CONTACTADMIN] Account locked", "rejected", "CONTACTADMIN", "account_locked"),
        ("[EXPIRED] Password expired", "rejected", "EXPIRED", "account_locked"),
        (
            "[LIMIT] Maximum number of connections from user+IP exceeded",
            "busy",
            "LIMIT",
            "too_many_connections",
        ),
        ("-ERR [IN-USE] Mailbox locked by another session", "busy", "IN-USE", "too_many_connections"),
        ("-ERR [LOGIN-DELAY] Wait 300 seconds", "busy", "LOGIN-DELAY", "too_many_connections"),
        ("[OVERQUOTA] Quota exceeded", "rejected", "OVERQUOTA", "mailbox_full"),
        ("[PRIVACYREQUIRED] Use TLS", "rejected", "PRIVACYREQUIRED", "tls_mismatch"),
        ("[UNAVAILABLE] Try later", "unavailable", "UNAVAILABLE", "server_outage"),
        ("-ERR [SYS/TEMP] Backend down", "unavailable", "SYS/TEMP", "server_outage"),
        ("Too many connections", "busy", "", "too_many_connections"),
        ("Login failed", "rejected", "", "auth_failed"),
    ],
    ids=[
        "imap-authfailed",
        "pop-auth",
        "pop-auth-locked-words",
        "contactadmin",
        "expired",
        "limit",
        "in-use",
        "login-delay",
        "overquota",
        "privacyrequired",
        "unavailable",
        "sys-temp",
        "busy-words",
        "no-code",
    ],
)
def test_login_rejections_map_to_response_codes_and_symptoms(
    server_text: str, status: str, code: str, symptom: str
) -> None:
    """RFC 5530 (IMAP) and RFC 3206 (POP3) codes become the knowledge's symptom ids."""
    assert classify_rejection(server_text) == (status, code, symptom)
    assert symptom in SYMPTOM_IDS


@pytest.mark.parametrize(
    ("host", "names", "ok"),
    [
        ("mail.example.com", ("mail.example.com",), True),
        ("MAIL.example.com", ("mail.example.com",), True),
        ("mail.example.com", ("*.example.com",), True),
        ("a.mail.example.com", ("*.example.com",), False),
        ("example.com", ("*.example.com",), False),
        ("mail.example.com", ("*.com",), False),
        ("mail.example.com", ("other.example.com",), False),
        ("127.0.0.2", ("127.0.0.2",), True),
        ("127.0.0.2", ("mail.example.com",), False),
    ],
    ids=[
        "exact",
        "case",
        "wildcard",
        "wildcard-two-labels",
        "wildcard-apex",
        "wildcard-tld",
        "other",
        "ip",
        "ip-vs-name",
    ],
)
def test_certificate_name_matching(host: str, names: tuple[str, ...], ok: bool) -> None:
    """RFC 6125: exact names, one-label wildcards (not across dots, not a bare TLD), addresses."""
    assert name_matches(host, names) is ok


def test_credential_repr_never_shows_the_password() -> None:
    """repr() and str() of a credential hide the password."""
    cred = Credential("check@example.jp", "s3cret-pass")
    assert "s3cret-pass" not in repr(cred) and "s3cret-pass" not in str(cred)


def test_load_credentials_reads_file_and_password_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Accounts file: host -> username and password or password_env; hosts are matched in lower case."""
    monkeypatch.setenv("MAILCHECK_PW_B", "from-env")
    path = tmp_path / "accounts.yml"
    path.write_text(
        "Mail.A.test:\n  username: a@a.test\n  password: pa\nmail.b.test:\n"
        "  username: b@b.test\n  password_env: MAILCHECK_PW_B\n"
    )
    found = load_credentials(path)
    assert found["mail.a.test"] == Credential("a@a.test", "pa")
    assert found["mail.b.test"].password == "from-env"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("mail.a.test: [1, 2\n", r"accounts.yml:\d+: not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("mail.a.test:\n  password: x\n", "needs a username"),
        ("mail.a.test:\n  username: u\n", "needs a password"),
        (
            "mail.a.test:\n  username: u\n  password_env: MAILCHECK_UNSET_PW\n",
            "MAILCHECK_UNSET_PW is not set",
        ),
    ],
    ids=["bad-yaml", "not-mapping", "no-username", "no-password", "unset-env"],
)
def test_load_credentials_errors_name_the_place_not_the_password(
    tmp_path: Path, content: str, message: str
) -> None:
    """A broken accounts file gives one line naming the file and the host."""
    path = tmp_path / "accounts.yml"
    path.write_text(content)
    with pytest.raises(CredentialError, match=message):
        load_credentials(path)


def test_credentials_from_env_needs_all_three_variables() -> None:
    """One mailbox from MAILCHECK_PROBE_HOST/USER/PASSWORD; a partial set is an error."""
    env = {
        "MAILCHECK_PROBE_HOST": "Mail.X.test",
        "MAILCHECK_PROBE_USER": "u",
        "MAILCHECK_PROBE_PASSWORD": "p",
    }
    assert credentials_from_env(env) == {"mail.x.test": Credential("u", "p")}
    with pytest.raises(CredentialError, match="all of"):
        credentials_from_env({"MAILCHECK_PROBE_HOST": "mail.x.test"})


def _report() -> ProbeReport:
    return ProbeReport(
        host="mail.example.test",
        checks=(
            Check("tcp:imaps", "ok", "127.0.0.2 port 993 open in 1 ms", 1.0),
            Check("tls:imaps", "failed", "TLSv1.3, expired 3 days ago", 5.0),
            Check("greeting:imap", "inconclusive", "no answer within the time limit (8 s)"),
        ),
        findings=(
            Finding(
                "tls_certificate",
                "error",
                Text("証明書が3日前に期限切れです。", "The certificate expired 3 days ago."),
            ),
        ),
        ms=1234.0,
    )


@pytest.mark.parametrize("lang", ["ja", "en"], ids=["ja", "en"])
def test_probe_lines_show_marks_then_findings_in_the_language(lang: str) -> None:
    """One line per check with its mark, then the findings in the reader's language."""
    lines = probe_lines(_report(), lang)  # type: ignore[arg-type]
    assert lines[1:4] == [
        "✓ tcp:imaps: 127.0.0.2 port 993 open in 1 ms",
        "✗ tls:imaps: TLSv1.3, expired 3 days ago",
        "? greeting:imap: no answer within the time limit (8 s)",
    ]
    expected = "証明書が3日前に期限切れです。" if lang == "ja" else "The certificate expired 3 days ago."
    assert lines[-1] == f"✗ {expected}"


def test_probe_json_has_the_contract_fields() -> None:
    """--json: host, checks (name, status, ok, detail, ms) and findings (symptom, severity, message ja/en)."""
    data = probe_json(_report())
    assert data["host"] == "mail.example.test" and data["healthy"] is False and data["refused"] is None
    assert data["checks"][0] == {  # type: ignore[index]
        "name": "tcp:imaps",
        "status": "ok",
        "ok": True,
        "detail": "127.0.0.2 port 993 open in 1 ms",
        "ms": 1.0,
    }
    assert data["findings"] == [  # type: ignore[comparison-overlap]
        {
            "symptom": "tls_certificate",
            "severity": "error",
            "message": {"ja": "証明書が3日前に期限切れです。", "en": "The certificate expired 3 days ago."},
        }
    ]


def test_probe_lines_for_a_refused_report_give_the_reason() -> None:
    """A refused probe prints one line with the reason, in the reader's language."""
    report = run_probe("10.0.0.8", timeout=2)
    assert probe_lines(report, "ja")[0].startswith("サーバーの確認をしませんでした: 10.0.0.8 は社内")
    assert probe_lines(report, "en")[0].startswith(
        "The server was not checked: 10.0.0.8 is a private address"
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "refused"),
        (TimeoutError("timed out"), "timeout"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
        (OSError(errno.EACCES, "Permission denied"), "error"),
    ],
    ids=["refused", "timeout", "net-unreachable", "host-unreachable", "other"],
)
def test_connect_errors_are_told_apart(error: OSError, status: str) -> None:
    """Refused, timed out and unreachable are different answers (closed port, firewall, no route)."""
    assert tcp._classify(error) == status
