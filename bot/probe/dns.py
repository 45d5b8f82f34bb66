"""DNS with dnspython: addresses, MX and RFC 6186 SRV records, with NXDOMAIN, SERVFAIL and timeouts told apart.

The probe never asks the C library (``getaddrinfo``): it resolves with dnspython and connects to the
addresses it checked, so ``/etc/hosts`` tricks and a second, different answer cannot slip past the policy.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Literal

import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from bot.probe.policy import ProbeConfigError

LookupStatus = Literal["ok", "nxdomain", "nodata", "servfail", "timeout", "error"]

# RFC 6186: where a domain says its IMAP and POP3 servers are.
SRV_SERVICES: dict[str, str] = {
    "imaps": "_imaps._tcp",
    "imap": "_imap._tcp",
    "pop3s": "_pop3s._tcp",
    "pop3": "_pop3._tcp",
}


@dataclass(frozen=True)
class Srv:
    service: str
    target: str  # "" when the record says the service is not offered (target ".")
    port: int
    priority: int
    weight: int


@dataclass(frozen=True)
class Lookup:
    name: str
    rdtype: str
    status: LookupStatus
    values: tuple[str, ...] = ()
    srv: tuple[Srv, ...] = ()
    ms: float = 0.0
    detail: str = ""

    @property
    def describe(self) -> str:
        words = {
            "ok": ", ".join(self.values),
            "nxdomain": "NXDOMAIN (the name does not exist)",
            "nodata": f"no {self.rdtype} record",
            "servfail": "SERVFAIL (the domain's DNS servers failed to answer)",
            "timeout": "no answer from DNS in time",
            "error": f"lookup failed: {self.detail}",
        }
        return f"{self.rdtype} {self.name}: {words[self.status]}"


def parse_dns_server(text: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address; a ProbeConfigError says what is wrong."""
    raw = text.strip()
    host, port = raw, "53"
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else (rest or "53")
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ProbeConfigError(
            f"DNS server {text!r}: expected an IP address, e.g. 192.0.2.53 or 192.0.2.53:5353"
        ) from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ProbeConfigError(f"DNS server {text!r}: the port must be a number from 1 to 65535")
    return str(ip), int(port)


def make_resolver(dns_server: str | None) -> dns.resolver.Resolver:
    """A resolver for the given server, or the system's (``/etc/resolv.conf``) when none is given."""
    if dns_server is None:
        try:
            return dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise ProbeConfigError(
                "no DNS server configured on this machine: set MAILCHECK_DNS_SERVER"
            ) from None
    ip, port = parse_dns_server(dns_server)
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [ip]
    resolver.port = port
    return resolver


def lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str, lifetime: float) -> Lookup:
    """One query; every outcome is a value, never an exception."""
    start = time.monotonic()
    status: LookupStatus = "ok"
    detail = ""
    values: tuple[str, ...] = ()
    srv: tuple[Srv, ...] = ()
    try:
        answer = resolver.resolve(name, rdtype, lifetime=lifetime, search=False, raise_on_no_answer=True)
        values, srv = _values(answer, rdtype)
    except dns.resolver.NXDOMAIN:
        status = "nxdomain"
    except dns.resolver.NoAnswer:
        status = "nodata"
    except dns.resolver.NoNameservers:
        status = "servfail"
    except dns.exception.Timeout:
        status = "timeout"
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        status, detail = "error", type(exc).__name__
    return Lookup(name, rdtype, status, values, srv, (time.monotonic() - start) * 1000, detail)


def _values(answer: dns.resolver.Answer, rdtype: str) -> tuple[tuple[str, ...], tuple[Srv, ...]]:
    if rdtype == "MX":
        ranked = sorted(answer, key=lambda r: (r.preference, str(r.exchange)))
        return tuple(_host(r.exchange) for r in ranked if _host(r.exchange)), ()
    if rdtype == "SRV":
        service = next(
            (s for s, label in SRV_SERVICES.items() if answer.qname.to_text().startswith(label)), ""
        )
        ranked = sorted(answer, key=lambda r: (r.priority, -r.weight))
        srv = tuple(Srv(service, _host(r.target), r.port, r.priority, r.weight) for r in ranked)
        return tuple(f"{s.target}:{s.port}" if s.target else "not offered (target .)" for s in srv), srv
    return tuple(sorted(r.to_text() for r in answer)), ()


def _host(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True).lower() if name != dns.name.root else ""
