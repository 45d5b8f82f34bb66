"""Normalisation folds the ways people paste the same error; extraction finds hosts, ports, codes."""

from __future__ import annotations

import pytest

from bot.text import clip, detect_lang, extract, extract_codes, normalise

FOLDS = [
    ("サーバ", "サーバー"),
    ("ユーザ名", "ユーザー名"),
    ("ＩＭＡＰ　サーバー", "imap サーバー"),
    ("ｻｰﾊﾞｰに接続できません", "サーバーに接続できません"),
    ("「imap.example.jp」", '"imap.example.jp"'),
    ("“Cannot Get Mail”", '"cannot get mail"'),
    ("接 続 で き ま せ ん", "接続できません"),
    ("Cannot\r\nGet\tMail", "cannot get mail"),
    ("0x800ＣＣＣ0Ｅ", "0x800ccc0e"),
    ("サーバ―", "サーバー"),  # a dash typed in place of the long-vowel mark
]


@pytest.mark.parametrize(("a", "b"), FOLDS, ids=[a for a, _ in FOLDS])
def test_variants_fold_to_one_form(a: str, b: str) -> None:
    """Width, long vowels, quotes, line breaks and OCR spaces do not change the normalised form."""
    assert normalise(a) == normalise(b)


def test_normalise_keeps_ascii_words_apart() -> None:
    """Spaces between Latin words survive; only spaces between Japanese characters go."""
    assert normalise("Cannot  Get Mail") == "cannot get mail"
    assert normalise("iPhone の メール") == "iphone のメル"  # long-vowel marks are folded away


def test_control_characters_do_not_survive() -> None:
    """Binary noise becomes spaces, never crashes the matcher."""
    assert normalise("a\x00b\x1bc") == "a b c"


LANGS = [
    ("IMAPアカウントのパスワードが正しくありません", "ja"),
    ("Cannot Get Mail", "en"),
    ("受信サーバー接続不可", "ja"),
    ("Outlook 0x800CCC0E エラー", "ja"),
    ("Outlook 0x800CCC0E", "ja"),
    ("imap.example.jp:993", "ja"),
    ("Connection timed out", "en"),
    ("", "ja"),
    ("😀😀", "ja"),
]


@pytest.mark.parametrize(("text", "lang"), LANGS, ids=[t or "empty" for t, _ in LANGS])
def test_language_of_message(text: str, lang: str) -> None:
    """Kana means Japanese; English needs real English words; otherwise Japanese first."""
    assert detect_lang(text) == lang


def test_extract_codes_canonical() -> None:
    """Outlook hex codes (OCR's O for 0 too), IMAP response codes and SMTP enhanced codes."""
    norm = normalise("0x800CCCOE then [AUTHENTICATIONFAILED] and 552 5.2.2 mailbox full")
    assert extract_codes(norm) == ("0X800CCC0E", "[AUTHENTICATIONFAILED]", "552 5.2.2")


def test_extract_entities_from_a_settings_description() -> None:
    """Host, port, address, protocol, SSL switch and user name are picked out of free text."""
    text = "iPhoneでPOP、受信サーバーは pop.example.co.jp ポート 110 SSLオフ、ユーザ名は taro です。taro@example.co.jp"
    e = extract(normalise(text))
    assert e.hosts == ("pop.example.co.jp",)
    assert e.ports == (110,)
    assert e.addresses == ("taro@example.co.jp",)
    assert e.protocol == "pop3"
    assert e.ssl is False
    assert e.usernames == ("taro",)


def test_host_with_port_suffix_and_no_file_names() -> None:
    """``imap.example.jp:993`` gives host and port; ``screenshot.png`` is not a host."""
    e = extract(normalise("connect to imap.example.jp:993 failed, see screenshot.png"))
    assert e.hosts == ("imap.example.jp",)
    assert e.ports == (993,)


def test_clip_keeps_head_and_tail() -> None:
    """A huge paste is cut in the middle: the error at the top and the tail both survive."""
    text = "HEAD" + "x" * 100_000 + "TAIL"
    clipped = clip(text, 1000)
    assert clipped.startswith("HEAD") and clipped.endswith("TAIL") and len(clipped) < 1010


def test_ip_address_is_a_host_but_version_numbers_are_not() -> None:
    """An IPv4 address typed as the server counts as a host; "iOS 17.1" does not."""
    assert extract(normalise("サーバーに 192.0.2.10 を入れた (iOS 17.1.2)")).hosts == ("192.0.2.10",)
