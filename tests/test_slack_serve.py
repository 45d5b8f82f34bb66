"""``mailcheck serve`` as an admin runs it: a real subprocess (gunicorn in HTTP mode), real settings in
the environment, signed requests, and the recording Slack stand-in; plus the manifest and Procfile."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.slack.app import COMMAND, EVENTS_PATH, SHORTCUT_CALLBACK
from tests.cli_run import run_cli
from tests.servers.slack_api import SlackApiServer
from tests.servers.slack_app import SECRET, SignedClient, mention

ROOT = Path(__file__).resolve().parent.parent
EN_AUTH = 'Cannot Get Mail\nThe user name or password for "imap.example.com" is incorrect.'


@pytest.fixture
def api() -> Iterator[SlackApiServer]:
    with SlackApiServer() as server:
        yield server


def slack_env(api: SlackApiServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api.api_url,
            "MAILCHECK_DB": str(tmp_path / "mailcheck.db"), **extra}  # fmt: skip


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    lines: queue.Queue[str]
    url: str


def _pump(stream: object, out: queue.Queue[str]) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        out.put(raw.decode("utf-8", "replace"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """Start ``mailcheck serve --host 127.0.0.1 --port 0`` with an environment; stopped after the test."""
    started: list[Served] = []

    def start(env: dict[str, str], ready: str = LISTENING) -> Served:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MAILCHECK_"))}
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
                                cwd=tmp_path, env={**clean, "PYTHONPATH": str(ROOT), **env},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        served = Served(proc, lines, "")
        started.append(served)
        served.url = _wait_for_line(served, ready)
        return served

    yield start
    for served in started:
        if served.proc.poll() is None:
            served.proc.send_signal(signal.SIGTERM)
            try:
                served.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                served.proc.kill()
                served.proc.wait(timeout=10)
        if served.proc.stdout is not None:
            served.proc.stdout.close()


LISTENING = r"listening on (http://127\.0\.0\.1:\d+)"
SOCKET_READY = r"(Socket Mode connected)"


def _wait_for_line(served: Served, pattern: str, timeout: float = 60) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = served.lines.get(timeout=0.1)
        except queue.Empty:
            if served.proc.poll() is not None:
                break
            continue
        seen.append(line)
        if match := re.search(pattern, line):
            return match.group(1)
    raise AssertionError("serve did not start:\n" + "".join(seen))


# --- HTTP mode ----------------------------------------------------------------------------------------


def test_serve_http_mode_answers_signed_mentions_in_the_thread(
    serve: object, api: SlackApiServer, tmp_path: Path
) -> None:
    """The production path (gunicorn): /healthz, a signed mention answered in its thread, a forged one 401."""
    served = serve(slack_env(api, tmp_path))  # type: ignore[operator]
    client = SignedClient(served.url)
    assert client.request("GET", "/healthz").status == 200
    assert client.event(mention(EN_AUTH, ts="1699999999.000001")).status == 200
    (reply,) = api.wait_for("chat.postMessage")
    assert reply.params["thread_ts"] == "1699999999.000001"
    forged = SignedClient(served.url, secret="wrong")
    assert forged.event(mention(EN_AUTH, ts="1699999999.000002")).status == 401
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=30) == 0
    assert (tmp_path / "mailcheck.db").exists()  # the diagnosis went to the store


def test_serve_http_mode_records_cases_in_the_store(
    serve: object, api: SlackApiServer, tmp_path: Path
) -> None:
    """Each diagnosis in HTTP mode is a case in MAILCHECK_DB (real SQLite), with the Slack source."""
    import sqlite3

    served = serve(slack_env(api, tmp_path))  # type: ignore[operator]
    SignedClient(served.url).command(EN_AUTH, api.response_url("cmd"))
    api.wait_for("response:cmd")
    with sqlite3.connect(tmp_path / "mailcheck.db") as db:
        rows = db.execute("SELECT source, symptom FROM cases").fetchall()
    assert rows == [("command", "auth_failed")]


# --- Socket Mode ---------------------------------------------------------------------------------------


def test_serve_socket_mode_answers_events_and_commands_over_the_websocket(
    serve: object, api: SlackApiServer, tmp_path: Path
) -> None:
    """With SLACK_APP_TOKEN: no signing secret needed; envelopes arrive over the WebSocket, each is acked by
    its envelope id, a mention is answered in its thread and a slash command through its response_url."""
    env = slack_env(api, tmp_path, SLACK_APP_TOKEN="xapp-1-test", SLACK_SIGNING_SECRET="")
    served = serve(env, SOCKET_READY)  # type: ignore[operator]
    event = {"type": "event_callback", "team_id": "T0MAIL", "api_app_id": "A0MAIL", "event_id": "Ev0SOCKET",
             "event_time": 1, "event": mention(EN_AUTH, ts="1699999999.000100")}  # fmt: skip
    api.socket_send({"envelope_id": "env-event", "type": "events_api", "accepts_response_payload": False,
                     "payload": event})  # fmt: skip
    api.wait_for("socket:ack", where=lambda c: c.params.get("envelope_id") == "env-event")
    (reply,) = api.wait_for("chat.postMessage")
    assert reply.params["thread_ts"] == "1699999999.000100"
    command = {"team_id": "T0MAIL", "channel_id": "C0MAIL", "user_id": "U0ASKER", "command": "/mailcheck",
               "text": EN_AUTH, "response_url": api.response_url("socket-cmd"), "trigger_id": "1.2.3",
               "api_app_id": "A0MAIL"}  # fmt: skip
    api.socket_send({"envelope_id": "env-cmd", "type": "slash_commands", "accepts_response_payload": True,
                     "payload": command})  # fmt: skip
    api.wait_for("socket:ack", where=lambda c: c.params.get("envelope_id") == "env-cmd")
    (answer,) = api.wait_for("response:socket-cmd")
    assert "Password or user name rejected" in answer.text
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=30) == 0


# --- settings that stop the server ------------------------------------------------------------------


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


PROBLEMS = {
    "no signing secret": ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
    "revoked bot token": ({"SLACK_BOT_TOKEN": "xoxb-revoked-1"}, "invalid_auth"),
    "malformed bot token": ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
    "malformed app token": ({"SLACK_APP_TOKEN": "abc"}, "SLACK_APP_TOKEN"),
    "rejected app token": ({"SLACK_APP_TOKEN": "xapp-1-rejected"}, "SLACK_APP_TOKEN (invalid_auth)"),
    "bad port": ({"PORT": "99999"}, "PORT"),
    "bad api url": ({"SLACK_API_URL": "ftp://example"}, "SLACK_API_URL"),
}


@pytest.mark.parametrize(("change", "named"), PROBLEMS.values(), ids=PROBLEMS.keys())
def test_serve_with_a_bad_setting_says_so_in_one_line_and_exits_2(
    api: SlackApiServer, tmp_path: Path, change: dict[str, str], named: str
) -> None:
    """Missing or malformed settings and rejected tokens: one clear line naming the setting, exit 2."""
    env = {**slack_env(api, tmp_path), **change}
    result = run_cli("serve", "--host", "127.0.0.1", "--port", "0", env=env, timeout=60)
    assert named in _one_error_line(result)


def test_serve_when_slack_is_unreachable_says_so(tmp_path: Path) -> None:
    """SLACK_API_URL pointing at a closed port: one line, exit 2, no retry loop forever."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/api/"
    env = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": closed,
           "MAILCHECK_DB": str(tmp_path / "m.db")}  # fmt: skip
    assert "cannot reach Slack" in _one_error_line(run_cli("serve", env=env, timeout=120))


def test_serve_without_a_bot_token_opens_the_console_chat(tmp_path: Path) -> None:
    """No SLACK_BOT_TOKEN: one line saying so, then the console chat, whose numbered choices walk the tree."""
    env = {"MAILCHECK_DB": str(tmp_path / "chat.db")}
    result = run_cli("serve", stdin='IMAPアカウント"会社"のパスワードが正しくありません\n2\n4\n', env=env)
    assert result.returncode == 0, result.stderr
    notice = [line for line in result.stderr.splitlines() if "SLACK_BOT_TOKEN" in line]
    assert len(notice) == 1
    assert "1) はい" in result.stdout and "4) まだ困っている" in result.stdout
    assert "問い合わせ用メモ" in result.stdout and "→ いいえ" in result.stdout


# --- the files an admin pastes and deploys ----------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_declares_what_the_code_listens_to(manifest: dict[str, object]) -> None:
    """The manifest's command, shortcut, events and URLs are the ones the app handles."""
    features, settings = manifest["features"], manifest["settings"]
    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]  # type: ignore[index]
    assert [s["callback_id"] for s in features["shortcuts"]] == [SHORTCUT_CALLBACK]  # type: ignore[index]
    assert features["shortcuts"][0]["type"] == "message"  # type: ignore[index]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}  # type: ignore[index]
    assert settings["interactivity"]["is_enabled"] is True  # type: ignore[index]
    urls = [settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"],  # type: ignore[index]
            features["slash_commands"][0]["url"]]  # type: ignore[index]  # fmt: skip
    assert all(url.endswith(EVENTS_PATH) for url in urls)
    assert features["app_home"]["messages_tab_enabled"] is True  # type: ignore[index]


SCOPES = {
    "app_mentions:read": "mentions",
    "chat:write": "replies and updates",
    "commands": "/mailcheck and the shortcut",
    "im:history": "direct messages",
    "channels:history": "a thread's first message",
    "files:read": "screenshots",
}


@pytest.mark.parametrize("scope", SCOPES, ids=SCOPES.values())
def test_manifest_asks_for_each_scope_the_app_uses(manifest: dict[str, object], scope: str) -> None:
    """Each Web API use needs its bot scope in the manifest, or Slack refuses the call."""
    assert scope in manifest["oauth_config"]["scopes"]["bot"]  # type: ignore[index]


def test_manifest_shortcut_name_is_short(manifest: dict[str, object]) -> None:
    """The shortcut's name stays short (it is a menu item; 24 characters is a safe bound) and so does its description."""
    shortcut = manifest["features"]["shortcuts"][0]  # type: ignore[index]
    assert len(shortcut["name"]) <= 24 and len(shortcut["description"]) <= 150


def test_procfile_runs_serve_on_the_platform_port() -> None:
    """The Procfile's web process is `mailcheck serve` (gunicorn inside; $PORT from the environment)."""
    line = (ROOT / "Procfile").read_text(encoding="utf-8").strip()
    assert line.startswith("web: mailcheck serve")
    assert "--port" not in line  # PORT is read from the environment by serve itself
