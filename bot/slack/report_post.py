"""The weekly report in Slack: Block Kit with a plain-text fallback, then the chart (``files_upload_v2``).

Also the background job ``mailcheck serve`` runs (the scheduler: weekly post, hourly watch probes,
daily purge) and the ``--post`` path of ``mailcheck report weekly``. Both claim the ISO week in the
store before posting, so a week is posted once however many processes or cron lines run it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.model import Lang, ProbeReport, Text
from bot.slack.mrkdwn import clip, escape
from bot.summary import (
    Advice,
    ReportError,
    ServerHealth,
    WeeklyReport,
    label,
    period_label,
    render_text,
    server_facts,
)

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.scheduler import Scheduler
    from bot.slack.serve import JobContext
    from bot.store import Store

log = logging.getLogger("mailcheck.slack")


class PostError(Exception):
    """The post did not reach Slack; one line saying what to fix. The week stays unposted (safe to rerun)."""


Block = dict[str, Any]
HEADER_MAX, SECTION_MAX, CONTEXT_MAX, FALLBACK_MAX = 150, 3000, 2000, 3500
MAX_ADVICE, MAX_SERVERS, MAX_SYMPTOMS = 10, 10, 10
CHART_NAME = "mailcheck-weekly.png"


# --- Block Kit -----------------------------------------------------------------------------------------


def report_blocks(report: WeeklyReport) -> list[Block]:
    """Japanese first; the English line sits under each part in a smaller context block."""
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(label("title", None), HEADER_MAX)}},
        _context(period_label(report)),
        _section(_incidents_mrkdwn(report, "ja")),
        {"type": "divider"},
        _section(f"*{label('servers', None)}*\n" + _servers_mrkdwn(report.servers)),
    ]
    if report.advice:
        blocks += [{"type": "divider"}, _section(f"*{label('advice', None)}*")]
        for item in report.advice[:MAX_ADVICE]:
            blocks += _advice_blocks(item)
    return blocks


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_MAX)}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_MAX)}]}


def _incidents_mrkdwn(report: WeeklyReport, lang: Lang) -> str:
    i = report.incidents
    diff = i.total - i.previous_total
    lines = [
        f"*{label('incidents', None)}: {i.total}*（{label('previous', lang)} {i.previous_total}, {diff:+d}）"
    ]
    for symptom, n in list(i.by_symptom.items())[:MAX_SYMPTOMS]:
        before = i.previous_by_symptom.get(symptom, 0)
        lines.append(f"• {escape(report.title_of(symptom, lang))} `{symptom}`: {n}（{n - before:+d}）")
    if i.solved_rate is not None:
        lines.append(
            f"{label('solved', None)}: {i.solved_rate * 100:.0f}%（{label('answered', lang)} {i.answered}）"
        )
    if i.top_clients:
        names = ", ".join(f"{escape(_client(report, c))} {n}" for c, n in i.top_clients)
        lines.append(f"{label('clients', None)}: {names}")
    return "\n".join(lines)


def _client(report: WeeklyReport, client: str) -> str:
    name = report.client_names.get(client)
    return name.ja if name else client


def _servers_mrkdwn(servers: tuple[ServerHealth, ...]) -> str:
    if not servers:
        return label("no_servers", None)
    lines = []
    for s in servers[:MAX_SERVERS]:
        if not s.probes:
            lines.append(f"• `{escape(s.host)}`: {label('no_probes', None)}")
            continue
        lines.append(f"• `{escape(s.host)}`: " + ", ".join(escape(p) for p in server_facts(s, "ja")))
        lines += [f"    ⚠ {c.what}: {escape(c.before)} → {escape(c.after)}" for c in s.changes]
    return "\n".join(lines)


def _advice_blocks(item: Advice) -> list[Block]:
    ja, en = escape(item.text.ja), escape(item.text.en)
    notes_ja, notes_en = _notes(item.see_title, item.escalate_name)
    return [_section(f"• {ja}{notes_ja}"), _context(f"{en}{notes_en}")]


def _notes(see: Text | None, contact: Text | None) -> tuple[str, str]:
    ja = [f"詳しくは: {escape(see.ja)}"] if see else []
    en = [f"See: {escape(see.en)}"] if see else []
    if contact:
        ja.append(f"連絡先: {escape(contact.ja)}")
        en.append(f"Contact: {escape(contact.en)}")
    return (f"\n_（{' / '.join(ja)}）_" if ja else ""), (f" _({'; '.join(en)})_" if en else "")


def fallback_text(report: WeeklyReport) -> str:
    """What notifications and clients without Block Kit show: the plain report, clipped."""
    return clip(render_text(report), FALLBACK_MAX)


# --- posting -------------------------------------------------------------------------------------------


def post_report(client: Any, channel: str, report: WeeklyReport, *, chart: bool = True) -> str:
    """Post the report to ``channel``; returns the message ts. Slack errors propagate (the caller retries)."""
    result = client.chat_postMessage(
        channel=channel, text=fallback_text(report), blocks=report_blocks(report)
    )
    if chart:
        _upload_chart(client, str(result.get("channel") or channel), report)
    return str(result.get("ts", ""))


def _upload_chart(client: Any, channel_id: str, report: WeeklyReport) -> None:
    from bot.chart import render_png

    with tempfile.TemporaryDirectory(prefix="mailcheck-chart-") as folder:
        png = render_png(report, Path(folder) / CHART_NAME)
        # files_upload_v2 needs the channel id (C…), which chat.postMessage has just returned.
        client.files_upload_v2(
            channel=channel_id,
            file=str(png),
            filename=CHART_NAME,
            title=f"{label('title', None)} {report.days[0]:%m/%d}–{report.days[-1]:%m/%d}",
        )


def publisher(client: Any, channel: str) -> Callable[[WeeklyReport], None]:
    def publish(report: WeeklyReport) -> None:
        post_report(client, channel, report)

    return publish


def post_once(
    store: Store, client: Any, channel: str, report: WeeklyReport, *, period: str, owner: str
) -> bool:
    """``mailcheck report weekly --post``: post unless this week was already posted. True when posted."""
    from bot.scheduler import report_job_name

    name = report_job_name(channel)
    if not store.claim(name, period, owner=owner, lease=timedelta(hours=1), retry_after=timedelta(0)):
        return False
    try:
        post_report(client, channel, report)
    except BaseException as exc:
        store.finish(name, period, owner=owner, ok=False)
        if isinstance(exc, SlackApiError):
            code = exc.response.get("error", exc.response.status_code)
            raise PostError(f"Slack refused the post to {channel} ({code}); check the channel and that "
                            "the bot is a member (/invite @mailcheck)") from None  # fmt: skip
        if isinstance(exc, SlackClientError | OSError):
            raise PostError(
                f"cannot reach Slack ({type(exc).__name__}); check the network or SLACK_API_URL"
            ) from None
        raise
    store.finish(name, period, owner=owner, ok=True)
    return True


def make_client(settings: Settings) -> Any:
    """The Web API client with the app's retry handlers (429, 5xx, dropped connections)."""
    from bot.slack.web import make_client as web_client

    assert settings.slack_bot_token is not None
    return web_client(settings.slack_bot_token, settings.slack_api_url)


# --- the background job of `mailcheck serve` ---------------------------------------------------------


def scheduler_for(
    settings: Settings,
    store: Store,
    client: Any,
    *,
    probe: Callable[[str], ProbeReport] | None = None,
) -> Scheduler:
    """Weekly post (when MAILCHECK_REPORT_CHANNEL is set), hourly watch probes, daily purge."""
    from bot.scheduler import Cron, Scheduler, purge_job, watch_probe_job, weekly_report_job
    from bot.summary import zone

    tz = zone(settings.tz)
    jobs = [
        watch_probe_job(store, probe=probe or _probe(settings)),
        purge_job(store, retention_days=settings.retention_days),
    ]
    if settings.report_channel:
        jobs.append(weekly_report_job(store, channel=settings.report_channel, cron=Cron.parse(settings.report_cron),
                                      tz=tz, knowledge_dir=settings.knowledge_dir,
                                      publish=publisher(client, settings.report_channel)))  # fmt: skip
    return Scheduler(store, jobs, tz=tz)


def _probe(settings: Settings) -> Callable[[str], ProbeReport]:
    from bot.probe import run_probe

    def probe(host: str) -> ProbeReport:
        return run_probe(host, timeout=8.0, dns_server=settings.dns_server, cafile=settings.cafile,
                         allow=settings.probe_allow)  # fmt: skip

    return probe


def run_scheduler(ctx: JobContext) -> None:
    """A background job for ``mailcheck serve`` (see ``bot.slack.serve.background_jobs``)."""
    from bot.store import Store

    if not isinstance(ctx.store, Store):
        log.warning("no database: the weekly report and the watch probes are off")
        return
    try:
        scheduler = scheduler_for(ctx.settings, ctx.store, ctx.client)
    except (
        ValueError,
        ReportError,
    ) as exc:  # a bad MAILCHECK_REPORT_CRON or MAILCHECK_TZ: say it once, keep answering people
        log.error("weekly report not scheduled: %s", exc)
        return
    scheduler.run_forever(ctx.stop)


# --- /mailcheck watch add|list|remove HOST (workspace admins only) ------------------------------------

_WATCH_TEXT = {
    "usage": Text("使い方: /mailcheck watch add HOST ・ /mailcheck watch list ・ /mailcheck watch remove HOST",
                  "Usage: /mailcheck watch add HOST, /mailcheck watch list, /mailcheck watch remove HOST"),
    "checking": Text("確認しています…", "Checking…"),
    "admins": Text("監視リストを変えられるのはワークスペースの管理者だけです。",
                   "Only workspace admins can change the watch list."),
    "no_store": Text("履歴のデータベースがないため、監視リストは使えません。", "The watch list needs the history database."),
    "added": Text("{host} を監視リストに追加しました。1時間ごとに確認します。", "Added {host}; it is checked every hour."),
    "already": Text("{host} はもう監視リストにあります。", "{host} is already on the watch list."),
    "removed": Text("{host} を監視リストから外しました。", "Removed {host} from the watch list."),
    "missing": Text("{host} は監視リストにありません。", "{host} is not on the watch list."),
    "empty": Text("監視リストは空です。", "The watch list is empty."),
    "list": Text("監視中のサーバー:", "Watched servers:"),
}  # fmt: skip


def watch_ack(lang: Lang) -> str:
    return _WATCH_TEXT["checking"].get(lang)


def is_admin(client: Any, user: str | None) -> bool:
    """users.info says whether the user is an admin or owner of the workspace (needs users:read)."""
    from bot.slack import web

    if not user:
        return False
    result = web.call("users.info", client.users_info, user=user)
    found = result.get("user") if result is not None else None
    return bool(found and (found.get("is_admin") or found.get("is_owner") or found.get("is_primary_owner")))


def watch_answer(client: Any, store: Any, text: str, lang: Lang, user: str | None) -> str:
    """What `/mailcheck watch …` answers; the caller sends it (ephemeral) through response_url."""
    from bot.store import Store, StoreError

    action, _, host = text.strip().partition(" ")
    host = host.strip()
    if action not in ("add", "list", "remove") or (action != "list" and not host):
        return _WATCH_TEXT["usage"].get(lang)
    if not isinstance(store, Store):
        return _WATCH_TEXT["no_store"].get(lang)
    if not is_admin(client, user):
        return _WATCH_TEXT["admins"].get(lang)
    try:
        if action == "list":
            hosts = [e.host for e in store.watch_list()]
            return _WATCH_TEXT["list"].get(lang) + "\n" + "\n".join(f"• {h}" for h in hosts) if hosts \
                else _WATCH_TEXT["empty"].get(lang)  # fmt: skip
        if action == "add":
            key = "added" if store.watch_add(host, user=user) else "already"
        else:
            key = "removed" if store.watch_remove(host) else "missing"
    except (ValueError, StoreError) as exc:
        return escape(str(exc))
    return _WATCH_TEXT[key].get(lang).format(host=escape(_shown(host)))


def _shown(host: str) -> str:
    from bot.store import normalise_host

    try:
        return normalise_host(host)
    except ValueError:
        return host


def watch_command(
    client: Any, store: Any, text: str, lang: Lang, user: str | None, response_url: str
) -> None:
    """Run on a worker thread: the admin check calls the Web API, which must not delay the 3 s ack."""
    from bot.slack import web

    web.respond(response_url, text=watch_answer(client, store, text, lang, user), response_type="ephemeral")
