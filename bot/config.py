"""Read the environment (and ``.env``) once into a frozen Settings object. Only edges call this."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    port: int = 3000
    db_path: Path = Path("mailcheck.db")
    knowledge_dir: Path = PACKAGE_ROOT / "knowledge"
    slack_api_url: str = DEFAULT_SLACK_API_URL
    dns_server: str | None = None
    cafile: str | None = None
    probe_allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    report_channel: str | None = None
    report_cron: str = "0 9 * * 1"
    tz: str = "Asia/Tokyo"
    retention_days: int = 400


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=value`` lines; ``#`` comments; optional quotes. No interpolation: secrets stay literal."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range ({low}–{high})")
    return value


def parse_allow(raw: str | None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``MAILCHECK_PROBE_ALLOW``: comma-separated CIDRs the operator lets the probe reach."""
    if not raw:
        return ()
    networks = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(f"MAILCHECK_PROBE_ALLOW: {part!r} is not a CIDR like 192.0.2.0/24") from None
    return tuple(networks)


def _default_knowledge(cwd: Path) -> Path:
    """The repo's folder when run from a checkout, else the one beside the installed package."""
    local = cwd / "knowledge"
    return local if (local / "symptoms").is_dir() else PACKAGE_ROOT / "knowledge"


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Settings from the environment, with ``.env`` in ``cwd`` filling what the environment lacks."""
    cwd = cwd or Path.cwd()
    env = {**read_dotenv(cwd / ".env"), **(environ if environ is not None else os.environ)}
    api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"SLACK_API_URL={api_url!r} must start with http:// or https://")
    token = env.get("SLACK_BOT_TOKEN") or None
    if token and not token.startswith("xox"):
        raise ConfigError("SLACK_BOT_TOKEN does not look like a bot token (it should start with xoxb-)")
    app_token = env.get("SLACK_APP_TOKEN") or None
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN does not look like an app-level token (it should start with xapp-)"
        )
    return Settings(
        slack_bot_token=token,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=app_token,
        port=_int(env, "PORT", 3000, 1, 65535),
        db_path=Path(env.get("MAILCHECK_DB") or "mailcheck.db"),
        knowledge_dir=Path(env["MAILCHECK_KNOWLEDGE"])
        if env.get("MAILCHECK_KNOWLEDGE")
        else _default_knowledge(cwd),
        slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        dns_server=env.get("MAILCHECK_DNS_SERVER") or None,
        cafile=env.get("MAILCHECK_CAFILE") or None,
        probe_allow=parse_allow(env.get("MAILCHECK_PROBE_ALLOW")),
        report_channel=env.get("MAILCHECK_REPORT_CHANNEL") or None,
        report_cron=env.get("MAILCHECK_REPORT_CRON") or "0 9 * * 1",
        tz=env.get("MAILCHECK_TZ") or "Asia/Tokyo",
        retention_days=_int(env, "MAILCHECK_RETENTION_DAYS", 400, 1, 36500),
    )
