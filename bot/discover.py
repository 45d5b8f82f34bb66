"""Incoming-server settings from an e-mail address, the way Thunderbird's account setup finds them.

Sources, in order, each named in the answer: the knowledge folder's provider files; RFC 6186 SRV
records; the domain's autoconfig document (Thunderbird's clientConfig XML); a provider recognised by
the domain's MX host; and last a guess (``imap.<domain>`` / ``mail.<domain>``) marked as a guess.

Everything that talks to the network takes its targets as arguments (DNS server, autoconfig URL
templates) so tests aim it at loopback without patching. A slow or hostile answer is a result, never
an exception: documents are size- and time-bounded, DTDs and entities are refused, and autoconfig is
only fetched from public addresses unless the caller explicitly allows private ones.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import dns.exception
import dns.rdtypes.IN.SRV
import dns.resolver

from bot.model import Check, ProbeReport, Text
from bot.providers import (
    DOMAIN_PLACEHOLDER,
    Address,
    Attempt,
    Incoming,
    Protocol,
    Provider,
    Security,
    SettingsAnswer,
    Source,
    UsernameForm,
    answer_from_provider,
    is_hostname,
    login_for,
    parse_address,
    provider_for_domain,
    provider_for_mx,
)

DEFAULT_AUTOCONFIG_URLS: tuple[str, ...] = (
    "https://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={address}",
    "http://autoconfig.{domain}/mail/config-v1.1.xml?emailaddress={address}",
    "https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
)
MAX_AUTOCONFIG_BYTES = 64 * 1024  # real clientConfig documents are 1-5 KB
MAX_SERVERS = 10
# RFC 6186 section 3.2 / 3.3: implicit TLS first (RFC 8314 prefers it), then STARTTLS.
SRV_SERVICES: tuple[tuple[str, Protocol, Security], ...] = (
    ("_imaps._tcp", "imap", "ssl"),
    ("_imap._tcp", "imap", "starttls"),
    ("_pop3s._tcp", "pop3", "ssl"),
    ("_pop3._tcp", "pop3", "starttls"),
)
SOCKET_TYPES: dict[str, Security] = {"ssl": "ssl", "tls": "ssl", "starttls": "starttls", "plain": "none"}


class DnsServerError(ValueError):
    """``--dns-server`` is not ``IP[:PORT]``; ``text`` says so in both languages."""

    def __init__(self, spec: str) -> None:
        shown = spec if len(spec) <= 60 else spec[:57] + "..."
        self.text = Text(
            f"DNS サーバー「{shown}」は IP アドレス（:ポート）で指定してください。例: 192.0.2.53 または 192.0.2.53:5353",
            f"DNS server {shown!r} must be an IP address with an optional port, e.g. 192.0.2.53 or 192.0.2.53:5353",
        )
        super().__init__(self.text.en)


@dataclass(frozen=True)
class Options:
    dns_server: str | None = None  # "IP[:PORT]"; None means the system's resolver
    offline: bool = False
    autoconfig_urls: tuple[str, ...] = DEFAULT_AUTOCONFIG_URLS
    allow_private: bool = False  # fetch autoconfig from private/loopback addresses (tests only)
    timeout: float = 4.0
    max_bytes: int = MAX_AUTOCONFIG_BYTES


# --- DNS -------------------------------------------------------------------------------------------


def parse_dns_server(spec: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT`` or ``[IPv6]:PORT`` → (ip, port); DnsServerError otherwise."""
    text = spec.strip()
    match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?", text) or re.fullmatch(
        r"([0-9.]+)(?::(\d{1,5}))?", text
    )
    if match is None:
        try:
            return str(ipaddress.IPv6Address(text)), 53
        except ValueError:
            raise DnsServerError(spec) from None
    try:
        ip = ipaddress.ip_address(match.group(1))
    except ValueError:
        raise DnsServerError(spec) from None
    port = int(match.group(2) or 53)
    if not 0 < port < 65536:
        raise DnsServerError(spec)
    return str(ip), port


def make_resolver(dns_server: str | None, timeout: float) -> dns.resolver.Resolver:
    """A resolver aimed at ``dns_server`` (never the system's) when one is given."""
    if dns_server:
        ip, port = parse_dns_server(dns_server)
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [ip]
        resolver.port = port
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = []
    resolver.lifetime = timeout
    resolver.timeout = timeout
    return resolver


class _Dns:
    """Queries that answer (records, None) or (None, why) and remember when DNS cannot be reached."""

    def __init__(self, resolver: dns.resolver.Resolver) -> None:
        self.resolver = resolver
        self.unreachable: Text | None = None if resolver.nameservers else NO_DNS

    def query(self, name: str, rdtype: str) -> tuple[list[object], Text | None]:
        if self.unreachable is not None:
            return [], self.unreachable
        try:
            answer = self.resolver.resolve(name, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return [], Text("レコードなし", "no record")
        except (dns.resolver.LifetimeTimeout, dns.resolver.NoNameservers) as exc:
            # Once the server does not answer, every later query would wait the full timeout too.
            self.unreachable = Text(
                f"DNS サーバーが応答しません（{type(exc).__name__}）",
                f"the DNS server does not answer ({type(exc).__name__})",
            )
            return [], self.unreachable
        except dns.exception.DNSException as exc:
            return [], Text(f"DNS エラー: {type(exc).__name__}", f"DNS error: {type(exc).__name__}")
        return list(answer), None

    def addresses(self, name: str) -> list[str]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            records, _ = self.query(name, rdtype)
            found += [str(getattr(r, "address", "")) for r in records]
        return [a for a in found if a]


NO_DNS = Text("DNS サーバーが設定されていません", "no DNS server is configured")


# --- SRV (RFC 6186) --------------------------------------------------------------------------------


def srv_servers(lookup: _Dns, address: Address) -> tuple[list[Incoming], Text]:
    """Servers from _imaps/_imap/_pop3s/_pop3 SRV records, best first, and what was found."""
    servers: list[Incoming] = []
    outcomes: list[Text] = []
    for service, protocol, security in SRV_SERVICES:
        records, why = lookup.query(f"{service}.{address.domain}", "SRV")
        usable = _usable_srv(records)
        servers += [
            Incoming(protocol, target, port, security, "address", login_for("address", address))
            for target, port in usable
        ]
        outcome = (
            Text(f"{len(usable)} 件", f"{len(usable)}")
            if usable
            else why or Text("使える宛先なし", "no usable target")
        )
        outcomes.append(Text(f"{service}: {outcome.ja}", f"{service}: {outcome.en}"))
    return servers[:MAX_SERVERS], _joined(outcomes)


def _joined(parts: Sequence[Text]) -> Text:
    return Text("; ".join(p.ja for p in parts), "; ".join(p.en for p in parts))


def _usable_srv(records: Sequence[object]) -> list[tuple[str, int]]:
    srvs = [r for r in records if isinstance(r, dns.rdtypes.IN.SRV.SRV)]
    srvs.sort(key=lambda r: (r.priority, -r.weight))
    found = []
    for r in srvs:
        target = str(r.target).rstrip(".").lower()
        # "." means "this service is not offered" (RFC 2782); anything not a host name is ignored.
        if target and r.port and is_hostname(target):
            found.append((target, int(r.port)))
    return found


# --- autoconfig (Thunderbird clientConfig) ---------------------------------------------------------


class AutoconfigError(Exception):
    def __init__(self, text: Text) -> None:
        self.text = text
        super().__init__(text.en)


@dataclass(frozen=True)
class ClientConfig:
    name: str | None
    incoming: tuple[Incoming, ...]


def _fail(ja: str, en: str) -> AutoconfigError:
    return AutoconfigError(Text(ja, en))


def parse_clientconfig(data: bytes, address: Address) -> ClientConfig:
    """Incoming servers from a clientConfig document; AutoconfigError for anything unsafe or unusable."""
    text = _safe_xml_text(data)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise _fail(f"XML として読めません（{exc}）", f"not well-formed XML ({exc})") from None
    if root.tag != "clientConfig":
        raise _fail(
            "clientConfig 形式ではありません", f"not a clientConfig document (root <{root.tag[:40]}>)"
        )
    provider = root.find("emailProvider")
    if provider is None:
        raise _fail("emailProvider がありません", "no <emailProvider>")
    servers = [s for s in (_server_from(e, address) for e in provider.findall("incomingServer")) if s]
    if not servers:
        raise _fail("使える IMAP/POP サーバーが書かれていません", "no usable IMAP or POP server in it")
    name = (provider.findtext("displayName") or provider.get("id") or "").strip()[:80] or None
    return ClientConfig(name, tuple(servers[:MAX_SERVERS]))


def _safe_xml_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail("UTF-8 ではありません", "not UTF-8") from None
    lowered = text.lower()
    # No DTD means no entity can be declared: billion-laughs and external entities are impossible.
    if "<!doctype" in lowered or "<!entity" in lowered:
        raise _fail("DTD / ENTITY を含むため読みません", "refused: contains a DTD or ENTITY declaration")
    declared = re.match(r"<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", text)
    if declared and declared.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise _fail("UTF-8 以外の文字コード宣言です", f"declares encoding {declared.group(1)!r}, not UTF-8")
    # Parse the str with the declaration removed: the bytes were already checked as UTF-8.
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)


def _server_from(element: ET.Element, address: Address) -> Incoming | None:
    protocol = (element.get("type") or "").lower()
    if protocol not in ("imap", "pop3"):
        return None
    host = (
        (element.findtext("hostname") or "")
        .strip()
        .lower()
        .replace(DOMAIN_PLACEHOLDER.lower(), address.domain)
    )
    socket_type = SOCKET_TYPES.get((element.findtext("socketType") or "").strip().lower())
    try:
        port = int((element.findtext("port") or "").strip())
    except ValueError:
        return None
    if not is_hostname(host) or socket_type is None or not 0 < port < 65536:
        return None
    form = _username_form(element.findtext("username") or "")
    return Incoming(
        "imap" if protocol == "imap" else "pop3", host, port, socket_type, form, login_for(form, address)
    )


def _username_form(value: str) -> UsernameForm:
    value = value.strip()
    if value == "%EMAILADDRESS%":
        return "address"
    if value == "%EMAILLOCALPART%":
        return "localpart"
    return "id"


def autoconfig_urls(templates: Sequence[str], address: Address) -> list[str]:
    quoted = urllib.parse.quote(address.address, safe="@")
    return [t.format(domain=address.domain, address=quoted) for t in templates]


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address we already checked, not to whatever the name resolves to a moment later."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_ip, self.port), self.timeout)


class _PinnedHTTPS(_PinnedHTTP):
    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, ip, timeout)
        self.tls = ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.host)


def fetch_document(url: str, lookup: _Dns, options: Options) -> bytes:
    """GET one autoconfig URL: public addresses only (unless allowed), no redirects, bounded size and time."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise _fail("http(s) の URL ではありません", "not an http(s) URL")
    ip = _pick_address(host, lookup, options.allow_private)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    conn_class = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    conn = conn_class(host, port, ip, options.timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.request(
            "GET", target, headers={"User-Agent": "mailcheck", "Accept": "text/xml, application/xml"}
        )
        return _read_bounded(conn.getresponse(), options)
    except (OSError, http.client.HTTPException) as exc:
        raise _fail(
            f"取得できません（{type(exc).__name__}）", f"cannot fetch ({type(exc).__name__}: {exc})"
        ) from None
    finally:
        conn.close()


def _pick_address(host: str, lookup: _Dns, allow_private: bool) -> str:
    try:
        candidates = [str(ipaddress.ip_address(host))]
    except ValueError:
        candidates = lookup.addresses(host)
        if not candidates:
            raise _fail("名前が DNS にありません", "the name does not resolve") from None
    for ip in candidates:
        if allow_private or ipaddress.ip_address(ip).is_global:
            return ip
    raise _fail(
        "社内・特殊用途のアドレスを指しているため取得しません",
        f"refused: {host} points to a non-public address",
    )


def _read_bounded(response: http.client.HTTPResponse, options: Options) -> bytes:
    if response.status != 200:
        raise _fail(f"HTTP {response.status}", f"HTTP {response.status}")
    deadline = time.monotonic() + options.timeout
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read1(4096)  # read1: one recv at most, so the deadline below is checked often
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > options.max_bytes:
            raise _fail(
                f"大きすぎます（{options.max_bytes} バイト超）", f"too large (over {options.max_bytes} bytes)"
            )
        if time.monotonic() > deadline:
            # A server trickling bytes would otherwise hold us far past the timeout.
            raise _fail("時間切れ", "timed out while reading")
        chunks.append(chunk)


def autoconfig_servers(
    lookup: _Dns, address: Address, options: Options
) -> tuple[ClientConfig | None, str, Text]:
    """The first autoconfig URL that gives a usable document: (config, url, outcome)."""
    outcomes: list[Text] = []
    for url in autoconfig_urls(options.autoconfig_urls, address):
        try:
            config = parse_clientconfig(fetch_document(url, lookup, options), address)
        except AutoconfigError as exc:
            outcomes.append(Text(f"{url}: {exc.text.ja}", f"{url}: {exc.text.en}"))
            continue
        return config, url, Text(f"{len(config.incoming)} 件", f"{len(config.incoming)} server(s)")
    return None, "", _joined(outcomes) if outcomes else Text("URL なし", "no URL to try")


# --- MX and the last-resort guess ------------------------------------------------------------------


def mx_hosts(lookup: _Dns, domain: str) -> tuple[list[str], Text | None]:
    records, why = lookup.query(domain, "MX")
    ordered = sorted(records, key=lambda r: int(getattr(r, "preference", 0)))
    hosts = [str(getattr(r, "exchange", "")).rstrip(".").lower() for r in ordered]
    return [h for h in hosts if h], why


def guess_servers(lookup: _Dns, address: Address) -> tuple[list[Incoming], Text]:
    """imap.<domain> / mail.<domain>: those that exist in DNS, else imap.<domain> as a bare guess."""
    found: list[Incoming] = []
    existing: list[str] = []
    for name in (f"imap.{address.domain}", f"mail.{address.domain}"):
        if lookup.addresses(name):
            existing.append(name)
            found.append(Incoming("imap", name, 993, "ssl", "address", login_for("address", address), False))
    if f"mail.{address.domain}" in existing:
        mail = f"mail.{address.domain}"
        found.append(Incoming("pop3", mail, 995, "ssl", "address", login_for("address", address), False))
    if existing:
        names = "、".join(existing)
        return found, Text(
            f"推測です: {names} は DNS にありますが、メールサーバーかどうかは確認していません。",
            f"A guess: {', '.join(existing)} exist in DNS, but nothing confirms they serve mail.",
        )
    bare = Incoming(
        "imap", f"imap.{address.domain}", 993, "ssl", "address", login_for("address", address), False
    )
    return [bare], Text(
        f"推測です: imap.{address.domain} も mail.{address.domain} も DNS に見つかりません。提供元に設定を確認してください。",
        f"A guess only: neither imap.{address.domain} nor mail.{address.domain} exists in DNS; ask the provider.",
    )


# --- the chain -------------------------------------------------------------------------------------

SRV_NOTE = Text(
    "このドメインの DNS（SRV レコード）に書かれた設定です。",
    "These settings are published in the domain's DNS (SRV records).",
)
AUTOCONFIG_NOTE = Text(
    "このドメインが公開している自動設定ファイル（autoconfig）の設定です。",
    "These settings come from the domain's published autoconfig document.",
)
HTTP_NOTE = Text(
    "自動設定ファイルは暗号化されていない http で取得しました。念のため提供元の案内とも見比べてください。",
    "The autoconfig document came over plain http; compare it with the provider's guide to be safe.",
)
MX_NOTE = Text(
    "メールの受け取り先（MX）が {mx} なので、{name} の設定を案内しています。",
    "The domain's mail goes to {mx} (MX), so these are {name}'s settings.",
)


def discover(address: str, providers: Sequence[Provider], options: Options | None = None) -> SettingsAnswer:
    """The settings for an address, best source first. AddressError / DnsServerError for bad input."""
    options = options or Options()
    addr = parse_address(address)
    provider = provider_for_domain(providers, addr.domain)
    if provider is not None:
        return answer_from_provider(provider, addr, "provider_file", provider.source_file)
    tried = [
        Attempt("provider_file", "knowledge/providers", Text("該当なし", "no provider file for this domain"))
    ]
    if options.offline:
        return _nothing(addr, tried, offline=True)
    lookup = _Dns(make_resolver(options.dns_server, options.timeout))
    return _live_chain(addr, providers, options, lookup, tried)


def _live_chain(
    addr: Address, providers: Sequence[Provider], options: Options, lookup: _Dns, tried: list[Attempt]
) -> SettingsAnswer:
    servers, outcome = srv_servers(lookup, addr)
    tried.append(Attempt("srv", f"_imaps._tcp.{addr.domain} …", outcome))
    if servers:
        return _answer(
            addr, "srv", f"SRV _imaps/_imap/_pop3s/_pop3._tcp.{addr.domain}", servers, (SRV_NOTE,), tried
        )
    config, url, outcome = autoconfig_servers(lookup, addr, options)
    tried.append(Attempt("autoconfig", ", ".join(autoconfig_urls(options.autoconfig_urls, addr)), outcome))
    if config is not None:
        notes = (AUTOCONFIG_NOTE, HTTP_NOTE) if url.startswith("http:") else (AUTOCONFIG_NOTE,)
        answer = _answer(addr, "autoconfig", url, config.incoming, notes, tried)
        return replace(answer, provider_name=config.name)
    hosts, why = mx_hosts(lookup, addr.domain)
    match = provider_for_mx(providers, hosts)
    listed = ", ".join(hosts)
    tried.append(
        Attempt(
            "mx",
            addr.domain,
            Text(listed or (why.ja if why else "なし"), listed or (why.en if why else "none")),
        )
    )
    if match is not None:
        provider, mx = match
        answer = answer_from_provider(provider, addr, "mx", f"MX {mx}", tried)
        note = Text(
            MX_NOTE.ja.format(mx=mx, name=provider.name.ja), MX_NOTE.en.format(mx=mx, name=provider.name.en)
        )
        return replace(answer, notes=(note, *answer.notes))
    return _guess(addr, lookup, tried)


def _guess(addr: Address, lookup: _Dns, tried: list[Attempt]) -> SettingsAnswer:
    if lookup.unreachable is not None:
        tried.append(Attempt("guess", addr.domain, lookup.unreachable))
        return _nothing(addr, tried, offline=False, why=lookup.unreachable)
    servers, reason = guess_servers(lookup, addr)
    tried.append(Attempt("guess", f"imap.{addr.domain}, mail.{addr.domain}", reason))
    return _answer(addr, "guess", f"imap.{addr.domain} / mail.{addr.domain}", servers, (reason,), tried)


def _answer(
    addr: Address,
    source: Source,
    detail: str,
    servers: Sequence[Incoming],
    notes: tuple[Text, ...],
    tried: Sequence[Attempt],
) -> SettingsAnswer:
    return SettingsAnswer(
        addr.address, addr.domain, source, detail, tuple(servers), notes=notes, tried=tuple(tried)
    )


def _nothing(
    addr: Address, tried: Sequence[Attempt], offline: bool, why: Text | None = None
) -> SettingsAnswer:
    if offline:
        note = Text(
            "ナレッジのプロバイダー一覧にないドメインです（--offline なので DNS や autoconfig は調べていません）。",
            "This domain is not in the knowledge folder (--offline: DNS and autoconfig were not checked).",
        )
    else:
        reason = why or Text("不明", "unknown")
        note = Text(
            f"設定を見つけられませんでした（{reason.ja}）。提供元（プロバイダーや管理者）に受信サーバーを確認してください。",
            f"No settings found ({reason.en}). Ask the provider or the admin for the incoming server.",
        )
    return SettingsAnswer(addr.address, addr.domain, "none", "", (), notes=(note,), tried=tuple(tried))


# --- --verify: does what is published match what the servers offer? -------------------------------

VerifyStatus = Literal["match", "differs", "inconclusive", "skipped"]
SERVICES: dict[tuple[str, str], str] = {
    ("imap", "ssl"): "imaps",
    ("imap", "starttls"): "imap",
    ("imap", "none"): "imap",
    ("pop3", "ssl"): "pop3s",
    ("pop3", "starttls"): "pop3",
    ("pop3", "none"): "pop3",
}
STANDARD_PORTS = {"imaps": 993, "imap": 143, "pop3s": 995, "pop3": 110}
# A probe is called with a host and the port for each service; the CLI passes bot.probe.run_probe.
ProbeFn = Callable[[str, Mapping[str, int]], ProbeReport]


@dataclass(frozen=True)
class VerifyCheck:
    server: Incoming
    status: VerifyStatus
    message: Text
    offered: tuple[str, ...] = ()  # receive services that answered with working TLS, e.g. "imaps:993"

    @property
    def ok(self) -> bool:
        return self.status != "differs"

    def as_dict(self, lang: Literal["ja", "en"] = "ja") -> dict[str, object]:
        return {
            "protocol": self.server.protocol,
            "host": self.server.host,
            "port": self.server.port,
            "security": self.server.security,
            "status": self.status,
            "message": self.message.get(lang),
            "offered": list(self.offered),
        }


def verify(answer: SettingsAnswer, probe: ProbeFn) -> tuple[VerifyCheck, ...]:
    """Connect to each recommended server with the probe; say whether port and TLS mode really work."""
    return tuple(verify_server(server, probe) for server in answer.incoming)


def verify_server(server: Incoming, probe: ProbeFn) -> VerifyCheck:
    if server.host_varies:
        why = Text(
            f"{server.host} は契約ごとに名前が違うため、接続して確かめられません。",
            f"{server.host} differs per account, so it cannot be checked by connecting.",
        )
        return VerifyCheck(server, "skipped", why)
    service = SERVICES[(server.protocol, server.security)]
    ports = {**STANDARD_PORTS, service: server.port}
    try:
        report = probe(server.host, {service: server.port})
    except ValueError as exc:  # the probe's own limits (e.g. a port it will not touch): not a server fault
        return VerifyCheck(server, "inconclusive", Text(f"確かめられません: {exc}", f"Cannot check: {exc}"))
    if report.refused is not None:
        why = report.findings[0].message if report.findings else Text(report.refused, report.refused)
        return VerifyCheck(server, "inconclusive", why)
    checks = {c.name: c for c in report.checks}
    offered = tuple(
        f"{s}:{port}" for s, port in ports.items() if _works(checks.get(f"tcp:{s}"), checks.get(f"tls:{s}"))
    )
    status, message = _judge(server, checks.get(f"tcp:{service}"), checks.get(f"tls:{service}"))
    return VerifyCheck(server, status, message, offered)


def _works(tcp: Check | None, tls: Check | None) -> bool:
    return tcp is not None and tcp.status == "ok" and tls is not None and tls.status in ("ok", "warning")


def _judge(server: Incoming, tcp: Check | None, tls: Check | None) -> tuple[VerifyStatus, Text]:
    port, mode = (
        server.port,
        {"ssl": "SSL/TLS", "starttls": "STARTTLS", "none": "暗号化なし"}[server.security],
    )
    if tcp is None or tcp.status == "inconclusive":
        return "inconclusive", Text(
            f"ポート {port} から時間内に応答がありません。", f"No answer on port {port} in time."
        )
    if tcp.status != "ok":
        return "differs", Text(
            f"ポート {port} に接続できません（{tcp.detail}）。公開されている設定と実際のサーバーが違います。",
            f"Cannot connect to port {port} ({tcp.detail}); the published settings do not match the server.",
        )
    if server.security == "none":
        if tls is not None and tls.status in ("ok", "warning"):
            return "differs", Text(
                f"ポート {port} は STARTTLS に対応しています。暗号化なしではなく STARTTLS を使ってください。",
                f"Port {port} offers STARTTLS; use it rather than no encryption.",
            )
        return "match", Text(
            f"ポート {port} に暗号化なしで接続できました。", f"Port {port} answers without encryption."
        )
    if tls is None or tls.status == "failed":
        detail = tls.detail if tls is not None else "no TLS"
        return "differs", Text(
            f"ポート {port} で {mode} が使えません（{detail}）。",
            f"{mode.replace('暗号化なし', 'none')} does not work on port {port} ({detail}).",
        )
    if tls.status == "inconclusive":
        return "inconclusive", Text(
            f"ポート {port} の TLS が時間内に終わりません。", f"TLS on port {port} did not finish in time."
        )
    return "match", Text(
        f"ポート {port} に {mode} で接続できました。公開されている設定どおりです。",
        f"Port {port} works with {mode}, as published.",
    )
