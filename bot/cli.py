"""The ``mailcheck`` command: a thin shell over the library (open, call, format).

Exit codes: 0 done (also for a message we could not recognise: the reply says so), 1 a check found
problems, 2 wrong usage or unusable input. No traceback reaches a user: known failures become one
``Error: …`` line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot import __version__

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.store import Store
    from bot.triage import Outcome, Triage

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Wrong usage or unusable input: printed as one line, exit 2."""


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    print(f"Error: {message}", file=sys.stderr)
    raise SystemExit(code)


def settings() -> Settings:
    from bot.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


def open_triage(knowledge_dir: Path | None = None) -> Triage:
    """Load and validate the knowledge once; an invalid folder stops here with file:line reasons."""
    from bot.knowledge import KnowledgeError, load
    from bot.triage import Triage

    folder = knowledge_dir or settings().knowledge_dir
    try:
        return Triage(load(folder))
    except KnowledgeError as exc:
        shown = "\n".join(str(p) for p in exc.problems[:20])
        more = f"\n… and {len(exc.problems) - 20} more" if len(exc.problems) > 20 else ""
        fail(f"the knowledge folder {folder} has mistakes; fix them and run "
             f"`mailcheck knowledge check`:\n{shown}{more}")  # fmt: skip


def read_text_arg(text: str | None) -> str:
    """TEXT, or standard input when TEXT is absent or '-'. Undecodable bytes become U+FFFD, never a crash."""
    if text is not None and text != "-":
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("give the error text as an argument, or pipe it in: mailcheck diagnose 'エラー文'")
    return sys.stdin.buffer.read(2_000_001).decode("utf-8", "replace")


def print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


# --- diagnose ----------------------------------------------------------------------------------------


def _probe_fn(args: argparse.Namespace) -> Callable[[str], Any] | None:
    if not getattr(args, "probe", False):
        return None
    from bot.probe import run_probe

    conf = settings()

    def probe(host: str) -> Any:
        return run_probe(
            host,
            timeout=args.timeout,
            dns_server=conf.dns_server,
            cafile=conf.cafile,
            allow=conf.probe_allow,
        )

    return probe


def cmd_diagnose(args: argparse.Namespace) -> int:
    if args.jsonl:
        return _diagnose_lines(args)
    text = read_image_arg(args.image, args.text) if args.image else read_text_arg(args.text)
    if not text.strip():
        raise UsageError(
            "the message is empty: paste the error text you see (パスワードは書かないでください)"
        )
    triage = open_triage(args.knowledge)
    outcome = triage.handle(text, lang=args.lang, probe=_probe_fn(args))
    _recorder(args)(outcome)
    if args.json:
        result = outcome.as_json()
        if args.image:
            result["ocr_text"] = outcome.text  # what was read, already redacted
        print_json(result)
    else:
        from bot.render import to_text

        if args.image:  # show what was read first, so the person can correct a misreading
            read = " / ".join(line for line in outcome.text.splitlines() if line.strip())
            print(f"読み取った文字 / Text read: {read}\n(違っていたら文字で送り直してください / "
                  "If this is wrong, type the error instead.)\n")  # fmt: skip
        print(to_text(outcome))
    return EXIT_OK


def read_image_arg(path: Path, text: str | None) -> str:
    """The text of a screenshot file (OCR); a wrong file or a missing Tesseract is one line, exit 2."""
    from bot import ocr

    if text is not None:
        raise UsageError("give either the error text or --image FILE, not both")
    try:
        with path.open("rb") as handle:
            data = handle.read(ocr.MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        result = ocr.read_image(data)
    except ocr.OcrError as exc:
        raise UsageError(str(exc)) from None
    if not result.text.strip():
        raise UsageError("画像から文字を読み取れませんでした。エラーの文字を入力してください / "
                         "no text found in the picture; please type the error text")  # fmt: skip
    return result.text


def _diagnose_lines(args: argparse.Namespace) -> int:
    """One JSON object per input line; the knowledge is loaded once for the whole stream."""
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("--jsonl reads one message per line from standard input")
    triage = open_triage(args.knowledge)
    record = _recorder(args)
    out = sys.stdout
    for number, raw in enumerate(sys.stdin.buffer, 1):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        line = line.replace("\\n", "\n")
        outcome = triage.handle(line, lang=args.lang)
        record(outcome)
        result = outcome.as_json()
        result["line"] = number
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return EXIT_OK


def add_diagnose(sub: Any) -> None:
    p = sub.add_parser("diagnose", help="diagnose an error message (TEXT or standard input)",
                       description="Recognise a mail error and print what to do. パスワードは書かないでください。")  # fmt: skip
    p.add_argument("text", nargs="?", help="the error text; '-' or nothing reads standard input")
    p.add_argument("--image", type=Path, metavar="FILE",
                   help="read the error from a screenshot (PNG, JPEG, GIF, WebP; needs Tesseract)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--jsonl", action="store_true", help="read one message per line, print one JSON object per line"
    )
    p.add_argument("--lang", choices=("ja", "en"), help="answer in this language (default: the message's)")
    p.add_argument("--probe", action="store_true", help="also probe the server named in the message")
    p.add_argument("--timeout", type=float, default=8.0, help="probe time limit in seconds (default 8)")
    p.add_argument(
        "--knowledge", type=Path, help="knowledge folder (default: $MAILCHECK_KNOWLEDGE or ./knowledge)"
    )
    p.add_argument("--db", type=Path, help="record the diagnosis in this SQLite file (default: $MAILCHECK_DB "
                   "when set; otherwise nothing is recorded)")  # fmt: skip
    p.set_defaults(func=cmd_diagnose)


def _recorder(args: argparse.Namespace) -> Callable[[Outcome], None]:
    """Record each diagnosis when --db or MAILCHECK_DB names a file; a plain diagnose records nothing."""
    from bot.config import read_dotenv

    conf = settings()
    explicit = os.environ.get("MAILCHECK_DB") or read_dotenv(Path.cwd() / ".env").get("MAILCHECK_DB")
    path = args.db or (conf.db_path if explicit else None)
    if path is None:
        return lambda outcome: None
    store = open_store(path)

    def record(outcome: Outcome) -> None:
        from bot.store import StoreError

        try:
            store.record_diagnosis(outcome, source="cli")
        except StoreError as exc:
            fail(str(exc))

    return record


# --- knowledge ---------------------------------------------------------------------------------------


def cmd_knowledge_check(args: argparse.Namespace) -> int:
    from bot.knowledge import inspect

    folder = args.dir or settings().knowledge_dir
    knowledge, problems = inspect(folder)
    problems += _advice_problems(folder, knowledge)
    for problem in sorted(problems):
        print(problem)
    if problems or knowledge is None:
        print(f"{len(problems)} problem(s) in {folder}", file=sys.stderr)
        return EXIT_PROBLEMS
    nodes = sum(len(s.nodes) for s in knowledge.symptoms.values())
    print(f"OK: {len(knowledge.symptoms)} symptoms, {nodes} nodes, {len(knowledge.clients)} clients, "
          f"{len(knowledge.providers)} providers in {folder}")  # fmt: skip
    return EXIT_OK


def _advice_problems(folder: Path, knowledge: Any) -> list[Any]:
    """The weekly report's advice file is knowledge too: same check, same file:line answers."""
    from bot.summary import advice_path, inspect_advice

    return inspect_advice(advice_path(folder), knowledge)[1]


def add_knowledge(sub: Any) -> None:
    p = sub.add_parser("knowledge", help="work with the knowledge folder")
    ksub = p.add_subparsers(dest="knowledge_command", required=True, metavar="COMMAND")
    check = ksub.add_parser("check", help="validate the folder; print file:line for every mistake",
                            description="Validate the knowledge folder. Exit 1 when it has mistakes.")  # fmt: skip
    check.add_argument(
        "dir", nargs="?", type=Path, help="folder (default: $MAILCHECK_KNOWLEDGE or ./knowledge)"
    )
    check.set_defaults(func=cmd_knowledge_check)


# --- chat --------------------------------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.console import run_chat

    return run_chat(
        open_triage(args.knowledge), sys.stdin, sys.stdout, lang=args.lang, store=_chat_store(args)
    )


def _chat_store(args: argparse.Namespace) -> Store | None:
    """History goes to --db, $MAILCHECK_DB or ./mailcheck.db; when that fails the chat still runs."""
    from bot.store import Store, StoreError

    try:
        return Store(args.db or settings().db_path)
    except StoreError as exc:
        print(f"mailcheck: 履歴は保存しません / history is not saved: {exc}", file=sys.stderr)
        return None


def add_chat(sub: Any) -> None:
    p = sub.add_parser("chat", help="talk to the bot in this terminal, as you would in Slack",
                       description="Local console chat: paste an error, answer the questions with numbers.")  # fmt: skip
    p.add_argument("--lang", choices=("ja", "en"), help="answer in this language (default: each message's)")
    p.add_argument("--knowledge", type=Path, help="knowledge folder")
    p.add_argument("--db", type=Path, help="history file (default: $MAILCHECK_DB or ./mailcheck.db)")
    p.set_defaults(func=cmd_chat)


# --- settings ----------------------------------------------------------------------------------------


def cmd_settings(args: argparse.Namespace) -> int:
    from bot.discover import DnsServerError, Options, discover
    from bot.providers import AddressError, load_providers
    from bot.settings_text import render_settings

    folder = args.knowledge or settings().knowledge_dir
    providers, problems = load_providers(Path(folder) / "providers")
    if problems:
        fail("the provider files have mistakes; run `mailcheck knowledge check`:\n"
             + "\n".join(str(p) for p in problems[:20]))  # fmt: skip
    dns_server = args.dns_server or (None if args.offline else settings().dns_server)
    try:
        answer = discover(args.address, providers, Options(dns_server, args.offline, timeout=args.timeout))
    except (AddressError, DnsServerError) as exc:
        fail(exc.text.get(args.lang))
    checks = _verify_settings(answer, args) if args.verify else None
    if args.json:
        data = answer.as_dict(args.lang)
        if checks is not None:
            data["verify"] = [c.as_dict(args.lang) for c in checks]
        print_json(data)
    else:
        print(render_settings(answer, args.lang))
        if checks is not None:
            from bot.settings_text import render_verify

            print(render_verify(checks, args.lang))
    found_problem = checks is not None and any(not c.ok for c in checks)
    return EXIT_PROBLEMS if not answer.incoming or found_problem else EXIT_OK


def _verify_settings(answer: Any, args: argparse.Namespace) -> Any:
    from collections.abc import Mapping

    from bot.discover import verify
    from bot.probe import run_probe

    conf = settings()

    def probe(host: str, ports: Mapping[str, int]) -> Any:
        # The probe needs time for TLS and the greeting, more than one DNS lookup does.
        return run_probe(host, timeout=max(args.timeout, 8.0), dns_server=args.dns_server or conf.dns_server,
                         cafile=conf.cafile, ports=ports, allow=conf.probe_allow)  # fmt: skip

    return verify(answer, probe)


def add_settings(sub: Any) -> None:
    p = sub.add_parser("settings", help="which incoming server, port, SSL and user name an address needs",
                       description="Incoming-server settings for an e-mail address: provider files, then DNS SRV, "
                       "autoconfig, the MX host, and last a guess. Exit 1 when nothing was found "
                       "(or --verify found a difference), 2 for an unusable address.")  # fmt: skip
    p.add_argument("address", help="the e-mail address, e.g. taro@example.co.jp")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--lang", choices=("ja", "en"), default="ja", help="answer in this language (default ja)")
    p.add_argument(
        "--dns-server", metavar="IP[:PORT]", help="ask this DNS server (default: $MAILCHECK_DNS_SERVER)"
    )
    p.add_argument("--offline", action="store_true", help="use the knowledge folder only: no DNS, no HTTP")
    p.add_argument("--verify", action="store_true", help="connect to the recommended servers and compare")
    p.add_argument("--timeout", type=float, default=4.0, help="per-lookup time limit in seconds (default 4)")
    p.add_argument(
        "--knowledge", type=Path, help="knowledge folder (default: $MAILCHECK_KNOWLEDGE or ./knowledge)"
    )
    p.set_defaults(func=cmd_settings)


# --- probe -------------------------------------------------------------------------------------------


def cmd_probe(args: argparse.Namespace) -> int:
    """Exit 0 when the probe ran (even if the server is sick: the report says so), 2 when it was refused."""
    import os

    from bot.probe import (
        CredentialError,
        ProbeConfigError,
        credentials_from_env,
        parse_port_option,
        run_probe,
    )
    from bot.probe.report import probe_json, probe_lines

    conf = settings()
    try:
        report = run_probe(
            args.host,
            timeout=args.timeout,
            dns_server=args.dns_server or conf.dns_server,
            cafile=args.cafile or conf.cafile,
            ports=dict(parse_port_option(p) for p in args.port),
            allow=conf.probe_allow,
            credentials=credentials_from_env(os.environ),  # mailboxes the operator configured, never chat
        )
    except (ProbeConfigError, CredentialError) as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print_json(probe_json(report))
    else:
        print("\n".join(probe_lines(report, args.lang)))
    return EXIT_USAGE if report.refused is not None else EXIT_OK


def add_probe(sub: Any) -> None:
    p = sub.add_parser("probe", help="check a mail server live: DNS, ports, TLS certificate, IMAP/POP greeting",
                       description="Check a mail server the way an admin would (dig, openssl s_client, telnet 143). "
                       "HOST is a server name, a domain or an e-mail address. Exit 0 when the check ran "
                       "(the report says whether the server is healthy), 2 for bad usage or a refused host.")  # fmt: skip
    p.add_argument("host", metavar="HOST", help="e.g. mail.example.co.jp or taro@example.co.jp")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--lang", choices=("ja", "en"), default="ja", help="findings in this language (default ja)"
    )
    p.add_argument(
        "--timeout", type=float, default=8.0, metavar="S", help="total time limit in seconds (default 8)"
    )
    p.add_argument(
        "--dns-server", metavar="IP[:PORT]", help="ask this DNS server (default: $MAILCHECK_DNS_SERVER)"
    )
    p.add_argument(
        "--cafile",
        metavar="PEM",
        help="trust these CA certificates (default: $MAILCHECK_CAFILE, else the system's)",
    )
    p.add_argument("--port", action="append", default=[], metavar="NAME=PORT",
                   help="use another mail port for a service (imaps, imap, pop3s, pop3, submissions, submission)")  # fmt: skip
    p.set_defaults(func=cmd_probe)


# --- history: weekly report, watch list, export, purge ------------------------------------------------


def open_store(path: Path | None) -> Store:
    """The history database (--db, else $MAILCHECK_DB, else ./mailcheck.db), created or upgraded in place."""
    from bot.store import Store, StoreError

    try:
        return Store(path or settings().db_path)
    except StoreError as exc:
        fail(str(exc))


def cmd_report_weekly(args: argparse.Namespace) -> int:
    from bot.summary import ReportError, build_weekly, parse_now, render_text, report_inputs, zone

    conf = settings()
    try:
        tz = zone(conf.tz)
        now = parse_now(args.now, tz) if args.now else datetime.now(tz)
        knowledge, rules = report_inputs(args.knowledge or conf.knowledge_dir)
    except ReportError as exc:
        fail(str(exc))
    with open_store(args.db) as store:
        report = build_weekly(store, now=now, tz=tz, knowledge=knowledge, rules=rules)
        if args.png:
            _write_chart(report, args.png, args.lang)
        if args.post:
            _post_report(conf, store, report, args.post, now)
    if args.json:
        print_json(report.as_json())
    else:
        print(render_text(report, args.lang))
    return EXIT_OK


def _write_chart(report: Any, path: Path, lang: Any) -> None:
    from bot.chart import render_png

    if not path.parent.is_dir():
        fail(f"--png {path}: the folder {path.parent} does not exist")
    render_png(report, path, lang=lang)
    print(f"mailcheck: chart written to {path}", file=sys.stderr)


def _post_report(conf: Settings, store: Store, report: Any, channel: str, now: datetime) -> None:
    """Post once per ISO week and channel: a second run (or `mailcheck serve`) finds the week taken."""
    if not conf.slack_bot_token:
        fail("--post needs SLACK_BOT_TOKEN (the Bot User OAuth Token, xoxb-…)")
    from bot.slack.report_post import PostError, make_client, post_once
    from bot.summary import week_key, zone

    period = week_key(now, zone(conf.tz))
    try:
        posted = post_once(
            store, make_client(conf), channel, report, period=period, owner=f"cli:{os.getpid()}"
        )
    except PostError as exc:
        fail(str(exc), EXIT_PROBLEMS)
    state = "posted to" if posted else "already posted (nothing to do) for"
    print(f"mailcheck: weekly report {period} {state} {channel}", file=sys.stderr)


def add_report(sub: Any) -> None:
    p = sub.add_parser("report", help="reports from the history database")
    rsub = p.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    weekly = rsub.add_parser("weekly", help="the weekly mail-health summary (the 7 days before --now vs the 7 before)",
                             description="週次レポート: 直近7日間と、その前の7日間を比べます。 The 7 days before "
                             "--now against the 7 days before that.")  # fmt: skip
    weekly.add_argument("--db", type=Path, help="history file (default: $MAILCHECK_DB or ./mailcheck.db)")
    weekly.add_argument("--json", action="store_true", help="print one JSON object")
    weekly.add_argument("--png", type=Path, metavar="FILE", help="also draw the chart to this PNG file")
    weekly.add_argument(
        "--post", metavar="CHANNEL", help="post it to this Slack channel (once per week; safe to rerun)"
    )
    weekly.add_argument(
        "--now", help="end of the report, ISO date or date-time (default: now, in $MAILCHECK_TZ)"
    )
    weekly.add_argument(
        "--lang", choices=("ja", "en"), help="one language only (default: Japanese, then English)"
    )
    weekly.add_argument("--knowledge", type=Path, help="knowledge folder (symptom titles and advice)")
    weekly.set_defaults(func=cmd_report_weekly)


def cmd_watch(args: argparse.Namespace) -> int:
    with open_store(args.db) as store:
        if args.watch_command == "list":
            entries = store.watch_list()
            if args.json:
                print_json([{"host": e.host, "added_at": e.added_at.isoformat()} for e in entries])
            for entry in entries if not args.json else []:
                print(f"{entry.host}\t{entry.added_at:%Y-%m-%d}")
            return EXIT_OK
        try:
            changed = (store.watch_add if args.watch_command == "add" else store.watch_remove)(args.host)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    verb = {"add": ("added", "already on the watch list"), "remove": ("removed", "not on the watch list")}
    print(f"{args.host}: {verb[args.watch_command][0 if changed else 1]}")
    return EXIT_OK if changed or args.watch_command == "add" else EXIT_PROBLEMS


def add_watch(sub: Any) -> None:
    p = sub.add_parser("watch", help="the company's own mail servers, probed every hour by mailcheck serve")
    wsub = p.add_subparsers(dest="watch_command", required=True, metavar="COMMAND")
    for name, text in (("add", "add a server to the watch list"), ("remove", "take a server off the list")):
        one = wsub.add_parser(name, help=text, description=text)
        one.add_argument("host", metavar="HOST", help="e.g. mail.example.co.jp")
        one.add_argument("--db", type=Path, help="history file (default: $MAILCHECK_DB or ./mailcheck.db)")
        one.set_defaults(func=cmd_watch)
    listing = wsub.add_parser(
        "list", help="show the watched servers", description="Show the watched servers."
    )
    listing.add_argument("--db", type=Path, help="history file (default: $MAILCHECK_DB or ./mailcheck.db)")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(func=cmd_watch)


def cmd_export(args: argparse.Namespace) -> int:
    from bot.summary import ReportError, parse_now, zone

    try:
        since = parse_now(args.since, zone(settings().tz))
    except ReportError as exc:
        raise UsageError(str(exc).replace("--now", "--since")) from None
    out = sys.stdout if args.output is None else args.output.open("w", encoding="utf-8", newline="")
    try:
        with open_store(args.db) as store:
            rows = store.export(args.table, since)
            count = (
                _write_csv(out, store.columns(args.table), rows)
                if args.format == "csv"
                else _write_json(out, rows)
            )
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"mailcheck: {count} {args.table} rows since {since:%Y-%m-%d %H:%M}", file=sys.stderr)
    return EXIT_OK


def _write_csv(out: Any, columns: list[str], rows: Any) -> int:
    import csv

    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    count = 0
    for count, row in enumerate(rows, 1):  # noqa: B007 - the count after the loop is the answer
        writer.writerow(row)
    return count


def _write_json(out: Any, rows: Any) -> int:
    """A JSON list written row by row, so a large export never sits in memory whole."""
    count = 0
    out.write("[")
    for count, row in enumerate(rows, 1):
        out.write(("," if count > 1 else "") + "\n" + json.dumps(row, ensure_ascii=False))
    out.write("\n]\n")
    return count


def add_export(sub: Any) -> None:
    p = sub.add_parser("export", help="write the history as CSV or JSON for your own analysis",
                       description="履歴を CSV / JSON で書き出します（利用者はハッシュ、アドレスはドメインのみ）。 "
                       "Write the history (users hashed, addresses as domains only) as CSV or JSON.")  # fmt: skip
    p.add_argument(
        "--since", required=True, metavar="DATE", help="from this ISO date or date-time ($MAILCHECK_TZ)"
    )
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="default csv")
    p.add_argument("--table", choices=("cases", "probes", "weekly"), default="cases",
                   help="cases (default), probes, or weekly counts kept after the purge")  # fmt: skip
    p.add_argument("--output", type=Path, metavar="FILE", help="write here instead of standard output")
    p.add_argument("--db", type=Path, help="history file (default: $MAILCHECK_DB or ./mailcheck.db)")
    p.set_defaults(func=cmd_export)


def cmd_purge(args: argparse.Namespace) -> int:
    days = args.days or settings().retention_days
    with open_store(args.db) as store:
        result = store.purge(days)
    print(f"removed {result.cases} cases and {result.probes} probes from before {result.cutoff:%Y-%m-%d} "
          f"({result.weeks} weeks; their weekly counts are kept)")  # fmt: skip
    return EXIT_OK


def add_purge(sub: Any) -> None:
    p = sub.add_parser("purge", help="delete cases and probes older than the retention, keeping weekly counts",
                       description="Delete history older than --days (default $MAILCHECK_RETENTION_DAYS, 400); "
                       "weekly counts stay. mailcheck serve does this every night.")  # fmt: skip
    p.add_argument("--days", type=int, help="keep this many days (at least 15: the report needs two weeks)")
    p.add_argument("--db", type=Path, help="history file (default: $MAILCHECK_DB or ./mailcheck.db)")
    p.set_defaults(func=cmd_purge)


# --- serve -------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    conf = settings()
    if not conf.slack_bot_token:
        print("mailcheck: SLACK_BOT_TOKEN が未設定のため、このターミナルでチャットを開きます / "
              "SLACK_BOT_TOKEN is not set: opening the local console chat instead.", file=sys.stderr)  # fmt: skip
        return int(cmd_chat(args))
    if args.port is not None and not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is out of range (0–65535; 0 picks a free port)")
    from dataclasses import replace

    from bot.slack.serve import ServeError, serve

    if args.db is not None:
        conf = replace(conf, db_path=args.db)
    try:
        return serve(conf, open_triage(args.knowledge), host=args.host,
                     port=conf.port if args.port is None else args.port)  # fmt: skip
    except ServeError as exc:
        fail(str(exc))


def add_serve(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT)",
                       description="Run the Slack app: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on "
                       "$PORT (POST /slack/events, GET /healthz) under gunicorn. Without SLACK_BOT_TOKEN it says "
                       "so and opens the local console chat.")  # fmt: skip
    p.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on (default 0.0.0.0)")
    p.add_argument("--port", type=int, help="HTTP mode: port (default $PORT or 3000; 0 picks a free one)")
    p.add_argument("--lang", choices=("ja", "en"), help="console chat only: answer in this language")
    p.add_argument(
        "--knowledge", type=Path, help="knowledge folder (default: $MAILCHECK_KNOWLEDGE or ./knowledge)"
    )
    p.add_argument("--db", type=Path, help="history file (default: $MAILCHECK_DB or ./mailcheck.db)")
    p.set_defaults(func=cmd_serve)


# --- wiring ------------------------------------------------------------------------------------------

COMMANDS: tuple[Callable[[Any], None], ...] = (add_diagnose, add_knowledge, add_chat, add_settings, add_probe,
                                                add_report, add_watch, add_export, add_purge, add_serve)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailcheck",
        description="mailcheck: メールのエラーを読んで、やること・やってはいけないこと・連絡先を答えます。"
        " Reads a mail error and says what to do, what not to do and whom to call.",
    )
    parser.add_argument("--version", action="version", version=f"mailcheck {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if sys.stdin is not None and sys.stdin.isatty():
            args = parser.parse_args(["chat"])
        else:
            parser.print_help()
            return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
