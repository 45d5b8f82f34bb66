"""Settings discovery against real servers on loopback: dnsmasq for SRV/MX/A, http.server for autoconfig."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import pytest

from bot.discover import (
    DnsServerError,
    Options,
    _usable_srv,
    discover,
    parse_clientconfig,
    parse_dns_server,
)
from bot.providers import AddressError, Incoming, SettingsAnswer, load_providers, parse_address
from bot.settings_text import render_settings
from tests.conftest import KNOWLEDGE, ROOT
from tests.servers.dns import DnsServer, Zone

PROVIDERS, _ = load_providers(KNOWLEDGE / "providers")
ZoneServer = Callable[[Zone], DnsServer]

CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname>
      <port>110</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
    </incomingServer>
    <incomingServer type="exchange"><hostname>ews.example.test</hostname></incomingServer>
    <outgoingServer type="smtp"><hostname>smtp.example.test</hostname></outgoingServer>
  </emailProvider>
</clientConfig>
"""
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<clientConfig><emailProvider><displayName>&lol2;</displayName></emailProvider></clientConfig>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<clientConfig><emailProvider><displayName>&xxe;</displayName></emailProvider></clientConfig>
"""


# --- a real HTTP server on 127.0.0.1, port 0 -------------------------------------------------------


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0  # seconds before the first byte
    trickle: float = 0.0  # seconds between 1-byte writes (a slow server)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WebServer:
    port: int
    routes: dict[str, Route]
    requests: list[str]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(server: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(self.path)
            route = server.routes.get(self.path.split("?")[0], Route(404, b"not here"))
            time.sleep(route.delay)
            try:
                self.send_response(route.status)
                for key, value in route.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if route.trickle:
                    for byte in route.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(route.trickle)
                else:
                    self.wfile.write(route.body)
            except OSError:
                pass  # the client gave up, as it should for a slow server

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def web() -> Iterator[WebServer]:
    """A real HTTP server on 127.0.0.1 (port 0) serving the routes a test puts in it."""
    state = WebServer(0, {}, [])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = int(httpd.server_address[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _options(
    server: DnsServer | None, *urls: str, allow_private: bool = True, timeout: float = 2.0
) -> Options:
    return Options(
        server.address if server else None, autoconfig_urls=urls, allow_private=allow_private, timeout=timeout
    )


def _queries(server: DnsServer) -> str:
    return server.log.read_text() if server.log.exists() else ""


# --- the source chain ------------------------------------------------------------------------------


def test_provider_file_answers_without_any_network(dns_zone_server: ZoneServer) -> None:
    """A domain in the knowledge folder is answered from its file; the DNS server is never asked."""
    server = dns_zone_server(Zone(mx=[("docomo.ne.jp", "smtp.google.com", 1)]))
    answer = discover("taro@docomo.ne.jp", PROVIDERS, _options(server))
    assert (answer.source, answer.provider_id) == ("provider_file", "docomo")
    assert "docomo" not in _queries(server)


def test_offline_asks_no_dns(dns_zone_server: ZoneServer) -> None:
    """--offline with an unknown domain answers 'nothing found' and sends no query at all."""
    server = dns_zone_server(Zone(srv=[("_imaps._tcp.example.test", "mail.example.test", 993, 0, 1)]))
    options = Options(server.address, offline=True)
    answer = discover("taro@example.test", PROVIDERS, options)
    assert (answer.source, answer.incoming) == ("none", ())
    assert "example.test" not in _queries(server)


def test_srv_records_give_the_servers_best_first(dns_zone_server: ZoneServer) -> None:
    """RFC 6186 SRV records: implicit TLS first, then STARTTLS; priority orders within a service."""
    server = dns_zone_server(
        Zone(
            srv=[
                ("_pop3._tcp.example.test", "pop.example.test", 110, 0, 1),
                ("_imap._tcp.example.test", "imap.example.test", 143, 0, 1),
                ("_imaps._tcp.example.test", "backup.example.test", 993, 20, 1),
                ("_imaps._tcp.example.test", "imap.example.test", 993, 10, 1),
            ],
            mx=[("example.test", "smtp.google.com", 1)],
        )
    )
    answer = discover("taro@example.test", PROVIDERS, _options(server))
    assert answer.source == "srv"
    assert [(s.protocol, s.host, s.port, s.security) for s in answer.incoming] == [
        ("imap", "imap.example.test", 993, "ssl"),
        ("imap", "backup.example.test", 993, "ssl"),
        ("imap", "imap.example.test", 143, "starttls"),
        ("pop3", "pop.example.test", 110, "starttls"),
    ]
    assert answer.incoming[0].login == "taro@example.test"


SRV_RECORDS = [
    ("normal", "0 1 993 imap.example.test.", [("imap.example.test", 993)]),
    ("not-offered", "0 0 0 .", []),
    ("port-zero", "0 0 0 imap.example.test.", []),
    ("single-label", "0 0 993 localhost.", []),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SRV_RECORDS], ids=[c[0] for c in SRV_RECORDS])
def test_srv_targets_that_are_not_offered_are_ignored(text: str, expected: list[tuple[str, int]]) -> None:
    """A '.' target means 'not offered' (RFC 2782); port 0 and non-host names are ignored too."""
    record = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.SRV, text)
    assert _usable_srv([record]) == expected


def test_autoconfig_document_from_a_local_server(dns_zone_server: ZoneServer, web: WebServer) -> None:
    """With no SRV, the autoconfig document is fetched, parsed and named as the source."""
    server = dns_zone_server(Zone())
    web.routes["/ac/example.test/config-v1.1.xml"] = Route(body=CONFIG.encode())
    url = web.url("/ac/{domain}/config-v1.1.xml?emailaddress={address}")
    answer = discover("taro@example.test", PROVIDERS, _options(server, url))
    assert (answer.source, answer.provider_id) == ("autoconfig", "Example Mail")
    assert answer.source_detail == web.url("/ac/example.test/config-v1.1.xml?emailaddress=taro@example.test")
    assert [(s.protocol, s.host, s.port, s.security, s.username, s.login) for s in answer.incoming] == [
        ("imap", "imap.example.test", 993, "ssl", "address", "taro@example.test"),
        ("pop3", "pop.example.test", 110, "starttls", "localpart", "taro"),
    ]
    assert web.requests == ["/ac/example.test/config-v1.1.xml?emailaddress=taro@example.test"]
    assert any("http" in n.en for n in answer.notes)  # fetched over plain http: said so


BAD_DOCUMENTS = [
    ("billion-laughs", Route(body=BILLION_LAUGHS.encode()), "DTD or ENTITY"),
    ("external-entity", Route(body=EXTERNAL_ENTITY.encode()), "DTD or ENTITY"),
    ("too-large", Route(body=b"<clientConfig>" + b" " * 200_000 + b"</clientConfig>"), "too large"),
    ("not-found", Route(404, b"no"), "HTTP 404"),
    ("redirect-not-followed", Route(302, b"", headers={"Location": "http://169.254.169.254/"}), "HTTP 302"),
    ("not-xml", Route(body=b"<html><body>hello"), "not well-formed XML"),
    ("wrong-root", Route(body=b"<html><body>hello</body></html>"), "not a clientConfig"),
    ("utf16", Route(body=CONFIG.replace("UTF-8", "UTF-16").encode("utf-16")), "not UTF-8"),
    ("declares-other-encoding", Route(body=CONFIG.replace("UTF-8", "Shift_JIS").encode()), "not UTF-8"),
    ("no-usable-server", Route(body=CONFIG.replace("993", "0").replace("110", "x").encode()), "no usable"),
    ("slow-server", Route(body=CONFIG.encode(), delay=3.0), "cannot fetch"),
    ("trickling-server", Route(body=CONFIG.encode(), trickle=0.01), "timed out"),
]


@pytest.mark.parametrize(("route", "why"), [c[1:] for c in BAD_DOCUMENTS], ids=[c[0] for c in BAD_DOCUMENTS])
def test_bad_autoconfig_documents_are_refused(
    dns_zone_server: ZoneServer, web: WebServer, route: Route, why: str
) -> None:
    """Hostile, huge, slow or malformed documents are refused with a reason; the chain moves on."""
    server = dns_zone_server(Zone(mx=[("example.test", "smtp.google.com", 5)]))
    web.routes["/ac.xml"] = route
    answer = discover("taro@example.test", PROVIDERS, _options(server, web.url("/ac.xml"), timeout=1.0))
    assert (answer.source, answer.provider_id) == ("mx", "gmail")
    autoconfig = next(a for a in answer.tried if a.source == "autoconfig")
    assert why in autoconfig.outcome.en


def test_second_autoconfig_url_is_tried_after_the_first_fails(
    dns_zone_server: ZoneServer, web: WebServer
) -> None:
    """Like Thunderbird, the .well-known location is tried when autoconfig.<domain> has nothing."""
    server = dns_zone_server(Zone())
    web.routes["/well-known.xml"] = Route(body=CONFIG.encode())
    answer = discover(
        "taro@example.test", PROVIDERS, _options(server, web.url("/missing.xml"), web.url("/well-known.xml"))
    )
    assert answer.source == "autoconfig" and answer.source_detail.endswith("/well-known.xml")
    assert web.requests == ["/missing.xml", "/well-known.xml"]


def test_autoconfig_is_not_fetched_from_private_addresses(
    dns_zone_server: ZoneServer, web: WebServer
) -> None:
    """By default a name that resolves to loopback (or a literal private IP) is never fetched."""
    server = dns_zone_server(Zone(a={"autoconfig.example.test": "127.0.0.1"}))
    web.routes["/mail/config-v1.1.xml"] = Route(body=CONFIG.encode())
    urls = (
        f"http://autoconfig.{{domain}}:{web.port}/mail/config-v1.1.xml",
        web.url("/mail/config-v1.1.xml"),
    )
    answer = discover("taro@example.test", PROVIDERS, _options(server, *urls, allow_private=False))
    assert answer.source == "guess"
    assert web.requests == []
    outcome = next(a for a in answer.tried if a.source == "autoconfig").outcome.en
    assert outcome.count("non-public address") == 2


def test_autoconfig_host_resolved_through_the_given_dns_server(
    dns_zone_server: ZoneServer, web: WebServer
) -> None:
    """The autoconfig host name is resolved with --dns-server, then fetched from that address."""
    server = dns_zone_server(Zone(a={"autoconfig.example.test": "127.0.0.1"}))
    web.routes["/mail/config-v1.1.xml"] = Route(body=CONFIG.encode())
    url = f"http://autoconfig.{{domain}}:{web.port}/mail/config-v1.1.xml?emailaddress={{address}}"
    answer = discover("taro@example.test", PROVIDERS, _options(server, url))
    assert answer.source == "autoconfig"
    assert "autoconfig.example.test" in _queries(server)


MX_CASES = [
    ("google", "smtp.google.com", "gmail", "imap.gmail.com"),
    ("microsoft", "example-test.mail.protection.outlook.com", "microsoft", "outlook.office365.com"),
    ("lolipop", "mx01.lolipop.jp", "lolipop", "imap.lolipop.jp"),
]


@pytest.mark.parametrize(("mx", "provider", "host"), [c[1:] for c in MX_CASES], ids=[c[0] for c in MX_CASES])
def test_mx_host_means_the_providers_settings(
    dns_zone_server: ZoneServer, mx: str, provider: str, host: str
) -> None:
    """A company domain whose MX is Google's or Microsoft's gets their settings, with the MX named."""
    server = dns_zone_server(Zone(mx=[("corp.test", "mail.corp.test", 20), ("corp.test", mx, 10)]))
    answer = discover("hanako@corp.test", PROVIDERS, _options(server))
    assert (answer.source, answer.provider_id, answer.source_detail) == ("mx", provider, f"MX {mx}")
    assert answer.incoming[0].host == host
    assert mx in answer.notes[0].ja and mx in render_settings(answer, "en")


def test_guess_lists_names_that_exist_and_says_it_is_a_guess(dns_zone_server: ZoneServer) -> None:
    """No SRV, autoconfig or known MX: imap./mail.<domain> that exist in DNS, marked unverified."""
    server = dns_zone_server(Zone(a={"imap.shop.test": "192.0.2.10", "mail.shop.test": "192.0.2.11"}))
    answer = discover("info@shop.test", PROVIDERS, _options(server))
    assert answer.source == "guess"
    assert [(s.protocol, s.host, s.verified) for s in answer.incoming] == [
        ("imap", "imap.shop.test", False),
        ("imap", "mail.shop.test", False),
        ("pop3", "mail.shop.test", False),
    ]
    assert "推測" in answer.notes[0].ja and "guess" in answer.notes[0].en.lower()


def test_guess_when_nothing_exists_still_explains(dns_zone_server: ZoneServer) -> None:
    """With no DNS names at all, imap.<domain> is offered as a bare guess with the reason."""
    server = dns_zone_server(Zone())
    answer = discover("info@empty.test", PROVIDERS, _options(server))
    assert [s.host for s in answer.incoming] == ["imap.empty.test"]
    assert "neither" in answer.notes[0].en
    assert [a.source for a in answer.tried] == ["provider_file", "srv", "autoconfig", "mx", "guess"]


def test_idn_domain_is_looked_up_in_its_ascii_form(dns_zone_server: ZoneServer) -> None:
    """例え.test is queried as xn--r8jz45g.test and its MX recognised."""
    server = dns_zone_server(Zone(mx=[("xn--r8jz45g.test", "smtp.google.com", 1)]))
    answer = discover("taro@例え.test", PROVIDERS, _options(server))
    assert (answer.domain, answer.source, answer.provider_id) == ("xn--r8jz45g.test", "mx", "gmail")
    assert answer.address == "taro@例え.test"
    assert "xn--r8jz45g.test" in _queries(server)


def test_dns_server_that_does_not_answer_is_a_result(tmp_path: Path) -> None:
    """A DNS server that never answers gives 'nothing found' with the reason, not an exception."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound but never read: queries time out
        port = silent.getsockname()[1]
        answer = discover(
            "taro@example.test", PROVIDERS, Options(f"127.0.0.1:{port}", autoconfig_urls=(), timeout=0.3)
        )
    assert (answer.source, answer.incoming) == ("none", ())
    assert "does not answer" in answer.notes[0].en


def test_clientconfig_parser_ignores_servers_with_bad_names() -> None:
    """A document's host names are checked; a hostile value is dropped, the rest kept."""
    hostile = CONFIG.replace("imap.%EMAILDOMAIN%", "imap.example.test; rm -rf /")
    config = parse_clientconfig(hostile.encode(), parse_address("taro@example.test"))
    assert [s.host for s in config.incoming] == ["pop.example.test"]


DNS_SERVERS = [
    ("ip", "192.0.2.53", ("192.0.2.53", 53)),
    ("ip-port", "127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("ipv6", "::1", ("::1", 53)),
    ("ipv6-port", "[::1]:5353", ("::1", 5353)),
]


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in DNS_SERVERS], ids=[c[0] for c in DNS_SERVERS])
def test_parse_dns_server(spec: str, expected: tuple[str, int]) -> None:
    """--dns-server takes IP, IP:PORT or [IPv6]:PORT."""
    assert parse_dns_server(spec) == expected


@pytest.mark.parametrize(
    "spec", ["dns.google", "1.2.3", "127.0.0.1:0", "127.0.0.1:70000", "1.1.1.1:53:53", "[::1]:x"]
)
def test_bad_dns_server_is_a_clear_error(spec: str) -> None:
    """A --dns-server that is not IP[:PORT] is a DnsServerError saying what form is expected."""
    with pytest.raises(DnsServerError) as caught:
        discover("taro@example.test", PROVIDERS, Options(spec))
    assert "IP" in caught.value.text.en and "IP" in caught.value.text.ja


def test_bad_address_is_refused_before_any_query(dns_zone_server: ZoneServer) -> None:
    """A hostile 'domain' (a metadata IP) is refused before any DNS or HTTP request."""
    server = dns_zone_server(Zone())
    with pytest.raises(AddressError):
        discover("x@169.254.169.254", PROVIDERS, _options(server))
    assert "169.254" not in _queries(server)


# --- the command line ------------------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "MAILCHECK_KNOWLEDGE": str(KNOWLEDGE),
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "settings", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_cli_settings_json_fields() -> None:
    """`mailcheck settings ADDRESS --json --offline` prints the documented fields."""
    result = _cli("taro@docomo.ne.jp", "--json", "--offline")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"address", "domain", "provider", "source", "incoming", "notes"} <= set(data)
    assert data["provider"] == "docomo" and data["source"] == "provider_file"
    assert data["incoming"][0] | {"login": None} == {
        "protocol": "imap",
        "host": "imap.spmode.ne.jp",
        "port": 993,
        "security": "ssl",
        "username": "id",
        "login": None,
        "verified": False,
    }


def test_cli_settings_text_via_dns_server(dns_zone_server: ZoneServer) -> None:
    """The text answer names the source; --dns-server aims discovery at the given server."""
    server = dns_zone_server(Zone(mx=[("corp.test", "smtp.google.com", 1)]))
    result = _cli("hanako@corp.test", "--dns-server", server.address, "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "imap.gmail.com" in result.stdout and "MX smtp.google.com" in result.stdout


BAD_CLI = [
    ("empty", ""),
    ("no-at", "taro"),
    ("10KB", "a" * 10_000 + "@example.jp"),
    ("control-chars", "ta\x1bro@example.jp"),
    ("metadata-ip", "x@169.254.169.254"),
    ("localhost", "root@localhost"),
]


@pytest.mark.parametrize("address", [c[1] for c in BAD_CLI], ids=[c[0] for c in BAD_CLI])
def test_cli_rejects_bad_addresses_with_exit_2(address: str) -> None:
    """Malformed or hostile addresses: one 'Error:' line, exit 2, no traceback."""
    result = _cli(address, "--offline")
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr
    assert len(result.stderr) < 400


def test_cli_bad_dns_server_exit_2() -> None:
    """--dns-server that is not IP[:PORT] is a usage error."""
    result = _cli("taro@example.test", "--dns-server", "dns.google")
    assert result.returncode == 2 and "Error: " in result.stderr and "Traceback" not in result.stderr


def test_cli_nothing_found_offline_exit_1() -> None:
    """--offline for a domain not in the knowledge folder says so and exits 1."""
    result = _cli("taro@example.test", "--offline", "--lang", "en")
    assert result.returncode == 1 and "not in the knowledge folder" in result.stdout


# --- --verify against real Dovecot servers ---------------------------------------------------------

VERIFY_TLS = "mail.verify.test"  # IMAP/POP with SSL/TLS and STARTTLS, trusted test certificate
VERIFY_PLAIN = "mail.verifyplain.test"  # IMAP/POP without any TLS


@pytest.fixture(scope="module")
def verify_servers() -> Iterator[tuple[Path, dict[str, str]]]:
    """Two real Dovecot instances of this module's own (127.0.0.41 with TLS, .42 without), stopped after."""
    from tests.servers.dovecot import DovecotFarm, DovecotSpec, start, stop

    specs = [
        DovecotSpec("verify_tls", "127.0.0.41", VERIFY_TLS, "valid"),
        DovecotSpec("verify_plain", "127.0.0.42", VERIFY_PLAIN, None),
    ]
    with DovecotFarm() as farm:
        servers = [start(spec, farm.base, farm.ca) for spec in specs]
        try:
            yield farm.cafile, {s.hostname: s.ip for s in specs}
        finally:
            for server in servers:
                stop(server.process)


def _probe_fn(dns: DnsServer, cafile: Path) -> Callable[..., object]:
    import ipaddress

    from bot.probe import run_probe

    def probe(host: str, ports: dict[str, int]) -> object:
        allow = [ipaddress.ip_network("127.0.0.0/8")]
        return run_probe(
            host, timeout=8.0, dns_server=dns.address, cafile=str(cafile), ports=ports, allow=allow
        )

    return probe


VERIFY_CASES = [
    ("ssl-as-published", VERIFY_TLS, "imap", 993, "ssl", "match"),
    ("starttls-as-published", VERIFY_TLS, "pop3", 110, "starttls", "match"),
    ("ssl-port-closed", VERIFY_PLAIN, "imap", 993, "ssl", "differs"),
    ("starttls-not-offered", VERIFY_PLAIN, "imap", 143, "starttls", "differs"),
    ("plain-but-starttls-offered", VERIFY_TLS, "pop3", 110, "none", "differs"),
    ("plain-as-published", VERIFY_PLAIN, "pop3", 110, "none", "match"),
]


@pytest.mark.servers
@pytest.mark.parametrize(
    ("host", "protocol", "port", "security", "status"),
    [c[1:] for c in VERIFY_CASES],
    ids=[c[0] for c in VERIFY_CASES],
)
def test_verify_compares_published_settings_with_the_real_server(
    dns_zone_server: ZoneServer,
    verify_servers: tuple[Path, dict[str, str]],
    host: str,
    protocol: str,
    port: int,
    security: str,
    status: str,
) -> None:
    """SRV-published settings are checked by connecting: port and TLS mode match, or the difference is named."""
    from bot.discover import verify

    cafile, ips = verify_servers
    if security == "none":  # SRV cannot say "no encryption" (RFC 6186); a provider file can
        server = dns_zone_server(Zone(a=dict(ips)))
        published = Incoming(protocol, host, port, security, "address")  # type: ignore[arg-type]
        answer = SettingsAnswer("taro@corp.test", "corp.test", "provider_file", "test", (published,))
    else:
        suffix = "s" if security == "ssl" else ""
        server = dns_zone_server(
            Zone(a=dict(ips), srv=[(f"_{protocol}{suffix}._tcp.corp.test", host, port, 0, 1)])
        )
        answer = discover("taro@corp.test", PROVIDERS, _options(server))
        assert answer.source == "srv" and answer.incoming[0].security == security
    [check] = verify(answer, _probe_fn(server, cafile))
    assert check.status == status, check.message.en
    if host == VERIFY_TLS:
        assert {"imaps:993", "pop3s:995"} <= set(check.offered)
    else:
        assert check.offered == ()


def test_verify_skips_account_specific_hosts() -> None:
    """A host like sv*.xserver.jp cannot be connected to; verify says so instead of guessing."""
    from bot.discover import verify

    answer = settings_offline_for("t@xs1.xsrv.jp")
    checks = verify(answer, lambda host, ports: pytest.fail("no connection may be attempted"))
    assert [c.status for c in checks] == ["skipped", "skipped"]


def settings_offline_for(address: str) -> SettingsAnswer:
    from bot.providers import settings_offline

    return settings_offline(address, PROVIDERS)


@pytest.mark.servers
def test_cli_verify_exit_1_when_the_server_differs(
    dns_zone_server: ZoneServer, verify_servers: tuple[Path, dict[str, str]]
) -> None:
    """`mailcheck settings --verify` names the difference and exits 1 when the server does not match."""
    cafile, ips = verify_servers
    server = dns_zone_server(Zone(a=dict(ips), srv=[("_imaps._tcp.corp.test", VERIFY_PLAIN, 993, 0, 1)]))
    env = {"MAILCHECK_PROBE_ALLOW": "127.0.0.0/8", "MAILCHECK_CAFILE": str(cafile)}
    result = _cli("taro@corp.test", "--dns-server", server.address, "--verify", "--json", env=env)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["verify"][0]["status"] == "differs" and data["verify"][0]["port"] == 993
