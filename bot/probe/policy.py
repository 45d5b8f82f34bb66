"""What the probe may touch: which names, which addresses, which ports, how often.

The probe connects to names people type in chat, so every address is checked before any socket opens:
private, loopback, link-local, multicast and reserved ranges are refused unless the operator allows a
range. Refusals are values (``Refusal``) so the caller can explain them in both languages.
"""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.model import Text

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The services the probe knows, in the order it reports them, with their standard ports.
MAIL_PORTS: dict[str, int] = {
    "imaps": 993,
    "imap": 143,
    "pop3s": 995,
    "pop3": 110,
    "submissions": 465,
    "submission": 587,
}
RECEIVE_SERVICES = ("imaps", "imap", "pop3s", "pop3")
# Only ports mail is served on: the probe must not become a port scanner for anything else.
ALLOWED_PORTS = frozenset({25, 110, 143, 465, 587, 993, 995, 2525})

MAX_INPUT = 320  # an e-mail address is at most 254 characters; anything much longer is not one
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class ProbeConfigError(ValueError):
    """The operator's settings (ports, DNS server, CA file) are unusable; the message says which and why."""


@dataclass(frozen=True)
class Refusal(Exception):
    """Why the probe will not connect. ``code`` is stable (JSON, logs); ``text`` is for people."""

    code: str
    detail: str
    text: Text

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


@dataclass(frozen=True)
class Target:
    """A host the probe may look up: an ASCII name (IDN already encoded) or an address literal."""

    given: str
    name: str
    ip: Address | None = None
    from_email: bool = False


def _invalid(raw: str, why: str) -> Refusal:
    shown = "".join(c if c.isprintable() else "?" for c in raw.strip())
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return Refusal(
        "invalid_host",
        f"{shown!r}: {why}",
        Text(
            f"「{shown}」はサーバー名として使えません（{_WHY_JA[why]}）。"
            "mail.example.co.jp のようなサーバー名か、メールアドレスを入力してください。",
            f"{shown!r} is not a usable server name ({why}). "
            "Give a server name such as mail.example.com, or an e-mail address.",
        ),
    )


_WHY_JA = {
    "empty": "空です",
    "too long": "長すぎます",
    "contains spaces or control characters": "空白や制御文字が入っています",
    "not an e-mail address": "メールアドレスの形になっていません",
    "a server name has at least one dot": "サーバー名には「.」が少なくとも一つ入ります",
    "not a valid international domain name": "日本語ドメイン名として正しくありません",
    "longer than 253 characters": "253文字より長いです",
    "a part is not allowed in a server name": "サーバー名に使えない部分があります",
    "looks like a number, not a name": "名前ではなく数字のように見えます",
}


def parse_target(raw: str) -> Target:
    """Turn what someone typed (host, domain, e-mail address, IP) into a Target, or raise a Refusal."""
    text = raw.strip()
    if not text:
        raise _invalid(raw, "empty")
    if len(text) > MAX_INPUT:
        raise _invalid(raw, "too long")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() for c in text):
        raise _invalid(raw, "contains spaces or control characters")
    from_email = "@" in text
    if from_email:
        local, _, text = text.rpartition("@")
        if not local:
            raise _invalid(raw, "not an e-mail address")
    ip = _address_literal(text)
    if ip is not None:
        return Target(raw, str(ip), ip, from_email)
    return Target(raw, _ascii_name(raw, text), None, from_email)


def _address_literal(text: str) -> Address | None:
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return ipaddress.ip_address(inner)
    except ValueError:
        return None


def _ascii_name(raw: str, text: str) -> str:
    """IDNA-encode and check every label; refuse forms the C resolver would read as numbers (``127.1``)."""
    # Japanese input methods type full-width dots; IDNA (RFC 3490) treats them as dots too.
    name = re.sub("[\u3002\uff0e\uff61]", ".", text).rstrip(".").lower()
    if not name or "." not in name:
        raise _invalid(raw, "a server name has at least one dot")
    if "" in name.split("."):
        raise _invalid(raw, "a part is not allowed in a server name")
    try:
        ascii_name = name if name.isascii() else name.encode("idna").decode("ascii")
        for label in ascii_name.split("."):
            if label.startswith("xn--"):
                label.encode("ascii").decode("idna")  # punycode that does not decode is not a name
    except UnicodeError:
        raise _invalid(raw, "not a valid international domain name") from None
    if len(ascii_name) > 253:
        raise _invalid(raw, "longer than 253 characters")
    labels = ascii_name.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise _invalid(raw, "a part is not allowed in a server name")
    if labels[-1].isdigit() or re.fullmatch(r"0x[0-9a-f]+", labels[-1]):
        raise _invalid(raw, "looks like a number, not a name")
    return ascii_name


# --- addresses --------------------------------------------------------------------------------------

_KINDS_JA = {
    "loopback": "この機械自身",
    "private": "社内・家庭用（プライベート）",
    "link-local": "リンクローカル",
    "multicast": "マルチキャスト",
    "reserved": "予約済み",
    "unspecified": "未指定",
    "shared": "通信事業者の共有",
    "not global": "インターネット上でない",
}


def address_kind(ip: Address) -> str | None:
    """Why this address is off limits (``loopback``, ``private`` …), or None for a public address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return address_kind(embedded)
    checks: tuple[tuple[str, bool], ...] = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # 169.254.169.254, the cloud metadata service, is here
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("shared", ip in ipaddress.ip_network("100.64.0.0/10")),
        ("not global", not ip.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)


def _embedded_ipv4(ip: Address) -> ipaddress.IPv4Address | None:
    """An IPv6 form that reaches an IPv4 address (mapped, NAT64, 6to4, Teredo) is judged by that address."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return ip.teredo[1] if ip.teredo is not None else None


def check_address(ip: Address, allow: Iterable[Network], host: str) -> None:
    """Raise a Refusal unless the address is public or inside a range the operator allowed."""
    if any(ip in net for net in allow if net.version == ip.version):
        return
    kind = address_kind(ip)
    if kind is None:
        return
    shown = host if host == str(ip) else f"{host} ({ip})"
    raise Refusal(
        "address_not_allowed",
        f"{shown} is {kind}",
        Text(
            f"{shown} は{_KINDS_JA[kind]}のアドレスです。社内ネットワークを守るため、このアドレスには接続しません。",
            f"{shown} is a {kind} address. To protect the internal network the probe does not connect to it.",
        ),
    )


def parse_allow(raw: str | None) -> tuple[Network, ...]:
    """Comma-separated CIDRs (``MAILCHECK_PROBE_ALLOW``); a ProbeConfigError names the bad one."""
    nets: list[Network] = []
    for part in (raw or "").split(","):
        if part.strip():
            try:
                nets.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ProbeConfigError(f"{part.strip()!r} is not a CIDR like 192.0.2.0/24") from None
    return tuple(nets)


# --- ports ------------------------------------------------------------------------------------------


def resolve_ports(overrides: Mapping[str, int] | None) -> dict[str, int]:
    """The standard ports with the operator's overrides; only known services and mail ports."""
    ports = dict(MAIL_PORTS)
    for name, port in (overrides or {}).items():
        if name not in MAIL_PORTS:
            raise ProbeConfigError(f"unknown service {name!r}: use one of {', '.join(MAIL_PORTS)}")
        check_port(port)
        ports[name] = port
    return ports


def check_port(port: int) -> None:
    if port not in ALLOWED_PORTS:
        allowed = ", ".join(str(p) for p in sorted(ALLOWED_PORTS))
        raise ProbeConfigError(f"port {port} is not a mail port; the probe only uses {allowed}")


def parse_port_option(text: str) -> tuple[str, int]:
    """``NAME=PORT`` from the command line, e.g. ``imaps=993``."""
    name, sep, value = text.partition("=")
    if not sep or not value.strip().isdigit():
        raise ProbeConfigError(f"--port {text!r}: expected NAME=PORT, e.g. imaps=993")
    port = int(value)
    resolve_ports({name.strip(): port})
    return name.strip(), port


# --- rate limits ------------------------------------------------------------------------------------


class TokenBucket:
    """``capacity`` probes at once, refilled at ``per_second``. Not thread-safe on its own."""

    def __init__(self, capacity: float, per_second: float, clock: Callable[[], float]) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self._clock = clock
        self._tokens = capacity
        self._at = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.per_second)
        self._at = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.per_second

    def take(self) -> None:
        self._refill()
        self._tokens -= 1


class RateLimiter:
    """A per-user and a global token bucket, shared by every entry point (Slack app, CLI, console).

    A user who is limited does not spend a global token, so one busy person cannot starve the others.
    """

    def __init__(
        self,
        per_user: tuple[float, float] = (3, 1 / 20),  # 3 at once, then one every 20 s
        overall: tuple[float, float] = (20, 1 / 3),  # 20 at once, then one every 3 s
        clock: Callable[[], float] = time.monotonic,
        max_users: int = 10_000,
    ) -> None:
        self._per_user = per_user
        self._clock = clock
        self._global = TokenBucket(*overall, clock)
        self._users: OrderedDict[str, TokenBucket] = OrderedDict()
        self._max_users = max_users
        self._lock = threading.Lock()

    def acquire(self, user: str | None = None) -> float:
        """Take a token; return 0.0 when the probe may run, else the seconds to wait."""
        with self._lock:
            bucket = self._user_bucket(user) if user else None
            wait = max(self._global.wait_time(), bucket.wait_time() if bucket else 0.0)
            if wait > 0:
                return wait
            self._global.take()
            if bucket:
                bucket.take()
            return 0.0

    def _user_bucket(self, user: str) -> TokenBucket:
        bucket = self._users.pop(user, None) or TokenBucket(*self._per_user, self._clock)
        self._users[user] = bucket  # most recently used last; the oldest is forgotten first
        while len(self._users) > self._max_users:
            self._users.popitem(last=False)
        return bucket


def rate_limited(wait: float, user: str | None) -> Refusal:
    seconds = max(1, round(wait))
    who = "user" if user else "global"
    return Refusal(
        "rate_limited",
        f"{who} limit, retry in {seconds} s",
        Text(
            f"サーバーの確認が続いたため、少し休んでいます。{seconds}秒ほど待ってからもう一度お試しください。",
            f"Too many server checks in a short time. Please try again in about {seconds} seconds.",
        ),
    )
