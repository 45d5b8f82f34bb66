"""A diagnosis that names an address or typed settings compares them with the provider's (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import load
from bot.triage import Triage


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(load(Path(__file__).resolve().parent.parent / "knowledge"))


def test_classic_ssl_port_mixup_comes_first(triage: Triage) -> None:
    """SSL on with port 110 is flagged before anything else, with what to type instead."""
    outcome = triage.handle("受信できません。pop.example.co.jp ポート 110 SSLオン にしています")
    assert (
        outcome.reply.warnings[0]
        == "SSL がオンなのにポートが 110 です。SSL を使うならポートは 995 にします。"
    )


def test_known_provider_gives_recommended_server(triage: Triage) -> None:
    """A Gmail address in an English message: the recommended IMAP server, in English."""
    outcome = triage.handle("Cannot Get Mail for info@gmail.com, the connection to the server failed")
    assert (
        "Recommended (Gmail / Google Workspace): IMAP imap.gmail.com 993 SSL, user name: info@gmail.com"
        in (outcome.reply.warnings)
    )


def test_wrong_host_is_pointed_out(triage: Triage) -> None:
    """The typed host differs from the provider's: say which one to type."""
    outcome = triage.handle("Gmail の受信サーバーを imap.google.com にしたら taro@gmail.com が接続できません")
    assert any("imap.gmail.com" in w and "imap.google.com" in w for w in outcome.reply.warnings), (
        outcome.reply.warnings
    )


def test_no_settings_no_advice(triage: Triage) -> None:
    """A message with no address and no typed values gets no settings lines."""
    assert triage.handle("IMAPアカウントのパスワードが正しくありません").reply.warnings == ()
