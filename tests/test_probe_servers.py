"""The probe against real servers on loopback: Dovecot (TLS, STARTTLS, plain, limits, quota), dnsmasq,
and sockets that misbehave on purpose (silent, black-holed, "too many connections", old TLS)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import dns.rcode
import pytest
from imapclient import IMAPClient

from bot.model import ProbeReport
from bot.probe import Credential, run_probe
from bot.probe.report import probe_json, probe_lines
from tests.servers.certs import TestCA
from tests.servers.dns import DnsServer, Zone, run_dnsmasq
from tests.servers.dovecot import LOCKED_USER, PASSWORD, USER, DovecotFarm, DovecotServer
from tests.servers.rude import ScriptedServer, failing_dns, full_backlog, silent

pytestmark = pytest.mark.servers

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)
RECEIVE = ("imaps", "imap", "pop3s", "pop3")

ZONE = Zone(
    a={
        "mail.healthy.test": "127.0.0.2",
        "mail.expired.test": "127.0.0.3",
        "mail.wrongname.test": "127.0.0.4",
        "mail.selfsigned.test": "127.0.0.5",
        "mail.plain.test": "127.0.0.6",
        "mail.connlimit.test": "127.0.0.7",
        "mail.quota.test": "127.0.0.8",
        "mail.silent.test": "127.0.0.9",
        "mail.busy.test": "127.0.0.10",
        "mail.blackhole.test": "127.0.0.11",
        "mail.legacy.test": "127.0.0.12",
        "mail.closed.test": "127.0.0.14",
        "mail.mixed.test": "127.0.0.2",
    },
    aaaa={"mail.mixed.test": "::1"},
    mx=[("healthy.test", "mail.healthy.test", 10)],
    srv=[
        ("_imaps._tcp.healthy.test", "mail.healthy.test", 993, 0, 1),
        # popsrv.test says (RFC 6186) it offers no IMAP, only POP3 on mail.healthy.test.
        ("_imaps._tcp.popsrv.test", ".", 0, 0, 0),
        ("_imap._tcp.popsrv.test", ".", 0, 0, 0),
        ("_pop3s._tcp.popsrv.test", "mail.healthy.test", 995, 0, 1),
    ],
)


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    """One dnsmasq for the module, serving ZONE."""
    with run_dnsmasq(ZONE, tmp_path_factory.mktemp("dns")) as server:
        yield server


@pytest.fixture
def farm(dovecot_farm: DovecotFarm) -> DovecotFarm:
    return dovecot_farm


def probe(dns_server: DnsServer, farm: DovecotFarm, host: str, **kwargs: object) -> ProbeReport:
    options: dict[str, object] = {
        "timeout": 6.0,
        "dns_server": dns_server.address,
        "cafile": str(farm.cafile),
        "allow": LOOPBACK,
    }
    options.update(kwargs)
    return run_probe(host, **options)  # type: ignore[arg-type]


def checks_of(report: ProbeReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def serious(report: ProbeReport) -> list[tuple[str, str]]:
    return [(f.symptom, f.severity) for f in report.findings if f.severity != "info"]


def test_healthy_server_has_no_warning_or_error(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """IMAP and POP over TLS and STARTTLS with a valid certificate: every receive check is ok, no warnings."""
    farm.get("healthy")
    report = probe(dns_server, farm, "mail.healthy.test")
    statuses = checks_of(report)
    for service in RECEIVE:
        assert statuses[f"tcp:{service}"] == "ok"
        assert statuses[f"tls:{service}"] == "ok"
        assert statuses[f"greeting:{service}"] == "ok"
    assert report.healthy and serious(report) == []
    assert report.findings[0].symptom == "server_outage" and "正常" in report.findings[0].message.ja


def test_healthy_report_details_read_like_an_admins_notes(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """TLS detail names version, certificate and expiry; STARTTLS greetings show LOGINDISABLED before TLS."""
    farm.get("healthy")
    details = {c.name: c.detail for c in probe(dns_server, farm, "mail.healthy.test").checks}
    assert details["dns:address"] == "A mail.healthy.test: 127.0.0.2; AAAA mail.healthy.test: no AAAA record"
    assert "TLSv1.3" in details["tls:imaps"] and "expires in 89 days" in details["tls:imaps"]
    assert "issued by mailcheck test CA" in details["tls:imaps"] and "trusted" in details["tls:imaps"]
    assert details["tls:imap"].startswith("STARTTLS: TLSv1.3")
    assert "STARTTLS offered; login disabled before TLS" in details["greeting:imap"]
    assert "STLS offered; login after TLS by: LOGIN PLAIN" in details["greeting:pop3"]
    assert "login after TLS by: LOGIN PLAIN" in details["greeting:imap"]
    assert details["greeting:pop3s"].startswith("+OK Dovecot")
    assert "also: RESP-CODES AUTH-RESP-CODE" in details["greeting:pop3s"]
    assert "login by: LOGIN PLAIN" in details["greeting:pop3s"]


def test_closed_sending_ports_are_information(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """Nothing listens on 465/587: the tcp checks say refused, the finding is info (sending_smtp)."""
    farm.get("healthy")
    report = probe(dns_server, farm, "mail.healthy.test")
    assert checks_of(report)["tcp:submission"] == "failed"
    assert "refused" in next(c.detail for c in report.checks if c.name == "tcp:submissions")
    assert ("sending_smtp", "info") in [(f.symptom, f.severity) for f in report.findings]


def test_imap_only_server_is_healthy_and_closed_pop_is_information(
    dns_server: DnsServer, farm: DovecotFarm
) -> None:
    """POP closed on an IMAP-only host is not a warning: one secure way to receive is enough."""
    farm.get("quota")
    report = probe(dns_server, farm, "mail.quota.test")
    assert checks_of(report)["tcp:pop3s"] == "failed" and checks_of(report)["tls:imaps"] == "ok"
    assert report.healthy and serious(report) == []
    assert any("POP3" in f.message.en and f.severity == "info" for f in report.findings)


def test_email_address_uses_srv_and_mx(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """taro@healthy.test: the domain has no address, its SRV and MX lead to mail.healthy.test."""
    farm.get("healthy")
    report = probe(dns_server, farm, "taro@healthy.test")
    details = {c.name: c.detail for c in report.checks}
    assert report.host == "healthy.test"
    assert "SRV _imaps._tcp.healthy.test: mail.healthy.test:993" in details["dns:srv"]
    assert details["dns:mx"] == "MX healthy.test: mail.healthy.test"
    assert "using mail.healthy.test" in details["dns:address"]
    assert report.healthy


def test_srv_target_dot_skips_the_service(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """RFC 6186 target '.': IMAP is not offered, so only POP3 (from the SRV) and the fallbacks are checked."""
    farm.get("healthy")
    report = probe(dns_server, farm, "popsrv.test")
    names = checks_of(report)
    assert "tcp:imaps" not in names and "tcp:imap" not in names
    assert names["tls:pop3s"] == "ok"
    assert "SRV _imaps._tcp.popsrv.test: not offered (target .)" in next(
        c.detail for c in report.checks if c.name == "dns:srv"
    )


def test_untrusted_certificate_against_the_system_store(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """Without --cafile the test CA is unknown: tls_certificate error, 'cannot be traced to a trusted authority'."""
    farm.get("healthy")
    report = probe(dns_server, farm, "mail.healthy.test", cafile=None)
    assert checks_of(report)["tls:imaps"] == "failed"
    assert serious(report) == [("tls_certificate", "error")]
    assert "trusted authority" in report.findings[0].message.en


def test_expired_certificate_says_how_many_days_ago(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """An expired certificate: '3日前に期限切れ', not your device, tell the provider."""
    farm.get("expired")
    report = probe(dns_server, farm, "mail.expired.test")
    assert checks_of(report)["tls:imaps"] == "failed"
    assert serious(report) == [("tls_certificate", "error")]
    message = report.findings[0].message
    assert message.ja == (
        "サーバーの証明書が3日前に期限切れです。お使いの端末の問題ではありません。提供元に連絡してください。"
        "（ポート 993, 143, 995, 110）"
    )
    assert message.en.startswith(
        "The server's certificate expired 3 days ago. This is not a problem with your device."
    )


def test_wrong_name_certificate_names_both_names(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """A certificate for another name: the finding says which name it is for and which was asked."""
    farm.get("wrong_name")
    report = probe(dns_server, farm, "mail.wrongname.test")
    assert serious(report) == [("tls_certificate", "error")]
    assert (
        "mail.other-company.test 用で、mail.wrongname.test 用ではありません" in report.findings[0].message.ja
    )


def test_self_signed_certificate(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """A self-signed certificate is named as such, with the advice not to accept it on the device."""
    farm.get("self_signed")
    report = probe(dns_server, farm, "mail.selfsigned.test")
    assert serious(report) == [("tls_certificate", "error")]
    assert "自己署名" in report.findings[0].message.ja and "do not accept" in report.findings[0].message.en
    assert "self-signed" in next(c.detail for c in report.checks if c.name == "tls:imaps")


def test_plain_text_only_server_is_tls_mismatch(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """Only 143/110 without STARTTLS answer: tls_mismatch error; the greeting shows login without encryption."""
    farm.get("plaintext")
    report = probe(dns_server, farm, "mail.plain.test")
    assert serious(report) == [("tls_mismatch", "error")]
    assert "143, 110" in report.findings[0].message.en
    details = {c.name: c.detail for c in report.checks}
    assert "no STARTTLS; login allowed without encryption" in details["greeting:imap"]
    assert checks_of(report)["tls:imap"] == "failed"


def test_nxdomain_is_dns_not_found(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """A name the DNS does not know: dns_not_found error, and no connection is attempted."""
    report = probe(dns_server, farm, "mail.nowhere.test")
    assert checks_of(report) == {"dns:address": "failed"}
    assert serious(report) == [("dns_not_found", "error")]
    assert "NXDOMAIN" in report.findings[0].message.ja


def test_servfail_is_told_apart_from_nxdomain() -> None:
    """A DNS server answering SERVFAIL: dns_not_found error that says SERVFAIL and that it is not the device."""
    with failing_dns(dns.rcode.SERVFAIL) as server:
        report = run_probe("mail.broken.test", timeout=3, dns_server=server)
    check = next(c for c in report.checks if c.name == "dns:address")
    assert check.status == "failed" and "SERVFAIL" in check.detail
    assert serious(report) == [("dns_not_found", "error")]
    assert (
        "SERVFAIL" in report.findings[0].message.ja
        and "not a problem with your device" in report.findings[0].message.en
    )


def test_dns_server_that_does_not_answer_is_inconclusive(farm: DovecotFarm) -> None:
    """A DNS server that never answers: inconclusive, a warning to try again, within the time limit."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
        mute.bind(("127.0.0.1", 0))
        start = time.monotonic()
        report = run_probe("mail.healthy.test", timeout=1.5, dns_server=f"127.0.0.1:{mute.getsockname()[1]}")
        elapsed = time.monotonic() - start
    assert checks_of(report)["dns:address"] == "inconclusive"
    assert serious(report) == [("dns_not_found", "warning")]
    assert elapsed < 1.5 + 2.0


def test_closed_ports_everywhere_is_cannot_connect(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """An address where nothing listens: every port refused, cannot_connect error."""
    report = probe(dns_server, farm, "mail.closed.test")
    assert all(status == "failed" for name, status in checks_of(report).items() if name.startswith("tcp:"))
    assert serious(report) == [("cannot_connect", "error")]


def test_guard_no_connection_reaches_a_refused_address(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """Empty allow list: the name resolves to 127.0.0.2 and Dovecot's log shows no connection from the probe."""
    server = farm.get("healthy")
    before = len(server.connection_lines())
    report = probe(dns_server, farm, "mail.healthy.test", allow=())
    assert report.refused is not None and "mail.healthy.test (127.0.0.2)" in report.refused
    # Control: a connection from a source address of our own must be the only new one in the log.
    with socket.socket() as control:
        control.bind(("127.0.0.77", 0))
        control.connect(("127.0.0.2", 143))
        control.recv(200)
    server.wait_for_log("rip=127.0.0.77")
    new = server.connection_lines()[before:]
    assert len(new) == 1 and "rip=127.0.0.77" in new[0]


def test_every_resolved_address_must_pass(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """A name with an allowed A (127.0.0.2) and a refused AAAA (::1) is refused as a whole."""
    report = probe(dns_server, farm, "mail.mixed.test")
    assert report.refused is not None and "::1" in report.refused and report.checks == ()


def test_login_ok_reports_quota_and_never_the_password(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """A configured mailbox logs in over verified TLS; the password is nowhere in text or JSON."""
    farm.get("healthy")
    report = probe(
        dns_server, farm, "mail.healthy.test", credentials={"mail.healthy.test": Credential(USER, PASSWORD)}
    )
    assert checks_of(report)["auth:imaps"] == "ok"
    assert report.healthy
    shown = json.dumps(probe_json(report), ensure_ascii=False) + "\n".join(probe_lines(report, "ja"))
    assert PASSWORD not in shown and PASSWORD not in repr(report)


def test_wrong_password_is_auth_failed(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """[AUTHENTICATIONFAILED] from Dovecot becomes auth_failed, with the advice not to keep retrying."""
    farm.get("healthy")
    wrong = "not-the-password-42"
    report = probe(
        dns_server, farm, "mail.healthy.test", credentials={"mail.healthy.test": Credential(USER, wrong)}
    )
    assert checks_of(report)["auth:imaps"] == "failed"
    assert serious(report) == [("auth_failed", "error")]
    assert "AUTHENTICATIONFAILED" in next(c.detail for c in report.checks if c.name == "auth:imaps")
    assert wrong not in json.dumps(probe_json(report), ensure_ascii=False)


def test_locked_account_is_account_locked(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """Dovecot's nologin answers [CONTACTADMIN] on IMAP: account_locked."""
    farm.get("healthy")
    creds = {"mail.healthy.test": Credential(LOCKED_USER, PASSWORD)}
    report = probe(dns_server, farm, "mail.healthy.test", credentials=creds)
    assert serious(report) == [("account_locked", "error")]
    assert "CONTACTADMIN" in next(c.detail for c in report.checks if c.name == "auth:imaps")


def test_locked_account_over_pop3_uses_rfc3206_code(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """Over POP3 (the domain offers no IMAP) Dovecot answers -ERR [AUTH] and the reason: account_locked."""
    farm.get("healthy")
    report = probe(
        dns_server, farm, "popsrv.test", credentials={"popsrv.test": Credential(LOCKED_USER, PASSWORD)}
    )
    auth = next(c for c in report.checks if c.name.startswith("auth:"))
    assert auth.name == "auth:pop3s" and "[AUTH]" in auth.detail, auth.detail
    assert serious(report) == [("account_locked", "error")], auth.detail


@pytest.fixture
def held_session(farm: DovecotFarm) -> Iterator[IMAPClient]:
    """One logged-in IMAP session on the connection-limited server (mail_max_userip_connections=1)."""
    server = farm.get("connlimit")
    context = ssl.create_default_context(cafile=str(farm.cafile))
    context.check_hostname = False
    client = IMAPClient(server.ip, port=993, ssl=True, ssl_context=context, timeout=5)
    client.login(USER, PASSWORD)
    try:
        yield client
    finally:
        client.logout()


def test_connection_limit_is_too_many_connections(
    dns_server: DnsServer, farm: DovecotFarm, held_session: IMAPClient
) -> None:
    """With one session already open, Dovecot answers [LIMIT]: too_many_connections, a warning, inconclusive."""
    creds = {"mail.connlimit.test": Credential(USER, PASSWORD)}
    report = probe(dns_server, farm, "mail.connlimit.test", credentials=creds)
    assert checks_of(report)["auth:imaps"] == "inconclusive"
    assert serious(report) == [("too_many_connections", "warning")]
    assert "LIMIT" in next(c.detail for c in report.checks if c.name == "auth:imaps")


def test_nearly_full_mailbox_is_mailbox_full(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """IMAP QUOTA near the limit: mailbox_full warning with the percentage and the sizes."""
    farm.get("quota")
    report = probe(
        dns_server, farm, "mail.quota.test", credentials={"mail.quota.test": Credential(USER, PASSWORD)}
    )
    quota = next(c for c in report.checks if c.name == "quota:imaps")
    assert quota.status == "warning" and "of 20 KB used" in quota.detail
    assert serious(report) == [("mailbox_full", "warning")]
    full = next(f for f in report.findings if f.symptom == "mailbox_full")
    assert "95%（19 / 20 KB）" in full.message.ja and "95% full" in full.message.en
    assert report.findings[0] == full  # the warning comes before the information


def test_server_that_never_greets_is_inconclusive_and_bounded(
    dns_server: DnsServer, farm: DovecotFarm
) -> None:
    """Ports that accept but never speak: inconclusive checks, a timeout warning, total time within the limit."""
    with silent("127.0.0.9", (993, 143, 995, 110)):
        start = time.monotonic()
        report = probe(dns_server, farm, "mail.silent.test", timeout=2.0)
        elapsed = time.monotonic() - start
    statuses = checks_of(report)
    assert statuses["tcp:imaps"] == "ok" and statuses["tls:imaps"] == "inconclusive"
    assert statuses["greeting:imap"] == "inconclusive"
    assert serious(report) == [("timeout", "warning")]
    assert elapsed < 2.0 + 1.5  # behavioural bound: the limit, not the sum of the checks' timeouts


def test_black_holed_ports_time_out_within_the_bound(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """A full listen queue drops the SYN like a firewall DROP: connect times out, inconclusive, bounded."""
    with full_backlog("127.0.0.11", (993, 143, 995, 110)):
        start = time.monotonic()
        report = probe(dns_server, farm, "mail.blackhole.test", timeout=2.0)
        elapsed = time.monotonic() - start
    statuses = checks_of(report)
    assert all(statuses[f"tcp:{s}"] == "inconclusive" for s in RECEIVE)
    assert "timed out" in next(c.detail for c in report.checks if c.name == "tcp:imaps")
    assert serious(report) == [("timeout", "warning")]
    assert elapsed < 2.0 + 1.5


def test_silent_pop_does_not_spoil_a_healthy_imap_server(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """IMAP over TLS works, POP never answers: still healthy; the POP timeouts are information."""
    farm.get("quota")
    with silent("127.0.0.8", (995, 110)):
        report = probe(dns_server, farm, "mail.quota.test", timeout=2.0)
    assert checks_of(report)["tls:pop3s"] == "inconclusive"
    assert report.healthy and serious(report) == []


def test_too_many_connections_greeting_is_inconclusive(dns_server: DnsServer, farm: DovecotFarm) -> None:
    """A server greeting '* BYE Too many connections': too_many_connections warning, never a failure."""
    with ScriptedServer("127.0.0.10", {143: b"* BYE Too many connections from your IP\r\n"}):
        report = probe(dns_server, farm, "mail.busy.test")
    assert checks_of(report)["greeting:imap"] == "inconclusive"
    assert serious(report) == [("too_many_connections", "warning")]
    assert "Too many connections from your IP" in report.findings[0].message.ja


@pytest.fixture(scope="module")
def legacy_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A server context that speaks only TLS 1.0/1.1, with a certificate from its own CA."""
    ca = TestCA(tmp_path_factory.mktemp("legacy"))
    now = dt.datetime.now(dt.UTC)
    files = ca.issue("legacy", ["mail.legacy.test"], now - dt.timedelta(days=1), now + dt.timedelta(days=60))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # naming the old versions is the point here
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context, ca.cafile


def test_old_tls_only_server_is_tls_mismatch(
    dns_server: DnsServer, farm: DovecotFarm, legacy_tls: tuple[ssl.SSLContext, Path]
) -> None:
    """A server that only speaks TLS 1.1: the probe names the version; tls_mismatch error."""
    context, cafile = legacy_tls
    with ScriptedServer("127.0.0.12", {993: b"* OK legacy ready\r\n"}, tls={993: context}):
        report = probe(dns_server, farm, "mail.legacy.test", cafile=str(cafile))
    assert checks_of(report)["tls:imaps"] == "failed"
    assert "TLSv1.1" in next(c.detail for c in report.checks if c.name == "tls:imaps")
    assert ("tls_mismatch", "error") in serious(report)
    assert "TLSv1.1" in next(f.message.ja for f in report.findings if f.symptom == "tls_mismatch")


def test_dovecot_fixture_instance_has_its_own_files(farm: DovecotFarm) -> None:
    """Each instance has its config, log and base_dir under the farm's temporary directory."""
    server: DovecotServer = farm.get("healthy")
    assert (server.root / "dovecot.conf").is_file() and server.log.is_file()
    assert f"listen = {server.ip}" in (server.root / "dovecot.conf").read_text()
