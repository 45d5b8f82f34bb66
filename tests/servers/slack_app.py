"""The real Slack app on a free loopback port, and a client that sends it requests signed like Slack's.

``running_app`` builds the app with ``create_app`` (arguments, not environment), serves it with the same
WSGI app production uses, and points its Web API client at a ``SlackApiServer``.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from bot.slack.app import SlackApp, create_app
from bot.slack.server import LocalServer, wsgi_app
from bot.triage import Triage
from tests.servers.slack_api import BOT_USER, TEAM, SlackApiServer

SECRET = "test-signing-secret-0123456789abcdef"
TOKEN = "xoxb-test-token"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    ms: float

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class SignedClient:
    """Sends events, commands and interaction payloads to ``/slack/events`` the way Slack does."""

    def __init__(self, base_url: str, secret: str = SECRET) -> None:
        parts = urlsplit(base_url)
        self.host, self.port, self.secret = parts.hostname or "127.0.0.1", parts.port or 80, secret
        self._events = 0

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
        started = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return Response(response.status, data, (time.perf_counter() - started) * 1000)

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None, secret: str | None = None,
             extra: dict[str, str] | None = None) -> Response:  # fmt: skip
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature(secret or self.secret, ts, body),
            **(extra or {}),
        }
        return self.request("POST", "/slack/events", body, headers)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> Response:
        self._events += 1
        envelope = {"token": "legacy", "team_id": TEAM, "api_app_id": "A0MAIL", "type": "event_callback",
                    "event_id": event_id or f"Ev{time.time_ns()}{self._events}", "event_time": int(time.time()),
                    "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}], "event": event}  # fmt: skip
        extra = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(json.dumps(envelope).encode(), "application/json", extra=extra)

    def command(
        self, text: str, response_url: str, *, user: str = "U0ASKER", channel: str = "C0MAIL"
    ) -> Response:
        form = {"token": "legacy", "team_id": TEAM, "channel_id": channel, "channel_name": "mail",
                "user_id": user, "user_name": "asker", "command": "/mailcheck", "text": text,
                "response_url": response_url, "trigger_id": "13345224609.738474920.8088930838d88f008e0",
                "api_app_id": "A0MAIL"}  # fmt: skip
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interactive(self, payload: dict[str, Any]) -> Response:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")


@dataclass
class RunningApp:
    app: SlackApp
    server: LocalServer
    client: SignedClient
    api: SlackApiServer

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def running_app(triage: Triage, api: SlackApiServer, **options: Any) -> Iterator[RunningApp]:
    """The app on 127.0.0.1 and a free port, its Web API aimed at ``api``; stopped afterwards."""
    options.setdefault("signing_secret", SECRET)
    app = create_app(triage, token=TOKEN, api_url=api.api_url, **options)
    server = LocalServer(wsgi_app(app)).start()
    try:
        yield RunningApp(app, server, SignedClient(server.url, options["signing_secret"]), api)
    finally:
        server.stop()
        app.close()


# --- payloads as Slack sends them -----------------------------------------------------------------


def mention(text: str, *, channel: str = "C0MAIL", ts: str, thread_ts: str | None = None, user: str = "U0ASKER",
            files: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    event: dict[str, Any] = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts,
                             "channel": channel, "event_ts": ts}  # fmt: skip
    if thread_ts:
        event["thread_ts"] = thread_ts
    if files:
        event["files"] = files
    return event


def direct_message(
    text: str, *, channel: str = "D0ASKER", ts: str, user: str = "U0ASKER", **extra: Any
) -> dict[str, Any]:
    return {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": channel,
            "event_ts": ts, **extra}  # fmt: skip


def button_press(posted: dict[str, Any], action_id: str, *, channel: str, response_url: str,
                 user: str = "U0ASKER") -> dict[str, Any]:  # fmt: skip
    """The block_actions payload for pressing ``action_id`` on a message the bot posted (as recorded)."""
    element = next(e for b in posted["blocks"] if b.get("type") == "actions" for e in b["elements"]
                   if e["action_id"] == action_id)  # fmt: skip
    message = {"type": "message", "ts": posted["ts"], "text": posted["text"], "blocks": posted["blocks"],
               "bot_id": "BMAILBOT", "user": BOT_USER}  # fmt: skip
    if posted.get("thread_ts"):
        message["thread_ts"] = posted["thread_ts"]
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "mailtest"},
        "user": {"id": user, "username": "asker", "team_id": TEAM},
        "api_app_id": "A0MAIL",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": posted["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "123.456.abc",
        "channel": {"id": channel, "name": "mail"},
        "message": message,
        "response_url": response_url,
        "actions": [
            {
                **element,
                "block_id": _block_of(posted["blocks"], action_id),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def ephemeral_press(
    blocks: list[dict[str, Any]], action_id: str, *, channel: str, response_url: str
) -> dict[str, Any]:
    """The payload for a button on an ephemeral message (a slash command's answer): no ``message`` in it."""
    element = next(
        e for b in blocks if b.get("type") == "actions" for e in b["elements"] if e["action_id"] == action_id
    )
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "mailtest"},
        "user": {"id": "U0ASKER", "username": "asker", "team_id": TEAM},
        "api_app_id": "A0MAIL",
        "token": "legacy",
        "container": {
            "type": "message",
            "message_ts": "1700000000.999999",
            "channel_id": channel,
            "is_ephemeral": True,
        },
        "trigger_id": "123.456.abc",
        "channel": {"id": channel, "name": "mail"},
        "response_url": response_url,
        "actions": [
            {
                **element,
                "block_id": _block_of(blocks, action_id),
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def _block_of(blocks: list[dict[str, Any]], action_id: str) -> str:
    return next(str(b.get("block_id")) for b in blocks if b.get("type") == "actions"
                for e in b["elements"] if e["action_id"] == action_id)  # fmt: skip


def message_shortcut(message: dict[str, Any], *, channel: str, response_url: str) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "mailcheck_diagnose",
        "trigger_id": "123.456.abc",
        "team": {"id": TEAM, "domain": "mailtest"},
        "user": {"id": "U0HELPER", "name": "helper"},
        "channel": {"id": channel, "name": "mail"},
        "message": message,
        "message_ts": message["ts"],
        "response_url": response_url,
        "token": "legacy",
        "api_app_id": "A0MAIL",
    }
