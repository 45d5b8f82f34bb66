"""A recording stand-in for Slack's Web API on 127.0.0.1 and a free port (the one part that cannot run here).

It answers the methods the app uses the way Slack does (same fields, same error codes for the cases
tested), serves private files only with a bearer token, takes ``response_url`` POSTs and file uploads,
and records every request. Tests assert by polling the record (``wait_for``), never by sleeping.
Modelled on slack-bolt's own ``tests/mock_web_api_server``, but with a free port and per-test state.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import queue
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER, BOT_ID, TEAM = "UMAILBOT", "BMAILBOT", "T0MAIL"


@dataclass(frozen=True)
class Call:
    """One request received: ``method`` is the API method, or ``response:<name>``, ``upload:<id>``, ``file:<id>``."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int
    at: float

    @property
    def text(self) -> str:
        return str(self.params.get("text") or "")

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.params.get("blocks") or [])


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    times: int


@dataclass
class State:
    calls: list[Call] = field(default_factory=list)
    posted: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    refused_channels: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        data = json.loads(raw.decode("utf-8"))
        return data if isinstance(data, dict) else {"payload": data}
    if "x-www-form-urlencoded" in content_type:
        params: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        for key in ("blocks", "attachments"):
            if isinstance(params.get(key), str) and params[key].startswith("["):
                params[key] = json.loads(params[key])
        return params
    return {"_bytes": len(raw)}


class SlackApiServer:
    """Start with ``with SlackApiServer() as api:``; point the app at ``api.api_url``."""

    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self.closing = threading.Event()
        self.socket_outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.socket_connected = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="slack-api", daemon=True)

    # --- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> SlackApiServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "hook") -> str:
        return f"{self.url}/response/{name}"

    # --- test set-up --------------------------------------------------------------------------------

    def fail_next(self, method: str, *, status: int = 429, retry_after: int | None = 1, times: int = 1,
                  error: str | None = None) -> None:  # fmt: skip
        """The next ``times`` calls of ``method`` fail: HTTP ``status`` (429 with Retry-After), or ``ok: false``."""
        with self.lock:
            self.state.failures.setdefault(method, []).append(_Failure(status, error, retry_after, times))

    def refuse_channel(self, channel: str, error: str = "not_in_channel") -> None:
        with self.lock:
            self.state.refused_channels[channel] = error

    def add_thread(self, channel: str, thread_ts: str, messages: list[dict[str, Any]]) -> None:
        with self.lock:
            self.state.threads[(channel, thread_ts)] = messages

    def add_file(
        self, file_id: str, name: str, data: bytes, mimetype: str, *, with_url: bool = True
    ) -> dict[str, Any]:
        """A private file; the returned object is what an event's ``files`` list carries."""
        info = {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "size": len(data),
                "filetype": name.rsplit(".", 1)[-1].lower(), "url_private": f"{self.url}/files-pri/{file_id}/{name}",
                "url_private_download": f"{self.url}/files-pri/{file_id}/download/{name}"}  # fmt: skip
        with self.lock:
            self.state.files[file_id] = (info, data)
        return info if with_url else {"id": file_id, "name": name, "mimetype": mimetype, "size": len(data)}

    # --- reading the record -------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def wait_for(self, method: str, count: int = 1, *, timeout: float = 15.0,
                 where: Callable[[Call], bool] | None = None) -> list[Call]:  # fmt: skip
        """Poll until ``count`` matching calls were received; fail with what was received instead."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls()]
                raise AssertionError(f"expected {count} x {method}, got {len(found)}; received: {seen}")
            time.sleep(0.005)

    def quiet_for(self, method: str, count: int, *, settle: Callable[[], object]) -> None:
        """Assert that no more than ``count`` calls arrive, after ``settle`` (which waits on a later call)."""
        settle()
        assert len(self.calls(method)) == count, [c.params for c in self.calls(method)]

    # --- answering ----------------------------------------------------------------------------------

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def _failure(self, method: str) -> _Failure | None:
        with self.lock:
            queue = self.state.failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.pop(0)
            return failure

    def answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        failure = self._failure(method)
        if failure is not None:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, {"ok": False, "error": failure.error or "ratelimited"}, extra
        auth = headers.get("authorization", "")
        if not auth.startswith(("Bearer xox", "Bearer xapp-")):
            return 200, {"ok": False, "error": "not_authed"}, {}
        if "revoked" in auth or "rejected" in auth:  # a test names a token "xoxb-revoked-…" to get Slack's
            return 200, {"ok": False, "error": "invalid_auth"}, {}  # answer to a dead token
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        return 200, handler(params), {}

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://mailcheck-test.slack.com/", "team": "Mail Test", "user": "mailcheck",
                "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}  # fmt: skip

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel"))
        if channel in self.state.refused_channels:
            return {"ok": False, "error": self.state.refused_channels[channel]}
        ts = self.next_ts()
        message = {"type": "message", "text": params.get("text", ""), "blocks": params.get("blocks", []),
                   "ts": ts, "bot_id": BOT_ID, "user": BOT_USER}  # fmt: skip
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        with self.lock:
            self.state.posted[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self.next_ts()}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        with self.lock:
            if key not in self.state.posted:
                return {"ok": False, "error": "message_not_found"}
            self.state.posted[key].update(text=params.get("text", ""), blocks=params.get("blocks", []))
        return {"ok": True, "channel": key[0], "ts": key[1], "text": params.get("text", "")}

    def _m_chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        # A bot token may delete only the bot's own messages: anything else is cant_delete_message.
        key = (str(params.get("channel")), str(params.get("ts")))
        with self.lock:
            if key not in self.state.posted:
                return {"ok": False, "error": "cant_delete_message"}
            del self.state.posted[key]
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": {"id": f"V{next(self._ids)}", **(params.get("view") or {})}}

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params.get("channel")), str(params.get("ts")))
        with self.lock:
            messages = self.state.threads.get(key)
        if messages is None:
            return {"ok": False, "error": "thread_not_found"}
        limit = int(params.get("limit") or len(messages))
        return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}

    def _m_files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            found = self.state.files.get(str(params.get("file")))
        return {"ok": True, "file": found[0]} if found else {"ok": False, "error": "file_not_found"}

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{next(self._ids):08d}"
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        listed = json.loads(files) if isinstance(files, str) else files or []
        return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in listed]}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        host, port = self.httpd.server_address[:2]
        return {"ok": True, "url": f"ws://{host!s}:{port}/link/?ticket=test"}

    # --- Socket Mode: a minimal WebSocket peer (RFC 6455) ----------------------------------------------

    def socket_send(self, envelope: dict[str, Any]) -> None:
        """Queue one Socket Mode envelope (events_api, slash_commands, interactive) for the connected app."""
        self.socket_outbox.put(envelope)

    def _websocket(self, sock: socket.socket) -> None:
        """Say hello, then pass queued envelopes to the app and record its acks until the server closes."""
        sock.sendall(_frame(json.dumps({"type": "hello", "num_connections": 1}).encode(), 0x1))
        self.socket_connected.set()
        buffer = b""
        while not self.closing.is_set():
            try:
                envelope = self.socket_outbox.get_nowait()
                sock.sendall(_frame(json.dumps(envelope).encode(), 0x1))
            except queue.Empty:
                pass
            ready, _, _ = select.select([sock], [], [], 0.02)
            if not ready:
                continue
            chunk = sock.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while (parsed := _unframe(buffer)) is not None:
                opcode, payload, buffer = parsed
                if opcode == 0x9:  # ping -> pong
                    sock.sendall(_frame(payload, 0xA))
                elif opcode == 0x8:
                    return
                elif opcode == 0x1:
                    with self.lock:
                        self.state.calls.append(
                            Call("socket:ack", json.loads(payload), {}, 200, time.monotonic())
                        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(
                self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _record(self, method: str, params: dict[str, Any], status: int) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server.lock:
                    server.state.calls.append(Call(method, params, headers, status, time.monotonic()))

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/link") and self.headers.get("Upgrade", "").lower() == "websocket":
                    self._upgrade()
                elif path.startswith("/files-pri/"):
                    self._file(path)
                elif path.startswith("/api/"):
                    self._api(path, dict(parse_qsl(urlsplit(self.path).query)))
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                content_type = self.headers.get("Content-Type", "")
                if path.startswith("/response/"):
                    params = _parse_body(raw, content_type)
                    self._record("response:" + path.rsplit("/", 1)[-1], params, 200)
                    self._send(200, b"ok", "text/plain")
                elif path.startswith("/upload/"):
                    with server.lock:
                        server.state.uploads[path.rsplit("/", 1)[-1]] = raw
                    self._record("upload:" + path.rsplit("/", 1)[-1], {"bytes": len(raw)}, 200)
                    self._send(200, b"OK - " + str(len(raw)).encode(), "text/plain")
                elif path.startswith("/api/"):
                    params = dict(parse_qsl(urlsplit(self.path).query))
                    params.update(_parse_body(raw, content_type))
                    self._api(path, params)
                else:
                    self._send(404, b"not found", "text/plain")

            def _api(self, path: str, params: dict[str, Any]) -> None:
                method = path[len("/api/") :]
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, extra = server.answer(method, params, headers)
                self._record(method, params, status)
                self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", extra)

            def _upgrade(self) -> None:
                key = self.headers.get("Sec-WebSocket-Key", "")
                accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
                self.send_response(101, "Switching Protocols")
                self.send_header("Upgrade", "websocket")
                self.send_header("Connection", "Upgrade")
                self.send_header("Sec-WebSocket-Accept", accept)
                self.end_headers()
                self.wfile.flush()
                self.close_connection = True
                server._websocket(self.connection)

            def _file(self, path: str) -> None:
                file_id = path.split("/")[2]
                with server.lock:
                    found = server.state.files.get(file_id)
                authorised = self.headers.get("Authorization", "").startswith("Bearer xoxb-")
                self._record("file:" + file_id, {"authorised": authorised}, 200)
                if found is None:
                    self._send(404, b"not found", "text/plain")
                elif not authorised:  # Slack answers an HTML sign-in page, not the file
                    self._send(200, b"<!DOCTYPE html><html>sign in</html>", "text/html")
                else:
                    self._send(200, found[1], str(found[0]["mimetype"]))

        return Handler


_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _frame(payload: bytes, opcode: int) -> bytes:
    """One unmasked server-to-client frame."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        return head + bytes([n]) + payload
    if n < 65536:
        return head + bytes([126]) + struct.pack("!H", n) + payload
    return head + bytes([127]) + struct.pack("!Q", n) + payload


def _unframe(data: bytes) -> tuple[int, bytes, bytes] | None:
    """(opcode, payload, rest) of the first complete client frame (always masked), or None if incomplete."""
    if len(data) < 2:
        return None
    opcode, masked, n, pos = data[0] & 0x0F, data[1] & 0x80, data[1] & 0x7F, 2
    if n == 126:
        if len(data) < 4:
            return None
        n, pos = struct.unpack("!H", data[2:4])[0], 4
    elif n == 127:
        if len(data) < 10:
            return None
        n, pos = struct.unpack("!Q", data[2:10])[0], 10
    mask = data[pos : pos + 4] if masked else b"\0\0\0\0"
    pos += 4 if masked else 0
    if len(data) < pos + n:
        return None
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(data[pos : pos + n]))
    return opcode, payload, data[pos + n :]


@contextmanager
def slack_api() -> Iterator[SlackApiServer]:
    with SlackApiServer() as server:
        yield server
