"""Servers that misbehave on purpose, on 127.0.0.N and the standard mail ports (the probe uses no others).

- ``silent``: listens, never accepts: the kernel completes the handshake, the greeting never comes.
- ``full_backlog``: a listening socket whose queue is already full, so new connections are dropped by
  the kernel and ``connect`` itself times out (the black hole that a firewall DROP gives, without iptables).
- ``ScriptedServer``: accepts, optionally speaks TLS (with the protocol versions a test chooses), sends
  a greeting and answers a few IMAP commands; counts the connections it saw.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


def _listener(ip: str, port: int, backlog: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ip, port))
    sock.listen(backlog)
    return sock


@contextlib.contextmanager
def silent(ip: str, ports: tuple[int, ...]) -> Iterator[list[socket.socket]]:
    sockets = [_listener(ip, port, 16) for port in ports]
    try:
        yield sockets
    finally:
        for s in sockets:
            s.close()


@contextlib.contextmanager
def full_backlog(ip: str, ports: tuple[int, ...]) -> Iterator[None]:
    """Backlog 0 holds one connection; the filler takes it, so the next SYN is dropped (no RST)."""
    listeners = [_listener(ip, port, 0) for port in ports]
    fillers = []
    try:
        for port in ports:
            filler = socket.create_connection((ip, port), timeout=2)
            fillers.append(filler)
        yield
    finally:
        for s in fillers + listeners:
            s.close()


@dataclass
class ScriptedServer:
    """Greets with ``greeting`` on each port; ports in ``tls`` speak TLS first with that context."""

    ip: str
    greetings: dict[int, bytes]
    tls: dict[int, ssl.SSLContext] = field(default_factory=dict)
    connections: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _listeners: list[socket.socket] = field(default_factory=list)

    def __enter__(self) -> ScriptedServer:
        for port in self.greetings:
            listener = _listener(self.ip, port, 16)
            listener.settimeout(0.05)
            self._listeners.append(listener)
            thread = threading.Thread(target=self._accept, args=(listener, port), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for listener in self._listeners:
            listener.close()

    def _accept(self, listener: socket.socket, port: int) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, port), daemon=True).start()

    def _serve(self, conn: socket.socket, port: int) -> None:
        conn.settimeout(5)
        try:
            if port in self.tls:
                conn = self.tls[port].wrap_socket(conn, server_side=True)
            conn.sendall(self.greetings[port])
            if self.greetings[port].startswith(b"* OK"):
                self._imap_commands(conn)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def _imap_commands(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        for line in reader:
            tag, _, command = line.decode("ascii", "replace").strip().partition(" ")
            if command.upper() == "CAPABILITY":
                conn.sendall(f"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n{tag} OK done\r\n".encode())
            elif command.upper() == "LOGOUT":
                conn.sendall(f"* BYE bye\r\n{tag} OK done\r\n".encode())
                return
            else:
                conn.sendall(f"{tag} BAD not here\r\n".encode())


@contextlib.contextmanager
def failing_dns(rcode: int) -> Iterator[str]:
    """A UDP DNS server on 127.0.0.1 that answers every query with ``rcode`` (e.g. SERVFAIL); yields IP:PORT."""
    import dns.message

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            response = dns.message.make_response(dns.message.from_wire(data))
            response.set_rcode(rcode)
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()
