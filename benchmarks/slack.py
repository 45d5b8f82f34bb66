"""Slack app figures (printed, never asserted): slash-command ack latency and mention-to-reply latency.

Runs the production path: ``mailcheck serve`` in a subprocess (gunicorn, HTTP mode) with its Web API
pointed at the recording Slack stand-in on loopback, and sends properly signed requests.

    python benchmarks/slack.py [--requests 200] [--concurrency 8]

Targets (issue 3): ack p99 under 100 ms; reply p99 under 500 ms without a probe.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.slack_api import SlackApiServer  # noqa: E402
from tests.servers.slack_app import SECRET, SignedClient, mention  # noqa: E402

MESSAGES = (
    'IMAPアカウント"会社"のパスワードが正しくありません。',
    'Cannot Get Mail\nThe user name or password for "imap.example.com" is incorrect.',
    "サーバーに接続できません 0x800CCC0E",
    "メールボックスの容量がいっぱいです",
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_serve(api: SlackApiServer, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MAILCHECK_"))}
    env.update(SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api.api_url,
               MAILCHECK_DB=str(workdir / "bench.db"), PYTHONPATH=str(ROOT))  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
                            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        if match := re.search(r"listening on (http://127\.0\.0\.1:\d+)", line):
            return proc, match.group(1)
    proc.kill()
    raise SystemExit("mailcheck serve did not start")


def run(n: int, concurrency: int, one: Callable[[int], float]) -> list[float]:
    if concurrency <= 1:
        return [one(i) for i in range(n)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(n)))


def ack_latency(client: SignedClient, api: SlackApiServer, tag: str) -> Callable[[int], float]:
    def one(i: int) -> float:
        response = client.command(MESSAGES[i % len(MESSAGES)], api.response_url(f"{tag}{i}"))
        assert response.status == 200, response.status
        api.wait_for(f"response:{tag}{i}")  # the answer really came (not timed here)
        return response.ms

    return one


def reply_latency(client: SignedClient, api: SlackApiServer, tag: str) -> Callable[[int], float]:
    def one(i: int) -> float:
        channel, ts = f"C{tag}{i}", f"1700000000.{i:06d}"
        started = time.monotonic()
        assert client.event(mention(MESSAGES[i % len(MESSAGES)], channel=channel, ts=ts)).status == 200
        (reply,) = api.wait_for("chat.postMessage", where=lambda c: c.params.get("channel") == channel)
        return (reply.at - started) * 1000

    return one


def report(name: str, values: list[float], target: float) -> None:
    median, p99 = percentile(values, 0.5), percentile(values, 0.99)
    verdict = "ok" if p99 < target else "OVER TARGET"
    print(f"{name:<44} n={len(values):<4} median {median:7.1f} ms   p99 {p99:7.1f} ms   "
          f"max {max(values):7.1f} ms   (target p99 < {target:.0f} ms: {verdict})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8, help="for the concurrent rounds (default 8)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SlackApiServer() as api:
        proc, url = start_serve(api, Path(tmp))
        try:
            client = SignedClient(url)
            run(20, 1, reply_latency(client, api, "warm"))  # first requests pay imports and auth.test
            print(f"mailcheck serve (gunicorn, 1 worker) at {url}; {args.requests} requests per row; "
                  f"{os.cpu_count()} CPUs")  # fmt: skip
            report(
                "slash-command ack, one at a time", run(args.requests, 1, ack_latency(client, api, "a")), 100
            )
            report(f"slash-command ack, {args.concurrency} at once",
                   run(args.requests, args.concurrency, ack_latency(client, api, "b")), 100)  # fmt: skip
            report(
                "mention to reply, one at a time", run(args.requests, 1, reply_latency(client, api, "m")), 500
            )
            report(f"mention to reply, {args.concurrency} at once",
                   run(args.requests, args.concurrency, reply_latency(client, api, "n")), 500)  # fmt: skip
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()


if __name__ == "__main__":
    main()
