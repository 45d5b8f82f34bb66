"""Normalisation and entity extraction for pasted error messages.

People paste from phones, PDFs and screenshots: full-width digits, ``サーバ``/``サーバー``, curly quotes,
stray line breaks and OCR spaces between Japanese characters. Everything is folded to one form before
matching, and knowledge phrases go through the same function, so authors write a phrase once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from bot.model import Entities, Lang

MAX_CHARS = 20_000  # an error message is short; past this we only look at the start and the end

_QUOTES = str.maketrans(
    {
        "「": '"', "」": '"', "『": '"', "』": '"', "“": '"', "”": '"', "„": '"',
        "‘": "'", "’": "'", "〝": '"', "〟": '"', "《": '"', "》": '"',
        "\u3000": " ", "\t": " ", "\r": " ", "\n": " ", "\u200b": "", "\ufeff": "",
    }
)  # fmt: skip
# Long-vowel marks and the dashes OCR and keyboards put in their place: removed, so サーバ == サーバー.
_LONG_VOWELS = re.compile(r"(?<=[\u3040-\u30ff\u4e00-\u9fff])[ー―‐−–—ｰ~〜～-](?![0-9a-z])|ー")
_SPACES = re.compile(r"\s+")
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff60"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """Keep the head and tail of an oversized paste: errors sit at the start, signatures at the end."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n…\n" + text[-half:]


def normalise(text: str) -> str:
    """Fold a message (or a knowledge phrase) to the one form matching is done on."""
    text = unicodedata.normalize("NFKC", _CONTROL.sub(" ", text))
    text = text.translate(_QUOTES).lower()
    text = _LONG_VOWELS.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    return _CJK_SPACE.sub("", text)


_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[a-zA-Z]{2,}")


# Product names and protocol words say nothing about the writer's language ("Outlook 0x800CCC0E").
_NEUTRAL_WORDS = {
    "outlook", "iphone", "ipad", "ios", "mac", "macos", "android", "gmail", "thunderbird", "windows", "mail",
    "imap", "imaps", "pop", "pop3", "pop3s", "smtp", "ssl", "tls", "starttls", "port", "wifi", "wi", "fi",
    "docomo", "au", "softbank", "ymobile", "becky", "xserver", "ocn", "biglobe", "nifty", "so", "net",
    "err", "ok", "no", "id", "pc", "com", "jp", "co", "ne", "or", "www", "http", "https",
}  # fmt: skip


def detect_lang(text: str) -> Lang:
    """Japanese unless the message has real English words: the users are Japanese offices, so a bare
    error code or product name ("Outlook 0x800CCC0E") is answered in Japanese."""
    if _KANA.search(text):
        return "ja"
    words = [w for w in _LATIN_WORD.findall(text) if w.lower() not in _NEUTRAL_WORDS]
    han = len(_HAN.findall(text))
    return "en" if len(words) >= 2 and len(words) > han else "ja"


# --- entities -------------------------------------------------------------------------------------

_ADDRESS = re.compile(r"(?<![\w.+-])([a-z0-9][a-z0-9._%+-]{0,63}@(?:[a-z0-9-]{1,63}\.)+[a-z]{2,24})(?![\w-])")
_HOST = re.compile(
    r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,24}|xn--[a-z0-9-]+))(?![\w-])"
)
_PORT = re.compile(
    r"(?:port|ポト|ポート|番号)\s*(?:番号)?\s*(?:is|は|:|=|を)?\s*(\d{2,5})|"
    r"(?<=[a-z0-9]):(\d{2,5})\b|\b(\d{2,5})\s*(?:番ポ|番ポト|番)"
)
_MAIL_PORTS = {25, 110, 143, 465, 587, 993, 995, 2525}
# Outlook / Windows Mail hex codes; OCR reads 0 as o, so accept both and fold.
_HEX_CODE = re.compile(r"\b0[xX]([0-9a-fA-FoO]{8})\b")
_RESP_CODE = re.compile(r"\[([a-z][a-z/-]{2,30})\]")
_SMTP_CODE = re.compile(r"\b([45]\d\d)[ -]([45]\.\d{1,3}\.\d{1,3})\b")
_PROTOCOLS = (
    ("pop3", re.compile(r"\bpop3?s?\b|pop3?(?=[\u3040-\u30ff\u4e00-\u9fff])|ポップ")),
    ("imap", re.compile(r"\bimaps?\b|imap(?=[\u3040-\u30ff\u4e00-\u9fff])")),
    ("smtp", re.compile(r"\bsmtp\b|smtp(?=[\u3040-\u30ff\u4e00-\u9fff])|送信サバ|outgoing mail server|送信できな|can'?t send|cannot send")),
)  # fmt: skip
_SSL_OFF = re.compile(
    r"\b(?:ssl|tls)\s*(?:を)?\s*(?:off|オフ|なし|無効|使用しない)|(?:ssl|tls)\s*(?:is|:)?\s*(?:off|disabled|unchecked)"
)
_SSL_ON = re.compile(
    r"\b(?:ssl|tls)\s*(?:を)?\s*(?:on|オン|あり|有効|使用する)|(?:ssl|tls)\s*(?:is|:)?\s*(?:on|enabled|checked)"
)
_USERNAME = re.compile(
    r"(?:user ?name|ユザ名|ユザ id|アカウント名|ログイン id)\s*(?:は|:|=|is)\s*([a-z0-9._%+@-]{2,64})"
)
_FILE_SUFFIXES = {
    "png",
    "jpg",
    "jpeg",
    "gif",
    "pdf",
    "txt",
    "exe",
    "zip",
    "html",
    "htm",
    "php",
    "xml",
    "json",
    "yml",
}


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def extract_codes(norm: str) -> tuple[str, ...]:
    """Error codes in a canonical form: ``0X800CCC0E``, ``[AUTHENTICATIONFAILED]``, ``550 5.2.2``."""
    hexes = ("0X" + m.group(1).upper().replace("O", "0") for m in _HEX_CODE.finditer(norm))
    resp = ("[" + m.group(1).upper() + "]" for m in _RESP_CODE.finditer(norm))
    smtp = (f"{m.group(1)} {m.group(2)}" for m in _SMTP_CODE.finditer(norm))
    return _unique([*hexes, *resp, *smtp])


def _ports(norm: str) -> tuple[int, ...]:
    found = []
    for m in _PORT.finditer(norm):
        value = int(next(g for g in m.groups() if g))
        if value in _MAIL_PORTS or m.group(1):
            found.append(value)
    return tuple(dict.fromkeys(p for p in found if 0 < p < 65536))


_IPV4 = re.compile(r"(?<![\w.])((?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3})(?![\w.])")


def _hosts(norm: str, addresses: tuple[str, ...]) -> tuple[str, ...]:
    """Server names, and IPv4 addresses typed in place of a name (the probe's policy judges those)."""
    domains_of_addresses = {a.split("@", 1)[1] for a in addresses}
    hosts = [m.group(1) for m in _IPV4.finditer(norm)]
    for m in _HOST.finditer(norm):
        host = m.group(1).rstrip(".")
        if host.rsplit(".", 1)[-1] in _FILE_SUFFIXES or host in domains_of_addresses:
            continue
        hosts.append(host)
    return _unique(hosts)


def _protocol(norm: str) -> str | None:
    for name, pattern in _PROTOCOLS:
        if pattern.search(norm):
            return name
    return None


def _ssl(norm: str) -> bool | None:
    if _SSL_OFF.search(norm):
        return False
    if _SSL_ON.search(norm):
        return True
    return None


def extract(norm: str, clients: Iterable[tuple[str, re.Pattern[str]]] = ()) -> Entities:
    """Entities of a normalised message; ``clients`` are (id, pattern) pairs, first match wins."""
    addresses = _unique(m.group(1) for m in _ADDRESS.finditer(norm))
    client = next((cid for cid, pattern in clients if pattern.search(norm)), None)
    return Entities(
        hosts=_hosts(norm, addresses),
        ports=_ports(norm),
        addresses=addresses,
        codes=extract_codes(norm),
        client=client,
        protocol=_protocol(norm),
        ssl=_ssl(norm),
        usernames=_unique(m.group(1) for m in _USERNAME.finditer(norm)),
    )
