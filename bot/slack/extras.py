"""The live features the Slack app offers when their modules are installed: probe, settings, OCR.

Each is imported inside the call, so the app starts (and says "not available") on a checkout where a
feature has not landed or its system package (Tesseract) is missing.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.model import Lang, ProbeReport, Text

log = logging.getLogger("mailcheck.slack")

NOT_AVAILABLE = {
    "probe": Text(
        "サーバーの確認機能はこの環境ではまだ使えません。管理者にお問い合わせください。",
        "The server check is not available on this installation yet; please ask your admin.",
    ),
    "settings": Text(
        "設定の案内機能はこの環境ではまだ使えません。管理者にお問い合わせください。",
        "The settings look-up is not available on this installation yet; please ask your admin.",
    ),
    "ocr": Text(
        "画像の文字を読む機能（Tesseract）がこのサーバーに入っていません。エラーの文字をそのまま貼り付けてください。",
        "Reading text from pictures (Tesseract) is not installed on this server; please paste the error as text.",
    ),
}


@dataclass(frozen=True)
class ProbeOptions:
    """How the probe may reach servers: passed in from the settings, never read from the environment here."""

    timeout: float = 8.0
    dns_server: str | None = None
    cafile: str | None = None
    allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()


class Prober:
    """``run_probe`` bound to the operator's options, with one rate limiter for the whole process."""

    def __init__(self, options: ProbeOptions) -> None:
        from bot.probe import run_probe
        from bot.probe.policy import RateLimiter

        self.options, self._run, self._limiter = options, run_probe, RateLimiter()

    def __call__(self, host: str, user: str | None = None) -> ProbeReport:
        o = self.options
        report: ProbeReport = self._run(host, timeout=o.timeout, dns_server=o.dns_server, cafile=o.cafile,
                                        allow=o.allow, rate_limiter=self._limiter, user=user)  # fmt: skip
        return report


def make_prober(options: ProbeOptions) -> Prober | None:
    """The probe, or None while it is not installed."""
    try:
        return Prober(options)
    except ImportError:
        return None


def probe_lines(report: ProbeReport, lang: Lang) -> list[str]:
    try:
        from bot.probe.report import probe_lines as lines_of
    except ImportError:  # the report module lands with the probe; show the raw checks meanwhile
        return [f"{c.name}: {c.status} {c.detail}" for c in report.checks]
    return list(lines_of(report, lang))


@dataclass(frozen=True)
class SettingsResult:
    text: str
    found: bool


def settings_text(
    address: str, providers: Sequence[Any], lang: Lang, dns_server: str | None
) -> SettingsResult | None:
    """The settings for an address as plain text; None while discovery is not installed."""
    try:
        from bot.discover import DnsServerError, Options, discover
        from bot.providers import AddressError
        from bot.settings_text import render_settings
    except ImportError:
        return None
    try:
        answer = discover(address, providers, Options(dns_server=dns_server))
    except (AddressError, DnsServerError) as exc:
        return SettingsResult(exc.text.get(lang), False)
    return SettingsResult(render_settings(answer, lang), bool(answer.incoming))


@dataclass(frozen=True)
class ImageText:
    text: str
    lang: Lang | None


class OcrUnavailable(Exception):
    """Tesseract (or the OCR module) is not installed."""


class ImageUnreadable(Exception):
    def __init__(self, message: Text) -> None:
        super().__init__(message.en)
        self.message = message


def read_image(data: bytes) -> ImageText:
    """OCR one picture. OcrUnavailable / ImageUnreadable (with a bilingual reason) otherwise."""
    try:
        from bot import ocr
    except ImportError:
        raise OcrUnavailable() from None
    if not ocr.available():
        raise OcrUnavailable()
    try:
        result = ocr.read_image(data)
    except ocr.TesseractMissing:
        raise OcrUnavailable() from None
    except ocr.OcrError as exc:
        raise ImageUnreadable(exc.message) from None
    return ImageText(result.text, result.lang_hint)


def ocr_max_bytes(default: int = 5_000_000) -> int:
    try:
        from bot.ocr import MAX_BYTES
    except ImportError:
        return default
    return int(MAX_BYTES)
