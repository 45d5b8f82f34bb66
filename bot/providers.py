"""Provider files: which incoming server, port, security and user name an address needs.

Core module, no network: it loads and validates ``knowledge/providers/*.yml``, checks an e-mail
address, matches a domain or an MX host to a provider, and compares what a person typed into the mail
app with the recommended settings. ``bot.discover`` adds the live sources (SRV, autoconfig, MX).
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast, get_args

from bot.checker import Checker
from bot.model import Entities, EscalationTarget, Text
from bot.yamlsrc import Located, LocatedList, Problem, load_file

Protocol = Literal["imap", "pop3"]
Security = Literal["ssl", "starttls", "none"]
UsernameForm = Literal["address", "localpart", "id"]
Auth = Literal["password", "carrier_password", "app_password", "oauth_only"]
Kind = Literal["carrier", "isp", "freemail", "business", "rental_server"]
Source = Literal["provider_file", "srv", "autoconfig", "mx", "guess", "none"]

PROTOCOLS: tuple[Protocol, ...] = get_args(Protocol)
SECURITIES: tuple[Security, ...] = get_args(Security)
USERNAME_FORMS: tuple[UsernameForm, ...] = get_args(UsernameForm)
AUTHS: tuple[Auth, ...] = get_args(Auth)
KINDS: tuple[Kind, ...] = get_args(Kind)

# Ports that only make sense with one security mode: the "classic mismatch" table.
TLS_PORTS = {993: "imap", 995: "pop3"}
PLAIN_PORTS = {143: "imap", 110: "pop3"}
DEFAULT_PORTS: dict[tuple[str, str], int] = {
    ("imap", "ssl"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("pop3", "ssl"): 995,
    ("pop3", "starttls"): 110,
    ("pop3", "none"): 110,
}
DOMAIN_PLACEHOLDER = "%EMAILDOMAIN%"
MAX_ADDRESS = 254  # RFC 5321 path limit; anything longer is not an address someone uses
MAX_LOCAL = 64
# Special-use names (RFC 6761 / 6762 / 8375): never a mail provider someone asks us about. ``.test`` and
# ``.example`` stay allowed because the tests serve them from a local DNS server.
_RESERVED_SUFFIXES = ("localhost", "local", "internal", "invalid", "arpa", "home.arpa", "onion", "lan")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")

KIND_ESCALATION: dict[str, EscalationTarget] = {
    "carrier": "carrier",
    "isp": "isp",
    "rental_server": "rental_server",
    "freemail": "provider",
    "business": "provider",
}


# --- addresses -------------------------------------------------------------------------------------


class AddressError(ValueError):
    """The text is not an e-mail address we can look up; ``text`` says why in both languages."""

    def __init__(self, text: Text) -> None:
        self.text = text
        super().__init__(text.en)


@dataclass(frozen=True)
class Address:
    local: str
    domain: str  # ASCII (IDNA) form, lower case, no trailing dot: what DNS and provider files use
    display_domain: str  # as the person wrote it, e.g. 例え.jp

    @property
    def address(self) -> str:
        return f"{self.local}@{self.display_domain}"


def _err(ja: str, en: str) -> AddressError:
    return AddressError(Text(ja, en))


def parse_address(raw: object) -> Address:
    """Check an e-mail address and split it; raises AddressError with a plain explanation."""
    if not isinstance(raw, str) or not raw.strip():
        raise _err(
            "メールアドレスが空です。例: taro@example.co.jp",
            "The address is empty. Example: taro@example.co.jp",
        )
    text = unicodedata.normalize("NFKC", raw.strip())
    if len(text) > MAX_ADDRESS:
        raise _err(
            f"長すぎます（{len(text)} 文字）。メールアドレスは 254 文字までです。",
            f"Too long ({len(text)} characters); an e-mail address has at most 254.",
        )
    if any(unicodedata.category(ch)[0] in "CZ" for ch in text):
        raise _err(
            "空白や制御文字が入っています。メールアドレスだけを入力してください。",
            "It contains spaces or control characters; give the address alone.",
        )
    if text.count("@") != 1:
        raise _err(
            "「@」が1つ入ったメールアドレスを入力してください。例: taro@example.co.jp",
            "Give one address with exactly one '@', e.g. taro@example.co.jp",
        )
    local, _, domain = text.partition("@")
    if not local or len(local) > MAX_LOCAL:
        raise _err("「@」の前の部分が空か長すぎます。", "The part before '@' is empty or too long.")
    ascii_domain = check_domain(domain)
    return Address(local, ascii_domain, domain.rstrip(".").lower())


def check_domain(domain: str) -> str:
    """The ASCII form of a mail domain, or AddressError (IP addresses, localhost and the like refused)."""
    name = domain.strip().rstrip(".").lower()
    if not name:
        raise _err("「@」の後ろ（ドメイン）が空です。", "The domain after '@' is empty.")
    if name.startswith("[") or _is_ip(name):
        raise _err(
            f"「{name}」は IP アドレスです。メールアドレスのドメイン名を入力してください。",
            f"{name!r} is an IP address, not a mail domain.",
        )
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise _err(
            f"ドメイン「{name}」の形が正しくありません。", f"The domain {name!r} is not valid."
        ) from None
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise _err(f"ドメイン「{name}」の形が正しくありません。", f"The domain {name!r} is not valid.")
    if (
        any(ascii_name == s or ascii_name.endswith("." + s) for s in _RESERVED_SUFFIXES)
        or len(ascii_name) > 253
    ):
        raise _err(
            f"「{name}」は社内・特殊用途の名前で、メールの提供元を調べられません。",
            f"{name!r} is a local or special-use name; there is no mail provider to look up.",
        )
    return ascii_name


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_hostname(name: str) -> bool:
    """True for a syntactically valid DNS host name (ASCII, dots, 1..63-character labels)."""
    name = name.rstrip(".").lower()
    labels = name.split(".")
    return 0 < len(name) <= 253 and len(labels) >= 2 and all(_LABEL.match(label) for label in labels)


# --- provider files --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """One incoming server as a provider file (or a discovered source) publishes it."""

    protocol: Protocol
    host: str  # may hold %EMAILDOMAIN% or a '*' for an account-specific part (sv*.xserver.jp)
    port: int
    security: Security
    username: UsernameForm
    verified: bool = True
    note: Text | None = None


@dataclass(frozen=True)
class Provider:
    id: str
    name: Text
    kind: Kind
    domains: tuple[str, ...]
    mx: tuple[str, ...]
    incoming: tuple[Server, ...]
    auth: Auth
    password: Text
    where: Text
    sources: tuple[str, ...]
    checked: str
    username_hint: Text | None = None
    notes: tuple[Text, ...] = ()
    source_file: str = ""

    @property
    def escalation(self) -> EscalationTarget:
        return KIND_ESCALATION[self.kind]


PROVIDER_FIELDS = {
    "id",
    "name",
    "kind",
    "domains",
    "mx",
    "incoming",
    "auth",
    "password",
    "where",
    "username_hint",
    "notes",
    "sources",
    "checked",
}
SERVER_FIELDS = {"protocol", "host", "port", "security", "username", "verified", "note"}


def _domain_entry(c: Checker, entry: str, line: int) -> str | None:
    wildcard = entry.startswith("*.")
    try:
        ascii_name = check_domain(entry[2:] if wildcard else entry)
    except AddressError as exc:
        c.add(line, f"domains: {entry!r}: {exc.text.en}")
        return None
    return f"*.{ascii_name}" if wildcard else ascii_name


def _host_ok(host: str) -> bool:
    sample = host.replace(DOMAIN_PLACEHOLDER, "example.jp").replace("*", "x")
    return host == host.lower().replace(DOMAIN_PLACEHOLDER.lower(), DOMAIN_PLACEHOLDER) and is_hostname(
        sample
    )


def _server(c: Checker, raw: Any, line: int, n: int) -> Server | None:
    what = f"incoming #{n}"
    if not isinstance(raw, Located):
        c.add(line, f"{what}: must be a mapping with protocol, host, port, security, username")
        return None
    c.unknown_fields(raw, SERVER_FIELDS, what)
    protocol = c.choice(raw, "protocol", PROTOCOLS, what)
    security = c.choice(raw, "security", SECURITIES, what)
    username = c.choice(raw, "username", USERNAME_FORMS, what)
    host, port = raw.get("host"), raw.get("port")
    if not isinstance(host, str) or not _host_ok(host):
        c.add(
            raw.line_of("host"),
            f"{what}: host {host!r} is not a host name (lower case; may use "
            f"{DOMAIN_PLACEHOLDER} or * for an account-specific part)",
        )
        host = None
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        c.add(raw.line_of("port"), f"{what}: port {port!r} must be a number from 1 to 65535")
        port = None
    verified = raw.get("verified", True)
    if not isinstance(verified, bool):
        c.add(raw.line_of("verified"), f"{what}: verified must be true or false")
    note = c.text_value(raw["note"], raw.line_of("note"), f"{what} note") if "note" in raw else None
    if None in (protocol, security, username, host, port):
        return None
    server = Server(
        cast(Protocol, protocol),
        cast(str, host),
        cast(int, port),
        cast(Security, security),
        cast(UsernameForm, username),
        verified is not False,
        note,
    )
    _classic_in_file(c, server, raw.line_of("port"), what)
    return server


def _classic_in_file(c: Checker, s: Server, line: int, what: str) -> None:
    # The same mistakes we catch in people's settings must not sit in our own files.
    if s.security == "ssl" and s.port in PLAIN_PORTS:
        c.add(
            line,
            f"{what}: port {s.port} is the plain port; with security ssl use {DEFAULT_PORTS[(s.protocol, 'ssl')]}",
        )
    if s.security != "ssl" and s.port in TLS_PORTS:
        c.add(line, f"{what}: port {s.port} is the SSL/TLS port but security is {s.security}")
    expected = TLS_PORTS.get(s.port) or PLAIN_PORTS.get(s.port)
    if expected and expected != s.protocol:
        c.add(line, f"{what}: port {s.port} is a {expected} port but protocol is {s.protocol}")


def _servers(c: Checker, raw: Located) -> tuple[Server, ...]:
    value = raw.get("incoming")
    if value is None:
        c.add(raw.line, "incoming: missing (list of servers; may be [] when notes explain why)")
        return ()
    if not isinstance(value, LocatedList):
        c.add(raw.line_of("incoming"), "incoming: must be a list")
        return ()
    found = (_server(c, item, value.line_at(i), i + 1) for i, item in enumerate(value))
    return tuple(s for s in found if s is not None)


def _texts(c: Checker, raw: Located, key: str) -> tuple[Text, ...]:
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, LocatedList):
        c.add(raw.line_of(key), f"{key}: must be a list of {{ja, en}} texts")
        return ()
    found = (c.text_value(item, value.line_at(i), f"{key} #{i + 1}") for i, item in enumerate(value))
    return tuple(t for t in found if t is not None)


def _required_text(c: Checker, raw: Located, key: str) -> Text | None:
    if key not in raw:
        c.add(raw.line, f"{key}: missing (needs ja and en)")
        return None
    return c.text_value(raw[key], raw.line_of(key), key)


def _checked(c: Checker, raw: Located) -> str:
    value = raw.get("checked")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value
    c.add(raw.line_of("checked"), "checked: the date the facts were last checked, as YYYY-MM-DD")
    return ""


def _sources(c: Checker, raw: Located) -> tuple[str, ...]:
    urls = c.strings(raw, "sources", "sources")
    for url, line in urls:
        if not _URL.match(url):
            c.add(line, f"sources: {url!r} is not an http(s) URL")
    if not urls:
        c.add(raw.line_of("sources"), "sources: at least one URL where these facts come from")
    return tuple(url for url, _ in urls)


def _mx_patterns(c: Checker, raw: Located) -> tuple[str, ...]:
    found = []
    for pattern, line in c.strings(raw, "mx", "mx"):
        pattern = pattern.lower().rstrip(".")
        if not is_hostname(pattern.replace("*", "x")):
            c.add(line, f"mx: {pattern!r} is not a host name pattern (letters, digits, dots, * as wildcard)")
        else:
            found.append(pattern)
    return tuple(found)


def load_provider(path: Path, label: str) -> tuple[Provider | None, list[Problem]]:
    """Parse and validate one provider file."""
    data, problems = load_file(path, label)
    if data is None:
        return None, problems or [Problem(label, 1, "empty file")]
    c = Checker(label)
    if not isinstance(data, Located):
        c.add(1, "a provider file must be a mapping (id, name, domains, incoming, …)")
        return None, problems + c.problems
    c.unknown_fields(data, PROVIDER_FIELDS, "provider")
    pid = data.get("id")
    if not isinstance(pid, str) or not _ID.match(pid):
        c.add(data.line_of("id"), f"id: {pid!r} must be lower-case letters, digits, '-' or '_'")
    elif pid != path.stem:
        c.add(data.line_of("id"), f"id: {pid!r} must match the file name ({path.stem}.yml)")
    name = _required_text(c, data, "name")
    kind = c.choice(data, "kind", KINDS, "provider")
    auth = c.choice(data, "auth", AUTHS, "provider")
    domains = tuple(
        d for d in (_domain_entry(c, e, ln) for e, ln in c.strings(data, "domains", "domains")) if d
    )
    mx = _mx_patterns(c, data)
    incoming = _servers(c, data)
    password, where = _required_text(c, data, "password"), _required_text(c, data, "where")
    hint = (
        c.text_value(data["username_hint"], data.line_of("username_hint"), "username_hint")
        if "username_hint" in data
        else None
    )
    notes = _texts(c, data, "notes")
    if any(s.username == "id" for s in incoming) and hint is None and "username_hint" not in data:
        c.add(
            data.line_of("incoming"),
            "username_hint: needed when a server's username is id (say what the ID is)",
        )
    if not domains and not mx:
        c.add(data.line, "domains or mx: give at least one, or the provider can never be recognised")
    if not incoming and not notes and "incoming" in data:
        c.add(data.line_of("incoming"), "incoming is empty: add notes explaining what to do instead")
    sources, checked = _sources(c, data), _checked(c, data)
    if problems or c.problems or None in (name, kind, auth, password, where):
        return None, problems + c.problems
    provider = Provider(
        id=cast(str, pid),
        name=cast(Text, name),
        kind=cast(Kind, kind),
        domains=domains,
        mx=mx,
        incoming=incoming,
        auth=cast(Auth, auth),
        password=cast(Text, password),
        where=cast(Text, where),
        sources=sources,
        checked=checked,
        username_hint=hint,
        notes=notes,
        source_file=label,
    )
    return provider, problems


def load_providers(directory: Path) -> tuple[list[Provider], list[Problem]]:
    """Every provider file in the folder, and every problem (file:line) found in them."""
    directory = Path(directory)
    problems: list[Problem] = []
    providers: list[Provider] = []
    claimed: dict[str, str] = {}

    def label(path: Path) -> str:
        try:
            return str(path.relative_to(directory.parent.parent))
        except ValueError:
            return str(path)

    for path in sorted(directory.glob("*.y*ml")):
        provider, found = load_provider(path, label(path))
        problems += found
        if provider is None:
            continue
        for domain in provider.domains:
            if domain in claimed:
                problems.append(
                    Problem(provider.source_file, 1, f"domains: {domain!r} is also in {claimed[domain]}")
                )
            claimed.setdefault(domain, provider.source_file)
        providers.append(provider)
    return providers, problems


# --- matching --------------------------------------------------------------------------------------


def provider_for_domain(providers: Iterable[Provider], domain: str) -> Provider | None:
    """The provider whose domains list names this (ASCII) domain; an exact entry beats a *.suffix one."""
    domain = domain.lower().rstrip(".")
    best: tuple[int, Provider] | None = None
    for p in providers:
        for entry in p.domains:
            if entry == domain:
                return p
            if entry.startswith("*.") and domain.endswith(entry[1:]):
                score = len(entry)
                if best is None or score > best[0]:
                    best = (score, p)
    return best[1] if best else None


def provider_for_mx(providers: Iterable[Provider], mx_hosts: Sequence[str]) -> tuple[Provider, str] | None:
    """The first provider whose MX patterns match one of the MX hosts (best preference first)."""
    providers = list(providers)
    for host in mx_hosts:
        name = host.lower().rstrip(".")
        for p in providers:
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in p.mx):
                return p, name
    return None


# --- the answer ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """A recommended incoming server for one address (placeholders filled in)."""

    protocol: Protocol
    host: str
    port: int
    security: Security
    username: UsernameForm
    login: str | None = None  # the exact user name to type, when it follows from the address
    verified: bool = True
    note: Text | None = None

    @property
    def host_varies(self) -> bool:
        """The host has an account-specific part (sv*.xserver.jp): look it up, do not type it as is."""
        return "*" in self.host

    def as_dict(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "username": self.username,
            "login": self.login,
            "verified": self.verified,
        }


@dataclass(frozen=True)
class Attempt:
    """One source tried on the way to the answer, and what it gave."""

    source: Source
    detail: str  # file, DNS name or URL
    outcome: Text


@dataclass(frozen=True)
class SettingsAnswer:
    address: str
    domain: str
    source: Source
    source_detail: str
    incoming: tuple[Incoming, ...]
    provider: Provider | None = None
    notes: tuple[Text, ...] = ()
    tried: tuple[Attempt, ...] = ()
    provider_name: str | None = None  # from an autoconfig document when there is no provider file

    @property
    def provider_id(self) -> str | None:
        if self.provider is not None:
            return self.provider.id
        return self.provider_name

    def as_dict(self, lang: Literal["ja", "en"] = "ja") -> dict[str, object]:
        """The public ``--json`` shape (documented in the issue; keep the field names)."""
        return {
            "address": self.address,
            "domain": self.domain,
            "provider": self.provider_id,
            "source": self.source,
            "source_detail": self.source_detail,
            "incoming": [s.as_dict() for s in self.incoming],
            "notes": [n.get(lang) for n in self.notes],
            "tried": [
                {"source": a.source, "detail": a.detail, "outcome": a.outcome.get(lang)} for a in self.tried
            ],
        }


def login_for(form: UsernameForm, address: Address) -> str | None:
    if form == "address":
        return address.address
    if form == "localpart":
        return address.local
    return None


def incoming_for(provider: Provider, address: Address) -> tuple[Incoming, ...]:
    """The provider's servers with %EMAILDOMAIN% filled in for this address."""
    return tuple(
        Incoming(
            s.protocol,
            s.host.replace(DOMAIN_PLACEHOLDER, address.domain),
            s.port,
            s.security,
            s.username,
            login_for(s.username, address),
            s.verified,
            s.note,
        )
        for s in provider.incoming
    )


def provider_notes(provider: Provider) -> tuple[Text, ...]:
    """What a person needs besides host and port: password kind, where the values are shown, notes."""
    notes = [provider.password, provider.where]
    if provider.username_hint is not None:
        notes.append(provider.username_hint)
    notes += provider.notes
    if any(not s.verified for s in provider.incoming):
        notes.append(UNVERIFIED_NOTE)
    return tuple(notes)


UNVERIFIED_NOTE = Text(
    "「未確認」の値は提供元のページで確認できていません。設定前に提供元の案内で確かめてください。",
    "Values marked 'unverified' were not confirmed on the provider's own page; check its guide first.",
)


def answer_from_provider(
    provider: Provider, address: Address, source: Source, detail: str, tried: Sequence[Attempt] = ()
) -> SettingsAnswer:
    return SettingsAnswer(
        address=address.address,
        domain=address.domain,
        source=source,
        source_detail=detail,
        incoming=incoming_for(provider, address),
        provider=provider,
        notes=provider_notes(provider),
        tried=tuple(tried),
    )


def settings_offline(address: str, providers: Sequence[Provider]) -> SettingsAnswer:
    """The answer from the knowledge folder alone (no network); source ``none`` when nothing matches."""
    addr = parse_address(address)
    provider = provider_for_domain(providers, addr.domain)
    if provider is not None:
        return answer_from_provider(provider, addr, "provider_file", provider.source_file)
    return SettingsAnswer(
        addr.address,
        addr.domain,
        "none",
        "",
        (),
        notes=(NOT_IN_KNOWLEDGE,),
        tried=(Attempt("provider_file", "knowledge/providers", Text("該当なし", "no match")),),
    )


NOT_IN_KNOWLEDGE = Text(
    "この提供元はナレッジのプロバイダー一覧にありません。オフラインでなければ DNS と autoconfig も調べます。",
    "This provider is not in the knowledge folder; without --offline the DNS records and autoconfig are checked too.",
)


# --- comparing with what the person typed ----------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    """What the person says they entered in the mail app (any of it may be unknown)."""

    host: str | None = None
    port: int | None = None
    ssl: bool | None = None
    username: str | None = None
    protocol: Protocol | None = None


@dataclass(frozen=True)
class Mismatch:
    field: Literal["host", "port", "ssl", "username"]
    typed: str
    expected: str
    message: Text
    classic: bool = False  # one of the well-known mix-ups (SSL vs port, address vs ID)


def typed_from_entities(entities: Entities) -> Typed:
    """The values a classified message carries, for ``compare``."""
    protocol = entities.protocol if entities.protocol in PROTOCOLS else None
    return Typed(
        host=entities.hosts[0] if entities.hosts else None,
        port=entities.ports[0] if entities.ports else None,
        ssl=entities.ssl,
        username=entities.usernames[0] if entities.usernames else None,
        protocol=protocol,
    )


def _protocol_of(typed: Typed) -> Protocol | None:
    if typed.protocol:
        return typed.protocol
    by_port = TLS_PORTS.get(typed.port or 0) or PLAIN_PORTS.get(typed.port or 0)
    if by_port:
        return cast(Protocol, by_port)
    host = (typed.host or "").lower()
    if host.startswith("pop"):
        return "pop3"
    if host.startswith("imap"):
        return "imap"
    return None


def reference_server(answer: SettingsAnswer, typed: Typed) -> Incoming | None:
    """The recommended server to compare with: same protocol as typed, else the best one."""
    protocol = _protocol_of(typed)
    same = [s for s in answer.incoming if s.protocol == protocol]
    if same:
        host = (typed.host or "").lower().rstrip(".")
        return next((s for s in same if _host_matches(host, s.host)), same[0])
    return answer.incoming[0] if answer.incoming else None


def _host_matches(typed: str, expected: str) -> bool:
    return fnmatch.fnmatchcase(typed, expected.lower()) if "*" in expected else typed == expected.lower()


def _ssl_word(on: bool) -> Text:
    return Text("オン", "on") if on else Text("オフ", "off")


def classic_mismatches(typed: Typed) -> list[Mismatch]:
    """SSL switched on with a plain port, or off with an SSL port: wrong whatever the provider is."""
    if typed.ssl is None or typed.port is None:
        return []
    port = typed.port
    if typed.ssl and port in PLAIN_PORTS:
        right = 993 if PLAIN_PORTS[port] == "imap" else 995
        return [
            Mismatch(
                "port",
                str(port),
                str(right),
                Text(
                    f"SSL がオンなのにポートが {port} です。SSL を使うならポートは {right} にします。",
                    f"SSL is on but the port is {port}; with SSL the port is {right}.",
                ),
                classic=True,
            )
        ]
    if not typed.ssl and port in TLS_PORTS:
        return [
            Mismatch(
                "ssl",
                "off",
                "on",
                Text(
                    f"ポート {port} は SSL 専用です。「SSL を使用」をオンにしてください。",
                    f"Port {port} is for SSL only; switch 'Use SSL' on.",
                ),
                classic=True,
            )
        ]
    return []


def compare(answer: SettingsAnswer, typed: Typed) -> tuple[Mismatch, ...]:
    """Which typed values differ from the recommended ones, and what to type instead."""
    found = classic_mismatches(typed)
    server = reference_server(answer, typed)
    if server is None:
        return tuple(found)
    found += _compare_host(server, typed) + _compare_port(server, typed, found)
    found += _compare_ssl(server, typed, found) + _compare_username(answer, server, typed)
    return tuple(found)


def _compare_host(server: Incoming, typed: Typed) -> list[Mismatch]:
    if not typed.host:
        return []
    host = typed.host.lower().rstrip(".")
    if _host_matches(host, server.host):
        return []
    hint = "（* の部分は契約ごとに違います）" if server.host_varies else ""
    hint_en = " (the * part differs per account)" if server.host_varies else ""
    return [
        Mismatch(
            "host",
            typed.host,
            server.host,
            Text(
                f"受信サーバーは「{server.host}」です{hint}。入力された「{typed.host}」ではありません。",
                f"The incoming server is {server.host}{hint_en}, not {typed.host}.",
            ),
        )
    ]


def _compare_port(server: Incoming, typed: Typed, earlier: list[Mismatch]) -> list[Mismatch]:
    if typed.port is None or typed.port == server.port or any(m.field == "port" for m in earlier):
        return []
    return [
        Mismatch(
            "port",
            str(typed.port),
            str(server.port),
            Text(
                f"ポートは {server.port} にします（入力: {typed.port}）。",
                f"Use port {server.port} (typed: {typed.port}).",
            ),
        )
    ]


def _compare_ssl(server: Incoming, typed: Typed, earlier: list[Mismatch]) -> list[Mismatch]:
    if typed.ssl is None or server.security == "starttls" or any(m.field == "ssl" for m in earlier):
        return []
    want = server.security == "ssl"
    if typed.ssl == want:
        return []
    return [
        Mismatch(
            "ssl",
            _ssl_word(typed.ssl).en,
            _ssl_word(want).en,
            Text(
                f"「SSL を使用」は{_ssl_word(want).ja}にします（ポート {server.port}）。",
                f"Switch 'Use SSL' {_ssl_word(want).en} (port {server.port}).",
            ),
        )
    ]


def _compare_username(answer: SettingsAnswer, server: Incoming, typed: Typed) -> list[Mismatch]:
    if not typed.username:
        return []
    name = typed.username.strip()
    full = answer.address.lower()
    if server.username == "id" and name.lower() == full:
        hint = answer.provider.username_hint if answer.provider and answer.provider.username_hint else None
        return [
            Mismatch(
                "username",
                name,
                "ID",
                Text(
                    "ユーザー名にメールアドレスが入っています。ここには提供元の ID を入れます。"
                    + (hint.ja if hint else ""),
                    "The user name is the e-mail address, but this provider wants its ID here. "
                    + (hint.en if hint else ""),
                ),
                classic=True,
            )
        ]
    if server.username == "address" and "@" not in name and server.login and name.lower() != full:
        return [
            Mismatch(
                "username",
                name,
                server.login,
                Text(
                    f"ユーザー名はメールアドレス全体（{server.login}）です。",
                    f"The user name is the whole address ({server.login}).",
                ),
                classic=True,
            )
        ]
    if server.username == "localpart" and "@" in name and server.login:
        return [
            Mismatch(
                "username",
                name,
                server.login,
                Text(
                    f"ユーザー名は「@」より前だけ（{server.login}）です。",
                    f"The user name is only the part before '@' ({server.login}).",
                ),
                classic=True,
            )
        ]
    return []


def compare_entities(answer: SettingsAnswer, entities: Entities) -> tuple[Mismatch, ...]:
    """``compare`` for a classified message: the diagnosis reply calls this when an address is named."""
    return compare(answer, typed_from_entities(entities))


__all__ = [
    "Address",
    "AddressError",
    "Attempt",
    "Incoming",
    "Mismatch",
    "Provider",
    "Server",
    "SettingsAnswer",
    "Typed",
    "answer_from_provider",
    "check_domain",
    "compare",
    "compare_entities",
    "load_providers",
    "parse_address",
    "provider_for_domain",
    "provider_for_mx",
    "settings_offline",
    "typed_from_entities",
]
