"""HTTP mode: one WSGI app with ``POST /slack/events`` and ``GET /healthz``, and the servers that run it.

Production runs it under gunicorn (one worker process with threads: the dedupe memory and open cases
live in that process; see DESIGN.md "Scale" for going wider). Tests and the benchmark run the same WSGI
app in a thread on a free loopback port.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import __version__
from bot.slack.app import EVENTS_PATH, SlackApp

log = logging.getLogger("mailcheck.slack")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Slack's payloads are a few kB; refuse anything large before reading it (and before the signature check).
MAX_BODY = 1_000_000


def _answer(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def wsgi_app(slack: SlackApp) -> WsgiApp:
    handler = SlackRequestHandler(slack.bolt, path=EVENTS_PATH)
    symptoms = len(slack.service.triage.knowledge.symptoms)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            return _answer(
                start_response, "200 OK", {"ok": True, "version": __version__, "symptoms": symptoms}
            )
        if path == EVENTS_PATH and method == "POST" and _too_large(environ):
            return _answer(start_response, "413 Content Too Large", {"ok": False, "error": "body too large"})
        result: Iterable[bytes] = handler(environ, start_response)
        return result

    return app


def _too_large(environ: dict[str, Any]) -> bool:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY
    except ValueError:
        return True


# --- in a thread (tests, benchmark) ---------------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


class LocalServer:
    """The WSGI app on ``host:port`` (0 picks a free port) in a background thread."""

    def __init__(self, app: WsgiApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.httpd = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="mailcheck-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


# --- under gunicorn (production) ------------------------------------------------------------------


def run_gunicorn(factory: Callable[[], WsgiApp], *, host: str, port: int, threads: int = 16) -> None:
    """Serve until stopped (SIGTERM, Ctrl-C). ``factory`` runs in the worker process, after the fork."""
    from gunicorn.app.base import BaseApplication

    def ready(server: Any) -> None:
        where = ", ".join(str(listener) for listener in server.LISTENERS)
        print(f"mailcheck: HTTP mode listening on {where} (POST {EVENTS_PATH}, GET /healthz)", flush=True)

    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        # One process: dedupe and open cases are in memory (several workers would answer retries twice).
        "workers": 1,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": None,
        "loglevel": "info",
        "when_ready": ready,
        "control_socket_disable": True,  # gunicorn >= 25 opens a control socket in $HOME by default
    }

    class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> WsgiApp:
            return factory()

    _Gunicorn().run()
