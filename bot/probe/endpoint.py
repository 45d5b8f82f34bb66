"""One service on one port, checked the way an admin would: connect, TLS (implicit or STARTTLS), greeting.

Each step records its result as soon as it has one, so when the overall deadline passes the runner can
report how far a slow endpoint got (connected, then no greeting) instead of nothing.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import poplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.probe import tcp, tls
from bot.probe.greeting import Greeting, GreetingFailed, ImapSession, PopSession, Proto, clean, open_session
from bot.probe.tcp import Connect, Deadline
from bot.probe.tls import Contexts, TlsResult

IMPLICIT_TLS = frozenset({"imaps", "pop3s", "submissions"})
PROTOCOLS: dict[str, Proto | None] = {
    "imaps": "imap",
    "imap": "imap",
    "pop3s": "pop3",
    "pop3": "pop3",
    "submissions": None,  # sending ports: only reachability, as context
    "submission": None,
}


@dataclass(frozen=True)
class Endpoint:
    service: str
    host: str  # the name the certificate must carry (SNI), or an address literal
    addresses: tuple[str, ...]
    port: int

    @property
    def protocol(self) -> Proto | None:
        return PROTOCOLS[self.service]

    @property
    def implicit_tls(self) -> bool:
        return self.service in IMPLICIT_TLS


@dataclass(frozen=True)
class EndpointResult:
    endpoint: Endpoint
    connect: Connect | None = None
    tls: TlsResult | None = None
    tls_ms: float = 0.0
    greeting: Greeting | None = None  # implicit TLS: over TLS; STARTTLS ports: before TLS
    after_tls: Greeting | None = None  # STARTTLS ports: capabilities once TLS is up
    pending: str | None = None  # the step still running when the time ran out

    @property
    def greeted(self) -> bool:
        return self.greeting is not None and self.greeting.status == "ok"

    @property
    def secure(self) -> bool:
        """A mail client with default settings can receive here: TLS with a valid certificate, greeting ok."""
        if not (self.greeted and self.tls is not None and self.tls.valid):
            return False
        return self.endpoint.implicit_tls or self.after_tls is not None


class Progress:
    """What one endpoint has found so far; written by its worker thread, read by the runner."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._lock = threading.Lock()
        self._result = EndpointResult(endpoint, pending="tcp")

    def update(self, **changes: object) -> None:
        with self._lock:
            self._result = replace(self._result, **changes)  # type: ignore[arg-type]

    def snapshot(self) -> EndpointResult:
        with self._lock:
            return self._result


class _NoConnection(Exception):
    pass


class Prober:
    """Runs the steps for one endpoint within the deadline, recording each into ``progress``."""

    def __init__(self, endpoint: Endpoint, contexts: Contexts, deadline: Deadline, now: dt.datetime) -> None:
        self.endpoint = endpoint
        self.contexts = contexts
        self.deadline = deadline
        self.now = now
        self.progress = Progress(endpoint)

    def run(self) -> EndpointResult:
        try:
            self._run()
        except _NoConnection:
            pass
        except GreetingFailed as exc:
            self.progress.update(greeting=exc.greeting)
        except (OSError, EOFError, ValueError, imaplib.IMAP4.error, poplib.error_proto) as exc:
            self._record_failure(exc)
        except Exception as exc:  # a broken server must give a result, never crash the probe
            self._record_failure(exc)
        self.progress.update(pending=None)
        return self.progress.snapshot()

    def _run(self) -> None:
        if self.endpoint.protocol is None:
            sock = self._connect()
            sock.close()
            return
        session: ImapSession | PopSession | None
        try:
            session = self.attempt(self.contexts.verify, verified=True)
        except ssl.SSLCertVerificationError as failure:
            session = self.attempt(self.contexts.inspect, verified=False, failure=failure)
        except ssl.SSLError as exc:
            session = self._old_protocol(exc)
        if session is not None:
            session.close()

    def _old_protocol(self, exc: ssl.SSLError) -> ImapSession | PopSession | None:
        self.progress.update(tls=tls.failed(exc))
        if not tls.is_protocol_error(exc):
            return None
        try:
            return self.attempt(self.contexts.legacy, verified=False)
        except ssl.SSLError:
            self.progress.update(tls=tls.failed(exc))  # the first reason is the one worth showing
            return None

    def attempt(self, context: ssl.SSLContext, *, verified: bool,
                failure: ssl.SSLCertVerificationError | None = None) -> ImapSession | PopSession:  # fmt: skip
        """Connect, then TLS and greeting in the order the port expects. Raises ssl.SSLError for TLS."""
        sock = self._connect()
        if self.endpoint.implicit_tls:
            secured = self._handshake(
                lambda: tls.handshake(sock, self.endpoint.host, context), verified, failure
            )
            return self._greet(secured)
        session = self._greet(sock)
        if not session.greeting.offers_starttls:
            return session
        self._handshake(lambda: _starttls(session, context), verified, failure)
        self.progress.update(pending="capabilities after TLS")
        after = replace(session.greeting, capabilities=session.capabilities())
        self.progress.update(after_tls=after)
        return session

    def _connect(self) -> socket.socket:
        self.progress.update(pending="tcp")
        sock, result = tcp.connect(self.endpoint.addresses, self.endpoint.port, self.deadline)
        self.progress.update(connect=result)
        if sock is None:
            raise _NoConnection
        sock.settimeout(self.deadline.step())
        return sock

    def _handshake(
        self, run: Callable[[], ssl.SSLSocket], verified: bool, failure: ssl.SSLCertVerificationError | None
    ) -> ssl.SSLSocket:
        self.progress.update(pending="tls")
        start = time.monotonic()
        secured = run()
        result = tls.evaluate(secured, self.endpoint.host, self.now, verified=verified, failure=failure)
        self.progress.update(tls=result, tls_ms=(time.monotonic() - start) * 1000)
        return secured

    def _greet(self, sock: socket.socket) -> ImapSession | PopSession:
        assert self.endpoint.protocol is not None
        self.progress.update(pending="greeting")
        sock.settimeout(self.deadline.step())
        session = open_session(
            self.endpoint.protocol, sock, self.endpoint.host, self.endpoint.port, self.deadline.step()
        )
        self.progress.update(greeting=session.greeting)
        return session

    def _record_failure(self, exc: BaseException) -> None:
        """A socket error or timeout in the middle of a step: record it against that step."""
        step = self.progress.snapshot().pending
        protocol = self.endpoint.protocol or "imap"
        timed_out = isinstance(exc, TimeoutError | socket.timeout)
        if step == "tls":
            self.progress.update(tls=tls.failed(TimeoutError("timed out") if timed_out else exc))
        elif step in ("greeting", "capabilities after TLS"):
            failed = Greeting(protocol, "timeout") if timed_out else Greeting(protocol, "closed", clean(exc))
            self.progress.update(greeting=failed)


def _starttls(session: ImapSession | PopSession, context: ssl.SSLContext) -> ssl.SSLSocket:
    session.starttls(context)
    return session.tls_socket()
