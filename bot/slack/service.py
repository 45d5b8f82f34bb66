"""The Slack app's work, behind the listeners: diagnose, post, update, close, probe.

Listeners (``app.py``) only acknowledge and hand a ``Request`` to a pool; everything here runs on our
own bounded pools, talks to Slack through ``web.call`` (errors logged, never raised) and to the core
through ``Triage``. Where a reply goes is a ``Target``: a thread (Web API) or a response URL.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk import WebClient

from bot.model import Lang, ProbeReport
from bot.render import handoff, probe_lines, to_text
from bot.slack import blocks as bk
from bot.slack import extras, web
from bot.slack.mrkdwn import escape, plain
from bot.slack.runtime import Case, Cases, Workers
from bot.slack.state import BadState, CaseState
from bot.slack.texts import say
from bot.text import detect_lang
from bot.triage import Outcome, Triage, probe_target

log = logging.getLogger("mailcheck.slack")

MAX_IMAGES = 3


class StoreLike(Protocol):
    """What the app needs from ``bot.store.Store`` (kept structural so the app runs without a store)."""

    def record_diagnosis(self, outcome: Outcome, *, source: str, workspace: str | None, channel: str | None,
                         user: str | None) -> int: ...  # fmt: skip

    def record_outcome(self, case_id: int, outcome: str) -> Any: ...

    def record_step(self, case_id: int, outcome: Outcome) -> Any: ...

    def record_probe(self, report: ProbeReport, *, source: str, user: str | None) -> Any: ...

    def first_delivery(self, key: str) -> bool: ...


@dataclass(frozen=True)
class Thread:
    """Post with the Web API, in ``thread_ts``'s thread (None: top level, used for DMs only)."""

    channel: str
    thread_ts: str | None = None


@dataclass(frozen=True)
class Webhook:
    """Answer through a ``response_url``; ephemeral unless shared."""

    url: str
    share: bool = False


Target = Thread | Webhook


@dataclass(frozen=True)
class MessageRef:
    channel: str
    ts: str


@dataclass(frozen=True)
class Request:
    """One message to diagnose, as it arrived."""

    text: str
    source: str  # mention | dm | command | shortcut
    user: str | None = None
    team: str | None = None
    channel: str | None = None
    files: tuple[Mapping[str, Any], ...] = ()
    lang: Lang | None = None


@dataclass(frozen=True)
class Press:
    """A button press: who, which state, where the message is, where follow-ups go."""

    action: str
    state: CaseState
    user: str | None
    team: str | None
    place: MessageRef | Webhook
    follow_up: Target
    blocks: tuple[Mapping[str, Any], ...] | None


@dataclass
class Gathered:
    text: str
    quote_key: str = "quote"
    notes: list[str] = dataclasses.field(default_factory=list)


class Service:
    def __init__(
        self,
        triage: Triage,
        client: WebClient,
        *,
        token: str,
        api_url: str,
        workers: Workers,
        cases: Cases,
        store: StoreLike | None = None,
        probe: extras.ProbeOptions | None = None,
        max_file_bytes: int | None = None,
    ) -> None:
        self.triage, self.client, self.token, self.api_url = triage, client, token, api_url
        self.workers, self.cases, self.store = workers, cases, store
        self.probe_options = probe or extras.ProbeOptions()
        self.prober = extras.make_prober(self.probe_options)
        self.max_file_bytes = max_file_bytes or extras.ocr_max_bytes()

    # --- sending ------------------------------------------------------------------------------------

    def send(self, target: Target, blocks: Sequence[bk.Block], text: str) -> bool:
        if isinstance(target, Webhook):
            kind = "in_channel" if target.share else "ephemeral"
            return web.respond(
                target.url, text=text, blocks=blocks, response_type=kind, replace_original=False
            )
        result, _ = self.post(target, blocks, text)
        return result is not None

    def post(self, target: Thread, blocks: Sequence[bk.Block], text: str) -> tuple[Any | None, str | None]:
        kwargs: dict[str, Any] = {"channel": target.channel, "text": text, "blocks": list(blocks)}
        if target.thread_ts:
            kwargs["thread_ts"] = target.thread_ts
        return web.api_error("chat.postMessage", self.client.chat_postMessage, unfurl_links=False, **kwargs)

    def replace(self, place: MessageRef | Webhook, blocks: Sequence[bk.Block], text: str) -> bool:
        if isinstance(place, Webhook):
            return web.respond(place.url, text=text, blocks=blocks, replace_original=True)
        result = web.call("chat.update", self.client.chat_update, channel=place.channel, ts=place.ts, text=text,
                          blocks=list(blocks))  # fmt: skip
        return result is not None

    def notice(self, target: Target, *lines: str) -> None:
        self.send(target, bk.notice_blocks(*lines), "\n".join(lines))

    # --- diagnosing ---------------------------------------------------------------------------------

    def diagnose(self, request: Request, target: Target, fallback: Webhook | None = None) -> None:
        """Read the message (and its pictures), diagnose it and reply; ``fallback`` if the thread refuses."""
        gathered = self.gather(request)
        lang = request.lang or detect_lang(gathered.text or request.text or "あ")
        if not gathered.text.strip():
            self.notice(target, *gathered.notes, say("empty", lang))
            return
        outcome = self.triage.handle(gathered.text, lang=request.lang)
        case_id = self.record(outcome, request)
        case = Case(outcome.text, outcome.reply.lang, request.source, quote_key=gathered.quote_key,
                    notes=tuple(gathered.notes))  # fmt: skip
        self.cases.put(case_id, case)
        state = CaseState(case_id, outcome.diagnosis.symptom.id, outcome.reply.lang)
        blocks = self.reply_blocks(outcome, state, case)
        self.deliver(target, blocks, to_text(outcome), fallback)

    def deliver(self, target: Target, blocks: list[bk.Block], text: str, fallback: Webhook | None) -> None:
        if isinstance(target, Webhook):
            self.send(target, blocks, text)
            return
        result, error = self.post(target, blocks, text)
        if result is None and fallback is not None and error in ("not_in_channel", "channel_not_found"):
            lang = detect_lang(text)
            self.send(fallback, [*bk.notice_blocks(say("not_in_channel", lang)), *blocks], text)

    def reply_blocks(self, outcome: Outcome, state: CaseState, case: Case) -> list[bk.Block]:
        notes = list(case.notes)
        if outcome.redaction.password_pasted:
            key = "delete_command" if case.source == "command" else "delete_message"
            notes.append(bk.ui(key, outcome.reply.lang))
        question = outcome.diagnosis.question
        return bk.reply_blocks(
            outcome.reply,
            state=state,
            question_node=question.id if question is not None else None,
            confidence=outcome.diagnosis.confidence,
            can_probe=self.can_probe(outcome),
            probe_lines=probe_lines(outcome.diagnosis, outcome.reply.lang),
            notes=notes,
            quote=case.text,
            quote_key=case.quote_key,
        )

    def can_probe(self, outcome: Outcome) -> bool:
        return bool(outcome.diagnosis.symptom.probe_checks) and self.prober is not None

    def record(self, outcome: Outcome, request: Request) -> int:
        """The store's case id when there is a store; otherwise one from this process."""
        if self.store is not None:
            try:
                return int(self.store.record_diagnosis(outcome, source=request.source, workspace=request.team,
                                                       channel=request.channel, user=request.user))  # fmt: skip
            except Exception:
                log.exception("store: recording a diagnosis failed; continuing without it")
        return self.cases.new_id()

    # --- pictures -----------------------------------------------------------------------------------

    def gather(self, request: Request) -> Gathered:
        """The message's text plus the text read from its pictures, and notes on what could not be read."""
        gathered = Gathered(request.text.strip())
        if not request.files:
            return gathered
        lang = request.lang or detect_lang(request.text or "あ")
        images = [f for f in request.files if _is_image(f)]
        for other in (f for f in request.files if not _is_image(f)):
            gathered.notes.append(say("not_image", lang, name=_name(other)))
        if len(images) > MAX_IMAGES:
            gathered.notes.append(say("too_many_files", lang, n=MAX_IMAGES))
        for file in images[:MAX_IMAGES]:
            read = self.read_picture(file, lang, gathered.notes)
            if read:
                gathered.text = f"{gathered.text}\n{read}".strip()
                gathered.quote_key = "quote_ocr"
        return gathered

    def read_picture(self, file: Mapping[str, Any], lang: Lang, notes: list[str]) -> str | None:
        name = _name(file)
        size = file.get("size")
        if isinstance(size, int) and size > self.max_file_bytes:
            notes.append(say("too_large", lang, name=name, mb=self.max_file_bytes // 1_000_000))
            return None
        url = self.file_url(file)
        if url is None:
            notes.append(say("download_failed", lang, name=name))
            return None
        try:
            data = web.download(url, token=self.token, api_url=self.api_url, max_bytes=self.max_file_bytes)
            read = extras.read_image(data)
        except web.DownloadError as exc:
            key = "too_large" if exc.reason == "too_large" else "download_failed"
            notes.append(say(key, lang, name=name, mb=self.max_file_bytes // 1_000_000))
            return None
        except extras.OcrUnavailable:
            notes.append(extras.NOT_AVAILABLE["ocr"].get(lang))
            return None
        except extras.ImageUnreadable as exc:
            notes.append(f"{name}: {exc.message.get(lang)}")
            return None
        if not read.text.strip():
            notes.append(say("nothing_read", lang, name=name))
            return None
        return read.text

    def file_url(self, file: Mapping[str, Any]) -> str | None:
        """``url_private``; events from some surfaces carry only the id, so ask ``files.info`` then."""
        url = file.get("url_private_download") or file.get("url_private")
        if url:
            return str(url)
        if not file.get("id"):
            return None
        info = web.call("files.info", self.client.files_info, file=str(file["id"]))
        found = (info.get("file") or {}) if info is not None else {}
        url = found.get("url_private_download") or found.get("url_private")
        return str(url) if url else None

    # --- threads ------------------------------------------------------------------------------------

    def thread_root(self, channel: str, thread_ts: str) -> Mapping[str, Any] | None:
        """The first message of a thread (needs channels:history / groups:history / im:history)."""
        result = web.call("conversations.replies", self.client.conversations_replies, channel=channel,
                          ts=thread_ts, limit=1, inclusive=True)  # fmt: skip
        messages = (result.get("messages") or []) if result is not None else []
        return messages[0] if messages else None

    def names_no_error(self, text: str) -> bool:
        """True when a mention carries no recognisable error (so the thread's first message is meant)."""
        if not text.strip():
            return True
        match, _ = self.triage.classify(text)
        return match.best.symptom == "unknown"

    # --- buttons ------------------------------------------------------------------------------------

    def press(self, press: Press) -> None:
        case = self.cases.get(press.state.case)
        text = case.text if case is not None else _quoted(press.blocks)
        lang = press.state.lang
        if text is None:
            self.notice(press.follow_up, say("expired", lang))
            return
        if case is None:  # recovered from the message after a restart: remember it again
            case = Case(text, lang, "restored")
            self.cases.put(press.state.case, case)
        if press.action in (bk.YES, bk.NO):
            self.step(press, case)
        elif press.action == bk.SOLVED:
            self.close(press, "solved", bk.ui("closed_solved", lang))
        elif press.action == bk.STUCK:
            self.stuck(press, case)
        elif press.action == bk.PROBE:
            self.probe_case(press, case)

    def outcome_for(self, state: CaseState, case: Case) -> Outcome:
        report = case.probe
        return self.triage.handle(
            case.text,
            lang=state.lang,
            answers=state.answer_map,
            symptom_id=state.symptom,
            probe=(lambda _host: report) if report is not None else None,
        )

    def step(self, press: Press, case: Case) -> None:
        outcome = self.outcome_for(press.state, case)
        self.replace(press.place, self.reply_blocks(outcome, press.state, case), to_text(outcome))
        self.store_call("record_step", press.state.case, outcome)

    def close(self, press: Press, result: str, note: str) -> None:
        self.store_call("record_outcome", press.state.case, result)
        blocks = bk.closed_blocks(_blocks(press.blocks), note)
        self.replace(press.place, blocks, note)

    def stuck(self, press: Press, case: Case) -> None:
        outcome = self.outcome_for(press.state, case)
        diagnosis = dataclasses.replace(outcome.diagnosis, probe=case.probe)
        memo = handoff(diagnosis, self.triage.knowledge, case.text, press.state.lang)
        self.send(press.follow_up, bk.handoff_blocks(memo, press.state.lang), memo)
        self.close(press, "stuck", bk.ui("closed_stuck", press.state.lang))

    def probe_case(self, press: Press, case: Case) -> None:
        lang = press.state.lang
        probe = self.prober
        if probe is None:
            self.notice(press.follow_up, extras.NOT_AVAILABLE["probe"].get(lang))
            return
        match, _ = self.triage.classify(case.text, lang)
        host = probe_target(match)
        if host is None:
            self.notice(press.follow_up, say("no_host", lang))
            return
        report = self.run_probe(probe, host, press.user, press.follow_up, lang)
        if report is None:
            return
        self.store_call("record_probe", report, source="button", user=press.user)
        case.probe = report
        self.step(press, case)

    def run_probe(
        self, probe: extras.Prober, host: str, user: str | None, target: Target, lang: Lang
    ) -> ProbeReport | None:
        try:
            return probe(host, user)
        except ValueError as exc:  # ProbeConfigError: the operator's probe settings are unusable
            log.error("probe settings unusable: %s", exc)
            self.notice(target, extras.NOT_AVAILABLE["probe"].get(lang))
            return None

    def store_call(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Write to the store when there is one; a store failure is logged, never shown as a crash."""
        if self.store is None:
            return
        try:
            getattr(self.store, method)(*args, **kwargs)
        except Exception:
            log.exception("store: %s failed", method)

    # --- commands -----------------------------------------------------------------------------------

    def probe_command(self, host: str, lang: Lang, target: Webhook, user: str | None) -> None:
        probe = self.prober
        if probe is None:
            self.notice(target, extras.NOT_AVAILABLE["probe"].get(lang))
            return
        report = self.run_probe(probe, host, user, target, lang)
        if report is None:
            return
        self.store_call("record_probe", report, source="command", user=user)
        lines = extras.probe_lines(report, lang)
        head = say("probe_head", lang, host=host)
        if report.healthy and not lines:
            lines = [say("probe_healthy", lang)]
        body = "\n".join(lines)
        blocks = [bk.section(f"*{escape(head)}*\n```{escape(body)}```")]
        self.send(target, blocks, f"{head}\n{body}")

    def settings_command(self, address: str, lang: Lang, target: Webhook) -> None:
        providers = self.triage.knowledge.providers
        result = extras.settings_text(address, providers, lang, self.probe_options.dns_server)
        if result is None:
            self.notice(target, extras.NOT_AVAILABLE["settings"].get(lang))
            return
        self.send(target, [bk.section(f"```{escape(result.text)}```")], result.text)


def _is_image(file: Mapping[str, Any]) -> bool:
    mimetype = str(file.get("mimetype") or "")
    filetype = str(file.get("filetype") or "").lower()
    return mimetype.startswith("image/") or filetype in ("png", "jpg", "jpeg", "gif", "webp", "heic")


def _name(file: Mapping[str, Any]) -> str:
    return str(file.get("name") or file.get("title") or file.get("id") or "file")[:80]


def _blocks(blocks: Sequence[Mapping[str, Any]] | None) -> list[bk.Block] | None:
    return [dict(b) for b in blocks] if blocks is not None else None


def _quoted(blocks: Sequence[Mapping[str, Any]] | None) -> str | None:
    quoted = bk.quoted_text(_blocks(blocks))
    return plain(quoted) if quoted else None


def decode_state(value: str) -> CaseState | None:
    try:
        return CaseState.decode(value)
    except BadState:
        return None
