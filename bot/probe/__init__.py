"""Live checks of a mail server: DNS, TCP, TLS, IMAP/POP3 greeting and an optional login.

Infra layer: does network I/O, never imports Slack or the store. A slow or broken server is a result,
never an exception. Entry point: ``run_probe``; text and JSON for a report: ``bot.probe.report``.
"""

from bot.probe.auth import Credential, CredentialError, credentials_from_env, load_credentials
from bot.probe.policy import ProbeConfigError, RateLimiter, parse_allow, parse_port_option
from bot.probe.run import run_probe

__all__ = [
    "Credential",
    "CredentialError",
    "ProbeConfigError",
    "RateLimiter",
    "credentials_from_env",
    "load_credentials",
    "parse_allow",
    "parse_port_option",
    "run_probe",
]
