"""The bolt app: listeners that acknowledge at once and hand the work to ``Service`` on our own pools.

``create_app`` takes everything as arguments (tokens, API URL, store, pool sizes); only ``serve.py``
reads settings. Every listener returns quickly: bolt's own pool is small and Slack allows 3 seconds.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest

from bot.config import DEFAULT_SLACK_API_URL
from bot.model import Lang
from bot.slack import blocks as bk
from bot.slack import web
from bot.slack.extras import ProbeOptions
from bot.slack.mrkdwn import plain
from bot.slack.runtime import Cases, Dedupe, Pool, Workers
from bot.slack.service import MessageRef, Press, Request, Service, StoreLike, Thread, Webhook, decode_state
from bot.slack.texts import say
from bot.text import detect_lang
from bot.triage import Triage

log = logging.getLogger("mailcheck.slack")

# Public contract with manifest.yml (tests/test_slack_serve.py checks they agree).
COMMAND = "/mailcheck"
SHORTCUT_CALLBACK = "mailcheck_diagnose"
EVENTS_PATH = "/slack/events"
# Message subtypes a person produces; everything else (edits, joins, bot posts) is not a new question.
PERSON_SUBTYPES = (None, "file_share", "thread_broadcast")


class DedupeDeliveries(Middleware):
    """Slack redelivers an event it thinks we missed (``X-Slack-Retry-Num``): answer 200, do nothing.

    It must answer itself rather than fall through: a middleware that neither calls ``next()`` nor
    returns a response makes bolt answer 404, and Slack redelivers again.
    """

    def __init__(self, dedupe: Dedupe) -> None:
        self.dedupe = dedupe

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        if isinstance(event_id, str) and not self.dedupe.first_time(f"event:{event_id}"):
            retry = (req.headers.get("x-slack-retry-num") or ["0"])[0]
            log.info("duplicate delivery of %s (retry %s) ignored", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()


@dataclass
class SlackApp:
    bolt: App
    service: Service
    workers: Workers
    dedupe: Dedupe

    @property
    def client(self) -> Any:
        return self.bolt.client

    def close(self) -> None:
        self.workers.shutdown(wait=False)


def create_app(
    triage: Triage,
    *,
    token: str,
    signing_secret: str | None,
    api_url: str = DEFAULT_SLACK_API_URL,
    store: StoreLike | None = None,
    probe: ProbeOptions | None = None,
    fast_workers: int = 8,
    slow_workers: int = 4,
    queue: int = 64,
    socket_mode: bool = False,
    verify_token: bool = True,
) -> SlackApp:
    """The whole Slack app. ``verify_token`` calls auth.test now (serve does it once before forking)."""
    if not socket_mode and not signing_secret:
        raise ValueError("HTTP mode needs the signing secret to check requests")
    client = web.make_client(token, api_url)
    bolt = App(
        client=client,
        signing_secret=signing_secret or "",
        token_verification_enabled=verify_token,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        # Listeners only ack and enqueue, so a modest pool keeps acks fast under bursts.
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="bolt-listener"),
        logger=logging.getLogger("mailcheck.slack.bolt"),
    )
    workers, dedupe = Workers(fast_workers, slow_workers, queue), Dedupe(log=store)
    service = Service(triage, client, token=token, api_url=api_url, workers=workers, cases=Cases(),
                      store=store, probe=probe)  # fmt: skip
    bolt.use(DedupeDeliveries(dedupe))
    Listeners(service, workers, dedupe).register(bolt)
    return SlackApp(bolt, service, workers, dedupe)


def _from_bot(event: Mapping[str, Any], bot_user: str | None) -> bool:
    """Our own posts and other bots' posts are never questions (and answering them could loop)."""
    return (
        bool(event.get("bot_id"))
        or event.get("subtype") == "bot_message"
        or (bot_user is not None and event.get("user") == bot_user)
    )


@dataclass(frozen=True)
class Command:
    verb: str  # diagnose | help | probe | settings
    arg: str
    share: bool
    lang: Lang | None


_VERBS = {"help": "help", "ヘルプ": "help", "--help": "help", "-h": "help", "probe": "probe", "check": "probe",
          "確認": "probe", "settings": "settings", "設定": "settings", "watch": "watch", "監視": "watch"}  # fmt: skip


def parse_command(text: str) -> Command:
    """``/mailcheck [--share] [--en|--ja] [help | probe HOST | settings ADDRESS | error text]``."""
    words = plain(text).split()
    share = "--share" in words
    lang: Lang | None = "en" if "--en" in words else "ja" if "--ja" in words else None
    words = [w for w in words if w not in ("--share", "--en", "--ja")]
    if not words:
        return Command("help", "", share, lang)
    verb = _VERBS.get(words[0].lower())
    if verb is None:
        body = plain(text)
        for flag in ("--share", "--en", "--ja"):
            body = body.replace(flag, " ")
        return Command("diagnose", body.strip(), share, lang)
    return Command(verb, " ".join(words[1:3] if verb == "watch" else words[1:2]), share, lang)


class Listeners:
    """Bolt listeners: check, acknowledge, enqueue. No listener waits on the network for long."""

    def __init__(self, service: Service, workers: Workers, dedupe: Dedupe) -> None:
        self.service, self.workers, self.dedupe = service, workers, dedupe

    def register(self, app: App) -> None:
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        # Any other event we are subscribed to must still get a 200, or Slack redelivers it.
        app.event(re.compile(".*"))(self.on_other_event)
        app.command(COMMAND)(self.on_command)
        app.shortcut(SHORTCUT_CALLBACK)(self.on_shortcut)
        app.action(re.compile("^mc_"))(self.on_button)
        app.action(re.compile(".*"))(self.on_other_action)

    def submit(self, pool: Pool, fn: Callable[..., Any], *args: Any, busy: Callable[[], object]) -> None:
        if not self.workers.submit(pool, fn, *args):
            busy()

    def busy_in_thread(self, target: Thread, lang: Lang) -> Callable[[], object]:
        return lambda: self.service.notice(target, say("busy", lang))

    # --- messages -----------------------------------------------------------------------------------

    def first_time(self, event: Mapping[str, Any]) -> bool:
        """One reply per message even if it arrives as two events (app_mention and message)."""
        return self.dedupe.first_time(f"msg:{event.get('channel')}:{event.get('ts')}")

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
        if _from_bot(event, context.get("bot_user_id")) or not self.first_time(event):
            return
        target = Thread(str(event["channel"]), str(event.get("thread_ts") or event["ts"]))
        pool: Pool = "slow" if event.get("files") else "fast"
        self.submit(pool, self.mention, event, body.get("team_id"), target,
                    busy=self.busy_in_thread(target, detect_lang(event.get("text") or "あ")))  # fmt: skip

    def mention(self, event: Mapping[str, Any], team: str | None, target: Thread) -> None:
        text, files = plain(str(event.get("text") or "")), tuple(event.get("files") or ())
        thread_ts, ts = event.get("thread_ts"), event.get("ts")
        if thread_ts and thread_ts != ts and not files and self.service.names_no_error(text):
            root = self.service.thread_root(str(event["channel"]), str(thread_ts))
            if root is not None:
                text = f"{plain(str(root.get('text') or ''))}\n{text}".strip()
                files = tuple(root.get("files") or ())
        request = Request(text, "mention", event.get("user"), team, str(event["channel"]), files)
        self.service.diagnose(request, target)

    def on_message(self, event: dict[str, Any], body: dict[str, Any], context: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") not in PERSON_SUBTYPES:
            return
        if _from_bot(event, context.get("bot_user_id")) or not self.first_time(event):
            return
        channel = str(event["channel"])
        target = Thread(channel, event.get("thread_ts"))
        files = tuple(event.get("files") or ())
        request = Request(plain(str(event.get("text") or "")), "dm", event.get("user"), body.get("team_id"),
                          channel, files)  # fmt: skip
        self.submit("slow" if files else "fast", self.service.diagnose, request, target,
                    busy=self.busy_in_thread(target, detect_lang(request.text or "あ")))  # fmt: skip

    def on_other_event(self, event: dict[str, Any]) -> None:
        log.debug("event %s ignored", event.get("type"))

    # --- slash command ------------------------------------------------------------------------------

    def on_command(self, ack: Callable[..., Any], command: dict[str, Any]) -> None:
        parsed = parse_command(str(command.get("text") or ""))
        url = str(command.get("response_url") or "")
        target = Webhook(url, parsed.share)
        lang: Lang = parsed.lang or (detect_lang(parsed.arg) if parsed.verb == "diagnose" else "ja")
        if parsed.verb == "help":
            ack(text=say("help", "ja") + "\n\n" + say("help", "en"), response_type="ephemeral")
            return
        if parsed.verb in ("probe", "settings") and not parsed.arg:
            ack(text=say(f"{parsed.verb}_usage", lang), response_type="ephemeral")
            return
        user, team, channel = command.get("user_id"), command.get("team_id"), command.get("channel_id")
        busy = lambda: web.respond(url, text=say("busy", lang), response_type="ephemeral")  # noqa: E731
        if parsed.verb == "watch":  # admins only: the check calls users.info, so it runs after the ack
            from bot.slack.report_post import watch_ack, watch_command

            ack(text=watch_ack(lang), response_type="ephemeral")
            self.submit("fast", watch_command, self.service.client, self.service.store, parsed.arg, lang, user, url,
                        busy=busy)  # fmt: skip
            return
        if parsed.verb == "probe":
            ack(
                text=say("probing", lang, s=int(self.service.probe_options.timeout)),
                response_type="ephemeral",
            )
            self.submit("slow", self.service.probe_command, parsed.arg, lang, target, user, busy=busy)
        elif parsed.verb == "settings":
            ack(text=say("looking_up", lang), response_type="ephemeral")
            self.submit("slow", self.service.settings_command, parsed.arg, lang, target, busy=busy)
        else:
            ack()
            request = Request(parsed.arg, "command", user, team, channel, lang=parsed.lang)
            self.submit("fast", self.service.diagnose, request, target, busy=busy)

    # --- message shortcut ---------------------------------------------------------------------------

    def on_shortcut(self, ack: Callable[..., Any], shortcut: dict[str, Any]) -> None:
        ack()
        message = shortcut.get("message") or {}
        channel = str((shortcut.get("channel") or {}).get("id") or "")
        url = shortcut.get("response_url")
        if not channel or not message:
            return  # a global shortcut has no message: nothing to diagnose
        target = Thread(channel, str(message.get("thread_ts") or message.get("ts")))
        files = tuple(message.get("files") or ())
        request = Request(plain(str(message.get("text") or "")), "shortcut", (shortcut.get("user") or {}).get("id"),
                          (shortcut.get("team") or {}).get("id"), channel, files)  # fmt: skip
        fallback = Webhook(str(url)) if url else None
        self.submit("slow" if files else "fast", self.service.diagnose, request, target, fallback,
                    busy=self.busy_in_thread(target, detect_lang(request.text or "あ")))  # fmt: skip

    # --- buttons ------------------------------------------------------------------------------------

    def on_button(self, ack: Callable[..., Any], body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        press = self.press_of(body, action)
        if press is None:
            url = body.get("response_url")
            if url:
                web.respond(str(url), text=say("bad_button", "ja") + "\n" + say("bad_button", "en"),
                            response_type="ephemeral", replace_original=False)  # fmt: skip
            return
        pool: Pool = "slow" if press.action == bk.PROBE else "fast"
        self.submit(pool, self.service.press, press,
                    busy=lambda: self.service.notice(press.follow_up, say("busy", press.state.lang)))  # fmt: skip

    def on_other_action(self, ack: Callable[..., Any]) -> None:
        ack()  # link buttons and the like also send a payload; it needs a 200 and nothing else

    @staticmethod
    def press_of(body: Mapping[str, Any], action: Mapping[str, Any]) -> Press | None:
        state = decode_state(str(action.get("value") or ""))
        if state is None:
            return None
        container = body.get("container") or {}
        message = body.get("message")
        channel = str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")
        url = body.get("response_url")
        if container.get("is_ephemeral") or not message or not channel:
            if not url:
                return None
            place: MessageRef | Webhook = Webhook(str(url))
            follow: Thread | Webhook = Webhook(str(url))
        else:
            place = MessageRef(channel, str(message["ts"]))
            follow = Thread(channel, message.get("thread_ts"))
        blocks = tuple(message.get("blocks") or ()) if message else None
        user, team = (body.get("user") or {}).get("id"), (body.get("team") or {}).get("id")
        return Press(str(action.get("action_id")), state, user, team, place, follow, blocks)
