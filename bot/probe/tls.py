"""TLS: protocol version, chain validity, host-name match, expiry, self-signed, weak protocol.

The handshake verifies the chain with OpenSSL (system trust store or the operator's CA file) but leaves
the host name to us, so a wrong name and an expired certificate are both reported, not just the first.
When verification fails, the caller reconnects once without verification to read the certificate and
say exactly what is wrong with it (how many days ago it expired, which name it is for).
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from bot.probe.policy import ProbeConfigError

EXPIRY_SOON_DAYS = 14
WEAK_VERSIONS = frozenset({"SSLv3", "TLSv1", "TLSv1.1"})
# X509_V_ERR_* codes that mean "nobody we trust vouches for this certificate".
_SELF_SIGNED = {18, 19}  # DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN
_EXPIRED, _NOT_YET_VALID = 10, 9
_PROTOCOL_REASONS = (
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "VERSION",
    "NO_CIPHERS",
    "SSLV3_ALERT_HANDSHAKE_FAILURE",
)


@dataclass(frozen=True)
class Contexts:
    """The three ways the probe speaks TLS, built once per probe."""

    verify: ssl.SSLContext  # chain checked, name left to name_matches so every problem is reported
    inspect: ssl.SSLContext  # nothing checked: only to read a certificate the first one refused
    legacy: ssl.SSLContext  # old protocols allowed: only to name an old server's protocol
    login: ssl.SSLContext  # chain and name checked: the only one a password is ever sent over


def _trusting(cafile: str | None) -> ssl.SSLContext:
    """The system trust store, plus the operator's CA file (a company CA) when one is given."""
    context = ssl.create_default_context()
    if cafile:
        try:
            context.load_verify_locations(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise ProbeConfigError(f"CA file {cafile!r} cannot be used: {why}") from None
    return context


def make_contexts(cafile: str | None) -> Contexts:
    """Contexts for this CA file, built once: loading the system trust store takes ~50 ms each time.
    A changed CA file (new modification time) gets new contexts."""
    stamp = os.stat(cafile).st_mtime_ns if cafile and os.path.exists(cafile) else 0
    return _make_contexts(cafile or None, stamp)


@functools.lru_cache(maxsize=8)
def _make_contexts(cafile: str | None, stamp: int) -> Contexts:
    verify = _trusting(cafile)
    verify.check_hostname = False  # checked by name_matches, so a wrong name does not hide other problems
    login = _trusting(cafile)
    inspect = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    inspect.check_hostname = False
    inspect.verify_mode = ssl.CERT_NONE
    legacy = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    legacy.check_hostname = False
    legacy.verify_mode = ssl.CERT_NONE
    legacy.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED  # the named old versions warn as deprecated
    # OpenSSL 3 refuses TLS 1.0/1.1 above security level 0; only used to name an old server's protocol.
    legacy.set_ciphers("DEFAULT:@SECLEVEL=0")
    return Contexts(verify, inspect, legacy, login)


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    names: tuple[str, ...]
    not_before: dt.datetime
    not_after: dt.datetime
    self_signed: bool


@dataclass(frozen=True)
class TlsResult:
    """What the handshake and the certificate showed. ``problems`` is empty for a good, current setup."""

    established: bool
    version: str = ""
    cert: CertInfo | None = None
    trusted: bool = False
    name_ok: bool = False
    days_left: int | None = None
    # Any of: expired, not_yet_valid, self_signed, untrusted, name_mismatch, weak_protocol, handshake, timeout.
    problems: tuple[str, ...] = ()
    verify_message: str = ""
    error: str = ""

    @property
    def valid(self) -> bool:
        """A client with default settings would accept this server."""
        return self.established and not self.problems

    @property
    def describe(self) -> str:
        if not self.established:
            return f"TLS handshake failed: {self.error}"
        parts = [self.version]
        if self.cert:
            parts.append(f"certificate for {', '.join(self.cert.names[:3]) or self.cert.subject}")
            parts.append(f"issued by {self.cert.issuer}")
        parts.append(_expiry_words(self.days_left))
        parts.append(
            "trusted" if self.trusted else f"NOT trusted ({self.verify_message or 'unknown issuer'})"
        )
        if not self.name_ok:
            parts.append("name does NOT match")
        return ", ".join(p for p in parts if p)


def _expiry_words(days: int | None) -> str:
    if days is None:
        return ""
    return f"expired {-days} days ago" if days < 0 else f"expires in {days} days"


def handshake(sock: socket.socket, host: str, context: ssl.SSLContext) -> ssl.SSLSocket:
    """Wrap an open socket. For a name, SNI carries it; for an address literal Python sends no SNI
    (RFC 6066) and, with the login context, checks the address against the certificate instead."""
    return context.wrap_socket(sock, server_hostname=host)


def is_protocol_error(exc: ssl.SSLError) -> bool:
    """The server and we share no protocol version: worth one more try to name the server's old one."""
    return any(r in str(exc.reason or exc).upper() for r in _PROTOCOL_REASONS)


def failed(exc: BaseException) -> TlsResult:
    if isinstance(exc, TimeoutError):
        return TlsResult(False, problems=("timeout",), error="no answer in time")
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    return TlsResult(False, problems=("handshake",), error=str(reason))


def evaluate(sock: ssl.SSLSocket, host: str, now: dt.datetime, *, verified: bool,
             failure: ssl.SSLCertVerificationError | None = None) -> TlsResult:  # fmt: skip
    """Judge an established connection's certificate and protocol.

    ``verified``: the handshake checked the chain and it passed. ``failure``: it checked and failed.
    Neither (the old-protocol retry): nothing is known about trust, so nothing is said about it.
    """
    der = sock.getpeercert(binary_form=True)
    version = sock.version() or ""
    cert = parse_cert(der) if der else None
    code = failure.verify_code if failure else 0
    problems: list[str] = []
    days_left = None
    if cert is not None:
        days_left = _days_between(now, cert.not_after)
        if cert.not_after < now or code == _EXPIRED:
            problems.append("expired")
        if cert.not_before > now or code == _NOT_YET_VALID:
            problems.append("not_yet_valid")
    if failure is not None:
        problems += _trust_problem(code, cert)
    name_ok = cert is not None and name_matches(host, cert.names)
    if not name_ok:
        problems.append("name_mismatch")
    if version in WEAK_VERSIONS:
        problems.append("weak_protocol")
    message = (failure.verify_message or "") if failure else ""
    return TlsResult(True, version, cert, verified, name_ok, days_left, tuple(problems), message)


def _trust_problem(code: int, cert: CertInfo | None) -> list[str]:
    """Why OpenSSL refused the chain, unless the date checks above already say it."""
    if code in _SELF_SIGNED or (cert is not None and cert.self_signed):
        return ["self_signed"]
    return [] if code in (_EXPIRED, _NOT_YET_VALID) else ["untrusted"]


def _days_between(now: dt.datetime, then: dt.datetime) -> int:
    """Whole days until ``then`` (negative when past): 3 days and 5 hours ago is -3."""
    seconds = (then - now).total_seconds()
    days = int(abs(seconds) // 86400)
    return days if seconds >= 0 else -days


def parse_cert(der: bytes) -> CertInfo | None:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += [n.lower() for n in san.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        # Old certificates name the host only in the subject's CN.
        names += [cn.lower() for cn in _common_names(cert.subject)]
    subject = ", ".join(_common_names(cert.subject)) or cert.subject.rfc4514_string()
    issuer = ", ".join(_common_names(cert.issuer)) or cert.issuer.rfc4514_string()
    return CertInfo(
        subject,
        issuer,
        tuple(names),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
        cert.issuer == cert.subject,
    )


def _common_names(name: x509.Name) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)]


def name_matches(host: str, names: tuple[str, ...]) -> bool:
    """RFC 6125 matching: exact, or a wildcard standing for exactly one left-most label."""
    host = host.lower().rstrip(".")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return any(_same_ip(ip, n) for n in names)
    for pattern in names:
        if pattern == host:
            return True
        if pattern.startswith("*.") and "." in host:
            first, rest = host.split(".", 1)
            if first and rest == pattern[2:] and rest.count(".") >= 1:
                return True
    return False


def _same_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False
