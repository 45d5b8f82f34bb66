"""``mailcheck serve``: check the settings, then run Socket Mode (``SLACK_APP_TOKEN``) or HTTP mode.

This is the one place where settings become arguments: tokens, URLs, probe limits and the store are
read here and passed down. Problems a person can fix (a rejected token, a missing signing secret, an
unwritable database folder) stop here as one ``ServeError`` line (exit 2), before anything listens.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.slack import web
from bot.slack.app import SlackApp, create_app
from bot.slack.extras import ProbeOptions
from bot.slack.server import WsgiApp, run_gunicorn, wsgi_app
from bot.slack.service import StoreLike
from bot.triage import Triage

log = logging.getLogger("mailcheck.slack")


class ServeError(Exception):
    """A setting or credential that stops the server from starting; the message says what to fix."""


# --- background jobs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobContext:
    """What a background job gets: the settings, the Web API client, the store, and a stop signal."""

    settings: Settings
    client: Any  # slack_sdk.WebClient, already pointed at SLACK_API_URL with retries
    store: StoreLike | None
    stop: threading.Event


Job = Callable[[JobContext], None]


def background_jobs(settings: Settings) -> list[Job]:
    """Jobs that run beside the listeners for the life of the process, one daemon thread each.

    Each job loops until ``ctx.stop`` is set (use ``ctx.stop.wait(seconds)`` to sleep). They start in the
    process that serves Slack (the gunicorn worker in HTTP mode), so there is exactly one of each.
    The weekly report scheduler belongs here.
    """
    from bot.slack.report_post import run_scheduler

    return [run_scheduler]  # weekly post (MAILCHECK_REPORT_CHANNEL), hourly watch probes, nightly purge


def start_jobs(context: JobContext, jobs: list[Job]) -> list[threading.Thread]:
    threads = []
    for job in jobs:
        thread = threading.Thread(
            target=_run_job, args=(job, context), name=f"job-{job.__name__}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads


def _run_job(job: Job, context: JobContext) -> None:
    try:
        job(context)
    except Exception:  # a broken job must not take the listeners down with it
        log.exception("background job %s stopped", getattr(job, "__name__", job))


# --- building the app -------------------------------------------------------------------------------


def open_store(path: Path) -> StoreLike | None:
    """The SQLite store when ``bot.store`` is installed; None otherwise (the bot still answers)."""
    try:
        from bot.store import Store
    except ImportError:
        return None
    store: StoreLike = Store(path)
    return store


def check_db_path(path: Path) -> None:
    """Open the store once before serving, so a bad MAILCHECK_DB is one line now, not a failing worker."""
    folder = path.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ServeError(f"MAILCHECK_DB={path}: the folder {folder} does not exist or is not writable")
    try:
        from bot.store import Store, StoreError
    except ImportError:
        return
    try:
        Store(path).close()
    except StoreError as exc:
        raise ServeError(f"MAILCHECK_DB={path}: {exc}") from None


def build(settings: Settings, triage: Triage, *, verify_token: bool = False) -> SlackApp:
    """The app with its store and background jobs; called in the process that will serve."""
    assert settings.slack_bot_token is not None
    store = open_store(settings.db_path)
    app = create_app(
        triage,
        token=settings.slack_bot_token,
        signing_secret=settings.slack_signing_secret,
        api_url=settings.slack_api_url,
        store=store,
        probe=ProbeOptions(
            dns_server=settings.dns_server, cafile=settings.cafile, allow=settings.probe_allow
        ),
        socket_mode=settings.slack_app_token is not None,
        verify_token=verify_token,
    )
    start_jobs(JobContext(settings, app.client, store, threading.Event()), background_jobs(settings))
    return app


def preflight(settings: Settings) -> str:
    """auth.test once, before forking or connecting: a wrong token is one clear line, not a crash loop."""
    assert settings.slack_bot_token is not None
    client = web.make_client(settings.slack_bot_token, settings.slack_api_url)
    sdk_log = logging.getLogger("slack_sdk")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)  # the SDK's own retry chatter; our one line says it
    try:
        result = client.auth_test()
    except SlackApiError as exc:
        code = exc.response.get("error", exc.response.status_code)
        raise ServeError(f"Slack rejected SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token (xoxb-…) "
                         "from OAuth & Permissions again") from None  # fmt: skip
    except (SlackClientError, OSError) as exc:
        raise ServeError(f"cannot reach Slack at {settings.slack_api_url} ({type(exc).__name__}); "
                         "check the network or SLACK_API_URL") from None  # fmt: skip
    finally:
        sdk_log.setLevel(level)
    return f"{result.get('user', '?')} in {result.get('team', '?')}"


# --- the two modes ----------------------------------------------------------------------------------


class _DropTokenNotice(logging.Filter):
    """bolt warns that SLACK_BOT_TOKEN is unused whenever it is set and a client is given (always, here)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("As you gave `client` as well")


def configure_logging() -> None:
    """One line per event on standard error; message texts are never logged, only ids and error codes."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mailcheck.slack.bolt").addFilter(_DropTokenNotice())
    # slack_sdk logs every retry at INFO; ours (web.py) already say what matters at WARNING.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)


def serve(settings: Settings, triage: Triage, *, host: str, port: int) -> int:
    who = preflight(settings)
    configure_logging()
    check_db_path(settings.db_path)
    if settings.slack_app_token:
        return serve_socket_mode(settings, triage, who)
    if not settings.slack_signing_secret:
        raise ServeError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to check every request "
                         "(Basic Information → Signing Secret), or set SLACK_APP_TOKEN for Socket Mode")  # fmt: skip
    print(f"mailcheck: signed in as {who}; starting HTTP mode", flush=True)

    def factory() -> WsgiApp:
        return wsgi_app(build(settings, triage))

    run_gunicorn(factory, host=host, port=port)
    return 0


def serve_socket_mode(settings: Settings, triage: Triage, who: str) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = build(settings, triage)
    # The SDK logs a failed first connection itself; until it succeeds, our one line says it instead.
    socket_log = logging.getLogger("mailcheck.slack.socket")
    socket_log.setLevel(logging.CRITICAL)
    handler = SocketModeHandler(app.bolt, settings.slack_app_token, logger=socket_log)
    try:
        handler.connect()  # type: ignore[no-untyped-call]
        socket_log.setLevel(logging.NOTSET)
    except SlackApiError as exc:
        app.close()
        code = exc.response.get("error", exc.response.status_code)
        raise ServeError(f"Slack rejected SLACK_APP_TOKEN ({code}): create an app-level token with the "
                         "connections:write scope (Basic Information → App-Level Tokens)") from None  # fmt: skip
    except (SlackClientError, OSError) as exc:
        app.close()
        raise ServeError(f"cannot open the Socket Mode connection ({type(exc).__name__}); "
                         "check the network, or unset SLACK_APP_TOKEN to use HTTP mode") from None  # fmt: skip
    print(f"mailcheck: signed in as {who}; Socket Mode connected", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # a platform stop or Ctrl-C: close the socket, then exit 0
        signal.signal(sig, lambda *_: stop.set())
    try:
        stop.wait()  # the handler's threads do the work meanwhile
    finally:
        handler.close()  # type: ignore[no-untyped-call]
        app.close()
    return 0
