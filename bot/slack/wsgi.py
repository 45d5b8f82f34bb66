"""The HTTP app for any WSGI server: ``gunicorn --workers 1 --threads 16 'bot.slack.wsgi:app'``.

``mailcheck serve`` (the Procfile's command) does the same with checks and a clear message first; this
module exists for hosts that want to run their own WSGI server. It reads the environment at import,
in the worker process, and stops with one line when a setting is wrong.
"""

from __future__ import annotations

from bot.config import ConfigError, load_settings
from bot.knowledge import KnowledgeError, load
from bot.slack.serve import ServeError, build, check_db_path
from bot.slack.server import WsgiApp, wsgi_app
from bot.triage import Triage


def make_app() -> WsgiApp:
    try:
        settings = load_settings()
        if not settings.slack_bot_token or not settings.slack_signing_secret:
            raise ServeError("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set for HTTP mode")
        check_db_path(settings.db_path)
        triage = Triage(load(settings.knowledge_dir))
        return wsgi_app(build(settings, triage, verify_token=True))
    except (ConfigError, ServeError) as exc:
        raise SystemExit(f"Error: {exc}") from None
    except KnowledgeError as exc:
        raise SystemExit(
            f"Error: the knowledge folder has mistakes; run `mailcheck knowledge check` ({len(exc.problems)} problems)"
        ) from None


app = make_app()
