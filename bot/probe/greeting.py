"""IMAP (imapclient) and POP3 (poplib) greetings and capabilities over a socket the probe already opened.

Both libraries normally connect by name. Here they are handed the socket that went to the address the
policy checked, so the name is never resolved a second time (a rebinding DNS answer cannot redirect the
probe), while TLS still sends the real name for SNI.
"""

from __future__ import annotations

import contextlib
import imaplib
import poplib
import re
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from imapclient import IMAPClient
from imapclient.util import to_unicode

Proto = Literal["imap", "pop3"]
GreetingStatus = Literal["ok", "rejected", "timeout", "closed", "error"]

# Words servers use when they turn a connection away because of load or limits (RFC 3206 IN-USE,
# LOGIN-DELAY, SYS/TEMP; Dovecot's "Maximum number of connections"; Japanese rental servers' notices).
_BUSY = re.compile(
    r"too many|maximum number of connections|connection limit|\[(in-use|login-delay|sys/temp|limit|unavailable)\]"
    r"|try again later|server busy|接続数",
    re.IGNORECASE,
)


def is_busy(text: str) -> bool:
    return bool(_BUSY.search(text))


def clean(text: object, limit: int = 200) -> str:
    """Server text made safe to show: printable, one line, short."""
    raw = to_unicode(text) if isinstance(text, bytes) else str(text)
    printable = "".join(c if c.isprintable() else " " for c in raw)
    single = " ".join(printable.split())
    return single if len(single) <= limit else single[: limit - 1] + "…"


@dataclass(frozen=True)
class Greeting:
    protocol: Proto
    status: GreetingStatus
    text: str = ""
    capabilities: frozenset[str] = frozenset()
    ms: float = 0.0

    @property
    def busy(self) -> bool:
        return self.status == "rejected" and is_busy(self.text)

    @property
    def offers_starttls(self) -> bool:
        return bool({"STARTTLS", "STLS"} & self.capabilities)

    @property
    def login_disabled(self) -> bool:
        return "LOGINDISABLED" in self.capabilities

    @property
    def mechanisms(self) -> tuple[str, ...]:
        """SASL mechanisms: IMAP lists ``AUTH=PLAIN`` one each, POP3 one ``SASL PLAIN LOGIN`` line."""
        found: set[str] = set()
        for cap in self.capabilities:
            if cap.startswith("AUTH="):
                found.add(cap[5:])
            elif cap.startswith("SASL "):
                found.update(cap.split()[1:])
        return tuple(sorted(found))

    def describe(self) -> str:
        if self.status == "timeout":
            return f"{self.protocol.upper()}: no greeting in time (the server accepted the connection but said nothing)"
        if self.status != "ok":
            return f"{self.protocol.upper()} {self.status}: {self.text or 'connection closed'}"
        return self.text


class Session(Protocol):
    """An open IMAP or POP3 connection the probe can inspect, secure, log in on and close."""

    greeting: Greeting

    def tls_socket(self) -> ssl.SSLSocket: ...
    def tls_socket_or_none(self) -> ssl.SSLSocket | None: ...
    def capabilities(self) -> frozenset[str]: ...
    def starttls(self, context: ssl.SSLContext) -> None: ...
    def login(self, username: str, password: str) -> str: ...
    def close(self) -> None: ...


# --- IMAP ----------------------------------------------------------------------------------------------


class _PinnedIMAP4(imaplib.IMAP4):
    def __init__(self, host: str, port: int, sock: socket.socket) -> None:
        self._pinned = sock
        super().__init__(host, port)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return self._pinned


class _PinnedIMAPClient(IMAPClient):  # type: ignore[misc]  # imapclient ships no type information
    def __init__(self, host: str, port: int, sock: socket.socket, tls: bool, timeout: float) -> None:
        self._pinned = sock
        super().__init__(host, port, ssl=tls, timeout=timeout)

    def _create_IMAP4(self) -> imaplib.IMAP4:  # the name imapclient calls
        return _PinnedIMAP4(self.host, self.port, self._pinned)


class ImapSession:
    def __init__(self, sock: socket.socket, host: str, port: int, timeout: float) -> None:
        start = time.monotonic()
        self._client = _PinnedIMAPClient(host, port, sock, isinstance(sock, ssl.SSLSocket), timeout)
        # The capability list in the greeting is reported separately; the rest is the server's own words.
        welcome = re.sub(r"\[CAPABILITY [^\]]*\]\s*", "", clean(self._client.welcome))
        caps = self.capabilities()
        self.greeting = Greeting("imap", "ok", welcome, caps, (time.monotonic() - start) * 1000)

    @property
    def client(self) -> Any:
        return self._client

    def tls_socket(self) -> ssl.SSLSocket:
        sock = self.tls_socket_or_none()
        if sock is None:
            raise ssl.SSLError("the connection is not encrypted")
        return sock

    def tls_socket_or_none(self) -> ssl.SSLSocket | None:
        sock = self._client.socket()
        return sock if isinstance(sock, ssl.SSLSocket) else None

    def capabilities(self) -> frozenset[str]:
        return frozenset(to_unicode(c).upper() for c in self._client.capabilities())

    def starttls(self, context: ssl.SSLContext) -> None:
        self._client.starttls(context)

    def login(self, username: str, password: str) -> str:
        return clean(self._client.login(username, password))

    def close(self) -> None:
        try:
            self._client.logout()
        except (imaplib.IMAP4.error, OSError, ValueError):
            _shutdown(self._client.socket())


# --- POP3 ----------------------------------------------------------------------------------------------


class _PinnedPOP3(poplib.POP3):
    def __init__(self, host: str, port: int, sock: socket.socket) -> None:
        self._pinned = sock
        super().__init__(host, port)

    def _create_socket(self, timeout: float) -> socket.socket:
        return self._pinned


class PopSession:
    def __init__(self, sock: socket.socket, host: str, port: int, timeout: float) -> None:
        start = time.monotonic()
        sock.settimeout(timeout)
        self._pop = _PinnedPOP3(host, port, sock)
        welcome = clean(self._pop.getwelcome())
        self.greeting = Greeting(
            "pop3", "ok", welcome, self.capabilities(), (time.monotonic() - start) * 1000
        )

    def tls_socket(self) -> ssl.SSLSocket:
        sock = self.tls_socket_or_none()
        if sock is None:
            raise ssl.SSLError("the connection is not encrypted")
        return sock

    def tls_socket_or_none(self) -> ssl.SSLSocket | None:
        return self._pop.sock if isinstance(self._pop.sock, ssl.SSLSocket) else None

    def capabilities(self) -> frozenset[str]:
        try:
            caps = self._pop.capa()
        except poplib.error_proto:
            return frozenset()  # CAPA is optional (RFC 2449); an old server simply has none to tell
        return frozenset(" ".join([name.upper(), *args]) if name.upper() == "SASL" else name.upper()
                         for name, args in caps.items())  # fmt: skip

    def starttls(self, context: ssl.SSLContext) -> None:
        self._pop.stls(context)

    def login(self, username: str, password: str) -> str:
        self._pop.user(username)
        return clean(self._pop.pass_(password))

    def close(self) -> None:
        try:
            self._pop.quit()
        except (poplib.error_proto, OSError, EOFError):
            _shutdown(self._pop.sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def open_session(
    protocol: Proto, sock: socket.socket, host: str, port: int, timeout: float
) -> ImapSession | PopSession:
    """Read the greeting and capabilities. Raises GreetingFailed with a Greeting that says what happened."""
    start = time.monotonic()
    try:
        return (
            ImapSession(sock, host, port, timeout)
            if protocol == "imap"
            else PopSession(sock, host, port, timeout)
        )
    except ssl.SSLError:
        raise
    except TimeoutError:
        _shutdown(sock)
        raise GreetingFailed(Greeting(protocol, "timeout", ms=_ms(start))) from None
    except (imaplib.IMAP4.abort, EOFError, ConnectionError) as exc:
        _shutdown(sock)
        raise GreetingFailed(Greeting(protocol, "closed", clean(exc), ms=_ms(start))) from None
    except (imaplib.IMAP4.error, poplib.error_proto) as exc:
        _shutdown(sock)
        raise GreetingFailed(Greeting(protocol, "rejected", _server_text(exc), ms=_ms(start))) from None
    except (OSError, ValueError) as exc:
        _shutdown(sock)
        raise GreetingFailed(Greeting(protocol, "error", clean(exc), ms=_ms(start))) from None


def _server_text(exc: Exception) -> str:
    return clean(exc.args[0] if exc.args else exc)


def _ms(start: float) -> float:
    return (time.monotonic() - start) * 1000


class GreetingFailed(Exception):
    def __init__(self, greeting: Greeting) -> None:
        super().__init__(greeting.text)
        self.greeting = greeting
