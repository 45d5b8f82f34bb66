"""Passwords and tokens are masked before anything sees the text; error texts survive untouched."""

from __future__ import annotations

import pytest

from bot.redact import MASK, domain_only, redact

SECRETS = [
    ("パスワードは abc123 です", "abc123"),
    ("パスワードはHello2024です", "Hello2024"),
    ("password: hunter2", "hunter2"),
    ("Password = Tr0ub4dor&3", "Tr0ub4dor&3"),
    ("パスワード：secretpass", "secretpass"),
    ("my password is Winter2025! and it fails", "Winter2025!"),
    ("pw=Qwerty12", "Qwerty12"),
    ("imap://taro:s3cr3t@mail.example.jp", "s3cr3t"),
    ("アプリパスワード abcd efgh ijkl mnop を入れた", "abcd efgh ijkl mnop"),
    ("token xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS, ids=[s for _, s in SECRETS])
def test_secret_is_masked(text: str, secret: str) -> None:
    """The secret's characters are gone and a mask stands in their place."""
    result = redact(text)
    assert secret not in result.text
    assert MASK in result.text
    assert result.secrets_found >= 1


KEEP = [
    'IMAPアカウント"info@example.jp"のパスワードが正しくありません',
    "The user name or password for imap.example.com is incorrect.",
    "password is incorrect",
    "パスワードを何度も入れたらロックされた",
    "The password is wrong",
    "パスワードは正しいはずです",
    "Login to server imap.example.jp with username taro failed.",
    "0x800CCC92 パスワードが拒否されました",
]


@pytest.mark.parametrize("text", KEEP, ids=range(len(KEEP)))
def test_error_texts_survive(text: str) -> None:
    """Error messages about passwords are not secrets and are left exactly as they were."""
    result = redact(text)
    assert result.text == text
    assert not result.password_pasted


def test_password_flag_only_for_passwords() -> None:
    """A Slack token is masked but is not reported as a pasted mail password."""
    assert redact("password: hunter2").password_pasted
    assert not redact("xoxb-1234567890-abcdefghij").password_pasted


def test_domain_only() -> None:
    """Only the domain of an address may be stored."""
    assert domain_only("taro@example.co.jp") == "example.co.jp"
    assert domain_only("example.co.jp") == "example.co.jp"
