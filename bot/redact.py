"""Take secrets out of a message before anything else (classifier, store, log) sees it.

People paste "パスワードは abc123 です" or a whole settings screen. The classifier needs the error, never
the secret; the store keeps only the redacted text. Error texts such as "パスワードが正しくありません"
must survive, so a value is only taken as a secret when it stands after a label and looks like one.
"""

from __future__ import annotations

import re

from bot.model import Redaction

MASK = "[伏せ字/redacted]"

_LABEL = r"(?<![a-z])(?:password|passwd|passcode|pass|pwd|pw|パスワード|ぱすわーど|パス|暗証番号|アプリパスワード)(?![a-z])"
# "password: x", "パスワード：x", "pw=x" — after an explicit separator any non-space token is a secret…
_AFTER_SEPARATOR = re.compile(rf"({_LABEL}\s*(?:は)?\s*[:：=＝]\s*)(\S{{2,128}})", re.IGNORECASE)
# …after a softer one ("is", "は", "を", "に") only a token that looks like a password (mixed classes).
_AFTER_WORD = re.compile(
    rf"({_LABEL}\s*(?:is|was|=|は|を|に|:)?\s*[\"'「『]?)([!-~]{{4,128}})(?=[\"'」』]?(?:\s|$|です|でした|で|に|を|と|、|。))",
    re.IGNORECASE,
)
_TOKENS = (
    re.compile(r"xox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack tokens
    re.compile(r"xapp-[A-Za-z0-9-]{10,}"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access keys
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
)
# URL credentials: imap://user:secret@host
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(@)", re.IGNORECASE)
# Google app passwords are shown as four groups of four letters.
_APP_PASSWORD = re.compile(r"\b[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}\b")
# Words that follow "password" in error texts and descriptions: not secrets.
_NOT_SECRETS = {
    "incorrect", "wrong", "invalid", "correct", "required", "expired", "changed", "reset", "field",
    "again", "for", "the", "and", "that", "this", "not", "ok", "okay", "right", "rejected", "failed",
    "forgotten", "unknown", "missing", "prompt", "dialog", "screen", "change", "keeps", "please",
    "error", "entered", "typed", "saved", "same", "new", "old", "none", "empty", "blank",
}  # fmt: skip


def _looks_like_password(token: str) -> bool:
    """A secret mixes character classes; an English word after "password is" does not."""
    core = token.strip("\"'.,;!?)(")
    if core.lower() in _NOT_SECRETS or len(core) < 4:
        return False
    classes = sum(
        (
            any(c.islower() for c in core),
            any(c.isupper() for c in core),
            any(c.isdigit() for c in core),
            any(not c.isalnum() for c in core),
        )
    )
    return classes >= 2 and not core.isalpha()


def redact(text: str) -> Redaction:
    """Mask passwords and tokens; ``password_pasted`` is true when a password-like value was removed."""
    found = 0
    pasted = False

    def mask_separated(m: re.Match[str]) -> str:
        nonlocal found, pasted
        if m.group(2).lower().strip("\"'") in _NOT_SECRETS:
            return m.group(0)
        found += 1
        pasted = True
        return m.group(1) + MASK

    def mask_word(m: re.Match[str]) -> str:
        nonlocal found, pasted
        if not _looks_like_password(m.group(2)):
            return m.group(0)
        found += 1
        pasted = True
        return m.group(1) + MASK

    def mask_token(m: re.Match[str]) -> str:
        nonlocal found
        found += 1
        return MASK

    text = _AFTER_SEPARATOR.sub(mask_separated, text)
    text = _AFTER_WORD.sub(mask_word, text)
    url_count = len(_URL_CREDENTIALS.findall(text))
    if url_count:
        text = _URL_CREDENTIALS.sub(lambda m: m.group(1) + MASK + m.group(3), text)
        found += url_count
        pasted = True
    if re.search(_LABEL, text, re.IGNORECASE) and _APP_PASSWORD.search(text):
        text = _APP_PASSWORD.sub(mask_token, text)
        pasted = True
    for pattern in _TOKENS:
        text = pattern.sub(mask_token, text)
    return Redaction(text=text, password_pasted=pasted, secrets_found=found)


def domain_only(address: str) -> str:
    """Keep only the domain of an e-mail address (what the store may keep)."""
    return address.rsplit("@", 1)[-1] if "@" in address else address
