"""Talking to Slack's Web API: one client with retries, safe calls, response URLs and file downloads.

slack_sdk's client retries only connection errors by default; a 429 would surface as an error and the
person would get no reply. The handlers below wait as long as Slack's ``Retry-After`` says, retry 5xx
answers a little later, and log every retry. A call that still fails is logged and reported to the
caller as ``None``; it never raises into a listener thread.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

log = logging.getLogger("mailcheck.slack")

API_TIMEOUT_S = 10
DOWNLOAD_TIMEOUT_S = 20


class LoggedRateLimitRetry(RateLimitErrorRetryHandler):
    """Waits out a 429 as Slack asks, and says so in the log (the request body is never logged)."""

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        retry_after = next(
            (v for k, v in (response.headers if response else {}).items() if k.lower() == "retry-after"),
            ["?"],
        )
        log.warning("rate limited on %s; retrying after %ss (attempt %d)", _method(request.url), retry_after[0],
                    state.current_attempt + 1)  # fmt: skip
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


class LoggedServerErrorRetry(ServerErrorRetryHandler):
    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        status = response.status_code if response else "?"
        log.warning("Slack answered %s on %s; retrying", status, _method(request.url))
        super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)


def _method(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1] or url


def retry_handlers() -> list[RetryHandler]:
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        LoggedRateLimitRetry(max_retry_count=3),
        LoggedServerErrorRetry(max_retry_count=2),
    ]


def make_client(token: str, api_url: str) -> WebClient:
    """The one Web API client of the process; ``api_url`` is ``SLACK_API_URL`` (tests point it at loopback)."""
    base = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(token=token, base_url=base, timeout=API_TIMEOUT_S, retry_handlers=retry_handlers())


def call(what: str, fn: Callable[..., Any], **kwargs: Any) -> Any | None:
    """Run one Web API call; on failure log the method and Slack's error code, and return None."""
    try:
        return fn(**kwargs)
    except SlackApiError as exc:
        log.warning("%s failed: %s", what, exc.response.get("error", exc.response.status_code))
    except (SlackClientError, OSError, ValueError) as exc:
        log.warning("%s failed: %s", what, type(exc).__name__)
    return None


def api_error(what: str, fn: Callable[..., Any], **kwargs: Any) -> tuple[Any | None, str | None]:
    """Like ``call`` but also returns Slack's error code, for callers that choose a fallback by it."""
    try:
        return fn(**kwargs), None
    except SlackApiError as exc:
        code = str(exc.response.get("error", exc.response.status_code))
        log.warning("%s failed: %s", what, code)
        return None, code
    except (SlackClientError, OSError, ValueError) as exc:
        log.warning("%s failed: %s", what, type(exc).__name__)
        return None, type(exc).__name__


def respond(url: str, *, text: str, blocks: Sequence[dict[str, Any]] | None = None, **extra: Any) -> bool:
    """POST to a ``response_url`` (slash commands, shortcuts, buttons); True when Slack took it."""
    if urlsplit(url).scheme not in ("https", "http"):
        log.warning("response_url ignored: not an http(s) URL")
        return False
    client = WebhookClient(url, timeout=API_TIMEOUT_S, retry_handlers=retry_handlers())
    try:
        result = client.send_dict({"text": text, "blocks": list(blocks or ()), **extra})
    except (SlackClientError, OSError, ValueError) as exc:
        log.warning("response_url failed: %s", type(exc).__name__)
        return False
    if result.status_code != 200:
        log.warning("response_url answered %s", result.status_code)
        return False
    return True


class _RefuseRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would forward the Authorization header to wherever a redirect points; never follow one."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirect)


class DownloadError(Exception):
    """A file could not be fetched; ``reason`` is one of: too_large, not_allowed, failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def allowed_file_host(url: str, api_url: str) -> bool:
    """Only Slack's own file hosts (or the configured API host, for tests and proxies) get the bot token."""
    host = (urlsplit(url).hostname or "").lower()
    api_host = (urlsplit(api_url).hostname or "").lower()
    return (
        host == api_host
        or host == "slack.com"
        or host.endswith(".slack.com")
        or host.endswith(".slack-edge.com")
    )


def download(url: str, *, token: str, api_url: str, max_bytes: int) -> bytes:
    """A private file (``url_private``) with the bot token; never more than ``max_bytes``."""
    if not allowed_file_host(url, api_url):
        raise DownloadError("not_allowed")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with _NO_REDIRECTS.open(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
            data: bytes = response.read(max_bytes + 1)
    except OSError as exc:
        log.warning("file download failed: %s", type(exc).__name__)
        raise DownloadError("failed") from None
    if len(data) > max_bytes:
        raise DownloadError("too_large")
    return data
