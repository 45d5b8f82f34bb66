"""Slack's message markup in and out: what a person typed, and text that Slack shows as written.

Slack rewrites what people type before it reaches us: ``imap.example.com`` arrives as
``<http://imap.example.com|imap.example.com>``, ``a@b.jp`` as ``<mailto:a@b.jp|a@b.jp>``, ``<`` as
``&lt;``. The core must see the text the person saw, or it cannot find the host or the address.
"""

from __future__ import annotations

import re

_MENTION = re.compile(r"<[@#!][^>]*>")
_LINK = re.compile(r"<([^<>|]+)\|([^<>]*)>")
_BARE_LINK = re.compile(r"<((?:https?|mailto|tel):[^<>|]*)>")


def plain(text: str) -> str:
    """The text as the person saw it: mentions dropped, links back to their label, entities decoded."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _BARE_LINK.sub(lambda m: _strip_scheme(m.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _strip_scheme(url: str) -> str:
    for scheme in ("mailto:", "tel:"):
        if url.startswith(scheme):
            return url[len(scheme) :]
    return url


def escape(text: str) -> str:
    """Text shown literally in mrkdwn: Slack reads ``<…>`` as links and ``&`` as an entity."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Fit a Block Kit length limit without cutting mid-way silently."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
