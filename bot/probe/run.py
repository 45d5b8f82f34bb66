"""The probe from start to report: policy, DNS, every endpoint in parallel, the optional login.

The total time is bounded by ``timeout``: every socket operation gets at most what is left, and the
runner stops waiting at the deadline and reports stragglers as unfinished instead of waiting for them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TypeVar

import dns.resolver

from bot.model import Finding, ProbeReport, Text
from bot.probe import dns as probe_dns
from bot.probe import policy, tls, verdict
from bot.probe.auth import AuthResult, Credential, check_login
from bot.probe.endpoint import Endpoint, EndpointResult, Prober
from bot.probe.greeting import ImapSession, PopSession
from bot.probe.policy import RECEIVE_SERVICES, Network, ProbeConfigError, RateLimiter, Refusal, Target
from bot.probe.tcp import Deadline
from bot.probe.tls import Contexts

T = TypeVar("T")
MAX_TIMEOUT = 120.0
AUTH_RESERVE = 2.0  # at most this much of the budget is kept back for the login when one is configured


def run_probe(
    host: str,
    *,
    timeout: float = 8.0,
    dns_server: str | None = None,
    cafile: str | None = None,
    ports: Mapping[str, int] | None = None,
    allow: Iterable[Network] = (),
    credentials: Mapping[str, Credential] | None = None,
    rate_limiter: RateLimiter | None = None,
    user: str | None = None,
) -> ProbeReport:
    """Probe ``host`` (a server name, a domain, an e-mail address or an address literal).

    A slow, broken or hostile server gives a report, never an exception. A refused target (policy,
    invalid name, rate limit) gives a report with ``refused`` set and nothing connected. Unusable
    operator settings (ports, DNS server, CA file, timeout) raise ProbeConfigError.
    """
    started = time.monotonic()
    if not 0 < timeout <= MAX_TIMEOUT:
        raise ProbeConfigError(f"the timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    config = _Config(
        policy.resolve_ports(ports), tls.make_contexts(cafile), tuple(allow), credentials or {}, timeout
    )
    resolver = probe_dns.make_resolver(dns_server) if dns_server else None
    try:
        target = policy.parse_target(host)
        if rate_limiter is not None and (wait_s := rate_limiter.acquire(user)) > 0:
            raise policy.rate_limited(wait_s, user)
        facts = _probe(target, config, resolver, Deadline(started + timeout))
    except Refusal as refusal:
        return _refused(host, refusal, started)
    return ProbeReport(
        host=target.name,
        checks=verdict.checks(facts),
        findings=verdict.findings(facts),
        ms=round((time.monotonic() - started) * 1000, 1),
    )


@dataclass(frozen=True)
class _Config:
    ports: dict[str, int]
    contexts: Contexts
    allow: tuple[Network, ...]
    credentials: Mapping[str, Credential]
    timeout: float


def _refused(host: str, refusal: Refusal, started: float) -> ProbeReport:
    shown = host.strip()[:80]
    symptom = "account_setup" if refusal.code == "invalid_host" else "unknown"
    return ProbeReport(
        host=shown,
        checks=(),
        findings=(Finding(symptom, "error" if refusal.code != "rate_limited" else "warning", refusal.text),),
        ms=round((time.monotonic() - started) * 1000, 1),
        refused=str(refusal),
    )


def _probe(
    target: Target, config: _Config, resolver: dns.resolver.Resolver | None, deadline: Deadline
) -> verdict.Facts:
    plan = _plan(target, config, resolver, deadline)
    _check_policy(plan, config.allow)
    endpoints = _endpoints(plan, config)
    credential = _credential(config.credentials, target, plan.host)
    results, auth, skipped = _connect_all(endpoints, config, deadline, credential)
    return verdict.Facts(target, plan.host, plan.lookups, results, auth, skipped, config.timeout)


def _spawn(fn: Callable[..., T], *args: object) -> Future[T]:
    """Run ``fn`` on a daemon thread. Not a pool: a straggler still waiting on a socket after the
    deadline must never keep the process alive (the CLI exits on time; nobody waits for it)."""
    future: Future[T] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to whoever reads the future, as a pool would
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True, name="mailcheck-probe").start()
    return future


# --- DNS and the plan --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    host: str | None
    addresses: dict[str, tuple[str, ...]]
    srv: dict[str, tuple[probe_dns.Srv, ...]]
    lookups: tuple[probe_dns.Lookup, ...]


def _plan(
    target: Target, config: _Config, resolver: dns.resolver.Resolver | None, deadline: Deadline
) -> _Plan:
    if target.ip is not None:
        return _Plan(target.name, {target.name: (target.name,)}, {}, ())
    resolver = resolver or probe_dns.make_resolver(None)
    lifetime = min(deadline.remaining(), max(1.0, config.timeout * 0.5))
    queries = [(target.name, "A"), (target.name, "AAAA"), (target.name, "MX")]
    queries += [(f"{label}.{target.name}", "SRV") for label in probe_dns.SRV_SERVICES.values()]
    lookups = _lookups(queries, resolver, lifetime, deadline)
    srv = {lk.srv[0].service: lk.srv for lk in lookups if lk.status == "ok" and lk.srv}
    mx = next((lk.values[0] for lk in lookups if lk.rdtype == "MX" and lk.values), None)
    addresses = {target.name: _addresses(lookups, target.name)}
    extra = {r[0].target for r in srv.values() if r[0].target} | (
        {mx} if mx and not addresses[target.name] else set()
    )
    extra.discard(target.name)
    if extra:
        pairs = [(h, t) for h in sorted(extra) for t in ("A", "AAAA")]
        more = _lookups(pairs, resolver, min(lifetime, deadline.remaining()), deadline)
        lookups += more
        addresses.update({h: _addresses(more, h) for h in extra})
    return _Plan(_primary(target.name, srv, mx, addresses), addresses, srv, tuple(lookups))


def _lookups(
    queries: list[tuple[str, str]], resolver: dns.resolver.Resolver, lifetime: float, deadline: Deadline
) -> list[probe_dns.Lookup]:
    futures = [_spawn(probe_dns.lookup, resolver, name, rdtype, lifetime) for name, rdtype in queries]
    wait(futures, timeout=deadline.remaining())
    return [
        f.result() if f.done() else probe_dns.Lookup(name, rdtype, "timeout")
        for f, (name, rdtype) in zip(futures, queries, strict=True)
    ]


def _addresses(lookups: list[probe_dns.Lookup], name: str) -> tuple[str, ...]:
    """IPv4 first: a machine without working IPv6 fails fast on it, but trying it first costs time."""
    v4 = [v for lk in lookups if lk.name == name and lk.rdtype == "A" for v in lk.values]
    v6 = [v for lk in lookups if lk.name == name and lk.rdtype == "AAAA" for v in lk.values]
    return tuple(v4 + v6)


def _primary(name: str, srv: dict[str, tuple[probe_dns.Srv, ...]], mx: str | None,
             addresses: dict[str, tuple[str, ...]]) -> str | None:  # fmt: skip
    """The name itself when it has an address; else the domain's SRV target; else its MX host."""
    if addresses.get(name):
        return name
    for service in RECEIVE_SERVICES:
        first = srv.get(service, ())[:1]
        if first and first[0].target and addresses.get(first[0].target):
            return first[0].target
    return mx if mx and addresses.get(mx) else None


def _check_policy(plan: _Plan, allow: tuple[Network, ...]) -> None:
    """Every address any name resolved to must pass, not just the one we would use first."""
    for host, addrs in plan.addresses.items():
        for text in addrs:
            policy.check_address(ipaddress.ip_address(text), allow, host)


def _endpoints(plan: _Plan, config: _Config) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    for service, port in config.ports.items():
        host, use_port = plan.host, port
        records = plan.srv.get(service)
        if records:
            if not records[0].target:
                continue  # RFC 6186: target "." means the domain does not offer this service
            if records[0].port in policy.ALLOWED_PORTS:
                host, use_port = records[0].target, records[0].port
        addrs = plan.addresses.get(host, ()) if host else ()
        if host and addrs:
            endpoints.append(Endpoint(service, host, addrs, use_port))
    return endpoints


def _credential(credentials: Mapping[str, Credential], target: Target, host: str | None) -> Credential | None:
    for name in (target.name, host):
        if name and name.lower() in credentials:
            return credentials[name.lower()]
    return None


# --- endpoints and login -----------------------------------------------------------------------------


def _connect_all(endpoints: list[Endpoint], config: _Config, deadline: Deadline,
                 credential: Credential | None) -> tuple[tuple[EndpointResult, ...], AuthResult | None, str | None]:  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    probers = [Prober(ep, config.contexts, deadline, now) for ep in endpoints]
    futures = [_spawn(p.run) for p in probers]
    reserve = min(AUTH_RESERVE, deadline.remaining() * 0.3) if credential else 0.0
    wait(futures, timeout=max(0.0, deadline.remaining() - reserve))
    auth, skipped = (None, None)
    if credential is not None:
        auth, skipped = _login(probers, credential, config.contexts, deadline, now)
    return tuple(p.progress.snapshot() for p in probers), auth, skipped


def _login(probers: list[Prober], credential: Credential, contexts: Contexts, deadline: Deadline,
           now: dt.datetime) -> tuple[AuthResult | None, str | None]:  # fmt: skip
    """One login on the best verified port (one attempt only: failures count towards lockouts)."""
    results = {p.endpoint.service: p.progress.snapshot() for p in probers}
    best = next((results[s] for s in RECEIVE_SERVICES if s in results and results[s].secure), None)
    if best is None:
        return (
            None,
            "login skipped: no receiving port with a valid certificate (the password is only sent over verified TLS)",
        )
    if deadline.remaining() < 0.2:
        return None, "login skipped: no time left"
    prober = Prober(best.endpoint, contexts, deadline, now)

    def open_verified() -> ImapSession | PopSession:
        session = prober.attempt(contexts.login, verified=True)
        if not isinstance(session.tls_socket_or_none(), ssl.SSLSocket):
            session.close()  # STARTTLS vanished on this connection: never send the password in clear
            raise ssl.SSLError("TLS was not offered on the login connection")
        return session

    future = _spawn(check_login, best.endpoint.service, open_verified, credential)
    try:
        return future.result(timeout=deadline.remaining()), None
    except FutureTimeout:
        return AuthResult(best.endpoint.service, "error", text="no answer within the time limit"), None


def refusal_text(report: ProbeReport) -> Text | None:
    """The bilingual reason of a refused report (it is also its only finding)."""
    if report.refused is None or not report.findings:
        return None
    return report.findings[0].message
