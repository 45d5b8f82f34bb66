"""Provider files, address checks, matching and the typed-vs-recommended comparison (no network)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.model import Entities
from bot.providers import (
    PROVIDER_FIELDS,
    SERVER_FIELDS,
    AddressError,
    Typed,
    answer_from_provider,
    compare,
    compare_entities,
    load_providers,
    parse_address,
    provider_for_domain,
    provider_for_mx,
    settings_offline,
    typed_from_entities,
)
from bot.settings_text import render_mismatches, render_settings
from tests.conftest import KNOWLEDGE

PROVIDER_DIR = KNOWLEDGE / "providers"
PROVIDER_FILES = sorted(PROVIDER_DIR.glob("*.yml"))
PROVIDERS, PROBLEMS = load_providers(PROVIDER_DIR)
BY_ID = {p.id: p for p in PROVIDERS}


def _sample_domain(entry: str) -> str:
    return entry.replace("*", "sample", 1)


def _sample_mx(pattern: str) -> str:
    return pattern.replace("*", "x")


# --- every provider file ---------------------------------------------------------------------------


def test_provider_folder_has_no_problems() -> None:
    """The shipped provider files validate with no problem at all."""
    assert [str(p) for p in PROBLEMS] == []
    assert len(PROVIDERS) == len(PROVIDER_FILES)


@pytest.mark.parametrize("path", PROVIDER_FILES, ids=lambda p: p.stem)
def test_provider_file_answers_its_own_domains(path: Path) -> None:
    """Each file validates alone, and every domain it lists is answered from that file."""
    provider = BY_ID[path.stem]
    assert provider.sources and all(s.startswith(("http://", "https://")) for s in provider.sources)
    for entry in provider.domains:
        answer = settings_offline(f"taro@{_sample_domain(entry)}", PROVIDERS)
        assert answer.provider is provider, entry
        assert answer.source == "provider_file"
        assert answer.source_detail == f"knowledge/providers/{path.name}"
        assert all("%" not in s.host for s in answer.incoming)


@pytest.mark.parametrize("path", PROVIDER_FILES, ids=lambda p: p.stem)
def test_provider_mx_patterns_recognise_the_provider(path: Path) -> None:
    """An MX host matching one of the file's patterns is recognised as that provider."""
    provider = BY_ID[path.stem]
    for pattern in provider.mx:
        match = provider_for_mx(PROVIDERS, [_sample_mx(pattern)])
        assert match is not None and match[0] is provider, pattern


@pytest.mark.parametrize("path", PROVIDER_FILES, ids=lambda p: p.stem)
def test_provider_answer_renders_in_both_languages(path: Path) -> None:
    """The rendered answer names every server, marks unverified ones and fits one phone screen."""
    provider = BY_ID[path.stem]
    if provider.domains:
        answer = settings_offline(f"taro@{_sample_domain(provider.domains[0])}", PROVIDERS)
    else:  # recognised by its MX only, as for a company's own domain
        answer = answer_from_provider(
            provider, parse_address("taro@example.jp"), "mx", f"MX {provider.mx[0]}"
        )
    for lang in ("ja", "en"):
        text = render_settings(answer, lang)
        assert all(s.host in text and str(s.port) in text for s in answer.incoming)
        unverified = "[未確認]" if lang == "ja" else "[unverified]"
        assert (unverified in text) == any(not s.verified for s in answer.incoming)
        assert len(text.splitlines()) <= 16


def test_provider_readme_documents_every_field() -> None:
    """knowledge/README.md's "Provider files" section names every field the loader accepts."""
    readme = (KNOWLEDGE / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Provider files") :]
    for name in sorted(PROVIDER_FIELDS | SERVER_FIELDS):
        assert f"`{name}`" in section, name


# --- the validator names file and line -------------------------------------------------------------

GOOD = """\
id: {id}
name: {{ja: 例, en: Example}}
kind: isp
domains: [{domain}]
incoming:
  - protocol: imap
    host: imap.example.jp
    port: 993
    security: ssl
    username: address
auth: password
password: {{ja: パスワード, en: password}}
where: {{ja: 会員ページ, en: member pages}}
sources: [https://example.jp/help]
checked: 2026-11-28
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "knowledge" / "providers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


BAD_CASES = [
    ("port", GOOD.replace("port: 993", "port: 99999"), 8, "port 99999 must be a number from 1 to 65535"),
    ("ssl-on-plain-port", GOOD.replace("port: 993", "port: 143"), 8, "port 143 is the plain port"),
    ("security", GOOD.replace("security: ssl", "security: tls"), 9, "security 'tls' is not one of"),
    ("username", GOOD.replace("username: address", "username: email"), 10, "username 'email' is not one of"),
    ("host", GOOD.replace("imap.example.jp", "imap example"), 7, "host 'imap example' is not a host name"),
    ("missing-en", GOOD.replace(", en: member pages", ""), 13, "where: missing English text (en)"),
    ("unknown-field", GOOD + "colour: red\n", 16, "unknown field 'colour'"),
    ("duplicate-key", GOOD + "kind: carrier\n", 16, "duplicate key 'kind' (first on line 3)"),
    ("bad-url", GOOD.replace("https://example.jp/help", "example.jp/help"), 14, "is not an http(s) URL"),
    ("bad-date", GOOD.replace("2026-11-28", "yesterday"), 15, "checked: the date"),
    ("ip-domain", GOOD.replace("{domain}", "192.0.2.1"), 4, "is an IP address"),
    ("wrong-id", GOOD.replace("{id}", "other"), 1, "must match the file name"),
    ("id-needs-hint", GOOD.replace("username: address", "username: id"), 5, "username_hint: needed"),
]


@pytest.mark.parametrize(
    ("text", "line", "message"), [c[1:] for c in BAD_CASES], ids=[c[0] for c in BAD_CASES]
)
def test_validator_names_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    """A mistake in a provider file is reported as knowledge/providers/FILE:LINE: what is wrong."""
    text = text.replace("{id}", "example").replace("{domain}", "example.jp")
    folder = _write(tmp_path, "example.yml", text.format(id="example", domain="example.jp"))
    providers, problems = load_providers(folder)
    shown = [str(p) for p in problems]
    assert providers == []
    assert any(s.startswith(f"knowledge/providers/example.yml:{line}: ") and message in s for s in shown), (
        shown
    )


def test_validator_reports_a_domain_claimed_twice(tmp_path: Path) -> None:
    """Two files listing the same domain: the second is reported, naming the first."""
    _write(tmp_path, "one.yml", GOOD.format(id="one", domain="example.jp"))
    folder = _write(tmp_path, "two.yml", GOOD.format(id="two", domain="EXAMPLE.jp"))
    _, problems = load_providers(folder)
    assert [str(p) for p in problems] == [
        "knowledge/providers/two.yml:1: domains: 'example.jp' is also in knowledge/providers/one.yml"
    ]


def test_validator_survives_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    """A list, an empty file or invalid UTF-8 is a problem with a line, never an exception."""
    _write(tmp_path, "alist.yml", "- a\n- b\n")
    _write(tmp_path, "empty.yml", "")
    folder = tmp_path / "knowledge" / "providers"
    (folder / "bytes.yml").write_bytes(b"id: \xff\xfe\n")
    _, problems = load_providers(folder)
    assert sorted(str(p).split(": ")[0] for p in problems) == [
        "knowledge/providers/alist.yml:1",
        "knowledge/providers/bytes.yml:1",
        "knowledge/providers/empty.yml:1",
    ]


def test_idn_domain_in_a_provider_file_matches_both_spellings(tmp_path: Path) -> None:
    """A provider file may list 例え.jp; it is stored as xn--r8jz45g.jp and answers either form."""
    folder = _write(tmp_path, "idn.yml", GOOD.format(id="idn", domain="例え.jp"))
    providers, problems = load_providers(folder)
    assert problems == [] and providers[0].domains == ("xn--r8jz45g.jp",)
    for address in ("taro@例え.jp", "taro@xn--r8jz45g.jp", "taro@例え.JP."):
        assert settings_offline(address, providers).provider is providers[0]


# --- addresses -------------------------------------------------------------------------------------

GOOD_ADDRESSES = [
    ("plain", "taro@example.co.jp", "taro", "example.co.jp"),
    ("upper-case-domain", "Taro@EXAMPLE.CO.JP", "Taro", "example.co.jp"),
    ("trailing-dot", "taro@example.jp.", "taro", "example.jp"),
    ("full-width", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro", "example.jp"),
    ("idn", "taro@例え.jp", "taro", "xn--r8jz45g.jp"),
    ("surrounding-space", "  taro@example.jp\n", "taro", "example.jp"),
]


@pytest.mark.parametrize(
    ("raw", "local", "domain"), [c[1:] for c in GOOD_ADDRESSES], ids=[c[0] for c in GOOD_ADDRESSES]
)
def test_parse_address_accepts_real_addresses(raw: str, local: str, domain: str) -> None:
    """Addresses as people paste them (full-width, IDN, trailing dot) are understood."""
    address = parse_address(raw)
    assert (address.local, address.domain) == (local, domain)


BAD_ADDRESSES = [
    ("empty", "", "空"),
    ("spaces", "   ", "空"),
    ("no-at", "taro.example.jp", "@"),
    ("two-at", "a@b@example.jp", "@"),
    ("no-local", "@example.jp", "@"),
    ("no-domain", "taro@", "ドメイン"),
    ("10KB", "a" * 10_000 + "@example.jp", "長すぎ"),
    ("control-char", "taro\x00@example.jp", "制御文字"),
    ("newline-inside", "taro@exa\nmple.jp", "制御文字"),
    ("metadata-ip", "x@169.254.169.254", "IP アドレス"),
    ("ip-literal", "x@[127.0.0.1]", "IP アドレス"),
    ("ipv6", "x@::1", "IP アドレス"),
    ("localhost", "root@localhost", "形が正しくありません"),
    ("dot-localhost", "root@app.localhost", "特殊用途"),
    ("mdns", "x@printer.local", "特殊用途"),
    ("single-label", "x@intranet", "形が正しくありません"),
    ("bad-label", "x@-bad-.jp", "形が正しくありません"),
    ("numeric-tld", "x@example.123", "形が正しくありません"),
    ("not-a-string", None, "空"),
]


@pytest.mark.parametrize(("raw", "ja"), [c[1:] for c in BAD_ADDRESSES], ids=[c[0] for c in BAD_ADDRESSES])
def test_parse_address_rejects_malformed_and_hostile_input(raw: object, ja: str) -> None:
    """Malformed or hostile input is an AddressError with a Japanese and an English explanation."""
    with pytest.raises(AddressError) as caught:
        parse_address(raw)
    assert ja in caught.value.text.ja
    assert caught.value.text.en and "\x00" not in caught.value.text.en
    assert len(caught.value.text.en) < 200


# --- matching --------------------------------------------------------------------------------------

DOMAIN_CASES = [
    ("exact", "docomo.ne.jp", "docomo"),
    ("subdomain-wildcard", "kfa.biglobe.ne.jp", "biglobe"),
    ("exact-beats-wildcard", "biglobe.ne.jp", "biglobe"),
    ("ocn-subdomain", "juno.ocn.ne.jp", "ocn"),
    ("not-a-suffix-trick", "evilocn.ne.jp", None),
    ("unknown", "example.com", None),
]


@pytest.mark.parametrize(
    ("domain", "expected"), [c[1:] for c in DOMAIN_CASES], ids=[c[0] for c in DOMAIN_CASES]
)
def test_provider_for_domain(domain: str, expected: str | None) -> None:
    """Exact domains and *.suffix entries match; a lookalike that only ends with the text does not."""
    found = provider_for_domain(PROVIDERS, domain)
    assert (found.id if found else None) == expected


MX_CASES = [
    ("google-workspace", ["smtp.google.com"], "gmail"),
    ("google-old", ["alt1.aspmx.l.google.com", "aspmx.l.google.com"], "gmail"),
    ("microsoft-365", ["example-co-jp.mail.protection.outlook.com."], "microsoft"),
    ("lolipop", ["mx01.lolipop.jp"], "lolipop"),
    ("first-match-wins", ["mail.example.jp", "smtp.google.com"], "gmail"),
    ("unknown", ["mail.example.jp"], None),
    ("lookalike", ["smtp.google.com.evil.example"], None),
]


@pytest.mark.parametrize(("hosts", "expected"), [c[1:] for c in MX_CASES], ids=[c[0] for c in MX_CASES])
def test_provider_for_mx(hosts: list[str], expected: str | None) -> None:
    """A Google or Microsoft MX host means their settings; a lookalike name does not."""
    found = provider_for_mx(PROVIDERS, hosts)
    assert (found[0].id if found else None) == expected


# --- comparing with what was typed -----------------------------------------------------------------


COMPARE_CASES = [
    ("ssl-on-port-110", "hanako@ocn.ne.jp", Typed(port=110, ssl=True), [("port", "995", True)]),
    ("ssl-on-port-143", "taro@gmail.com", Typed(port=143, ssl=True), [("port", "993", True)]),
    ("ssl-off-port-993", "taro@gmail.com", Typed(port=993, ssl=False), [("ssl", "on", True)]),
    ("ssl-off-port-995", "hanako@ocn.ne.jp", Typed(port=995, ssl=False), [("ssl", "on", True)]),
    (
        "address-where-id",
        "taro@docomo.ne.jp",
        Typed(username="taro@docomo.ne.jp"),
        [("username", "ID", True)],
    ),
    (
        "local-where-address",
        "hanako@ocn.ne.jp",
        Typed(username="hanako"),
        [("username", "hanako@ocn.ne.jp", True)],
    ),
    (
        "address-where-local",
        "taro@i.softbank.jp",
        Typed(username="taro@i.softbank.jp"),
        [("username", "taro", True)],
    ),
    (
        "wrong-host",
        "taro@docomo.ne.jp",
        Typed(host="imap.docomo.ne.jp"),
        [("host", "imap.spmode.ne.jp", False)],
    ),
    ("wrong-port", "taro@gmail.com", Typed(protocol="imap", port=995), [("port", "993", False)]),
    ("ssl-off-where-ssl", "taro@gmail.com", Typed(host="imap.gmail.com", ssl=False), [("ssl", "on", False)]),
    ("all-right", "taro@gmail.com", Typed("imap.gmail.com", 993, True, "taro@gmail.com"), []),
    ("pop-all-right", "hanako@ocn.ne.jp", Typed("pop.ocn.ne.jp", 995, True, "hanako@ocn.ne.jp"), []),
    ("host-pattern", "t@xs1.xsrv.jp", Typed(host="sv1234.xserver.jp", port=993, ssl=True), []),
    ("host-pattern-wrong", "t@xs1.xsrv.jp", Typed(host="xs1.xsrv.jp"), [("host", "sv*.xserver.jp", False)]),
    ("nothing-typed", "taro@gmail.com", Typed(), []),
]


@pytest.mark.parametrize(
    ("address", "typed", "expected"), [c[1:] for c in COMPARE_CASES], ids=[c[0] for c in COMPARE_CASES]
)
def test_compare_flags_what_differs(
    address: str, typed: Typed, expected: list[tuple[str, str, bool]]
) -> None:
    """Each differing value is named with what to type instead; the classic mix-ups are marked."""
    found = compare(settings_offline(address, PROVIDERS), typed)
    assert [(m.field, m.expected, m.classic) for m in found] == expected


def test_compare_entities_uses_the_classified_values() -> None:
    """A message's extracted host, port, SSL switch and user name feed the same comparison."""
    entities = Entities(
        hosts=("imap.docomo.ne.jp",), ports=(143,), ssl=True, usernames=("taro@docomo.ne.jp",)
    )
    assert typed_from_entities(entities) == Typed("imap.docomo.ne.jp", 143, True, "taro@docomo.ne.jp", None)
    found = compare_entities(settings_offline("taro@docomo.ne.jp", PROVIDERS), entities)
    assert {m.field for m in found} == {"port", "username", "host"}
    lines = render_mismatches(found, "ja")
    assert lines[0].startswith("SSL がオン") and any("imap.spmode.ne.jp" in line for line in lines)
    assert all(re.search(r"[ぁ-んァ-ン一-龥]", line) for line in lines)


def test_offline_answer_for_an_unknown_domain_says_so() -> None:
    """A domain with no provider file gives no servers and a note that says how to look further."""
    answer = settings_offline("taro@example.com", PROVIDERS)
    assert answer.source == "none" and answer.incoming == ()
    assert "--offline" in answer.notes[0].en
    data = answer.as_dict("en")
    assert set(data) >= {"address", "domain", "provider", "source", "incoming", "notes"}


@given(st.text(max_size=400))
@settings(max_examples=300, deadline=None)
def test_parse_address_never_fails_with_anything_but_address_error(raw: str) -> None:
    """Any text at all gives an Address or an AddressError with both languages, never another exception."""
    try:
        address = parse_address(raw)
    except AddressError as exc:
        assert exc.text.ja and exc.text.en
    else:
        assert address.domain.isascii() and "@" not in address.domain


@given(
    st.one_of(st.none(), st.text(max_size=80)),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=70_000)),
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.text(max_size=80)),
)
@settings(max_examples=300, deadline=None)
def test_compare_accepts_anything_typed(
    host: str | None, port: int | None, ssl: bool | None, user: str | None
) -> None:
    """Whatever was extracted from a message, the comparison answers with bilingual messages."""
    for address in ("taro@docomo.ne.jp", "t@xs1.xsrv.jp", "taro@example.com"):
        for mismatch in compare(settings_offline(address, PROVIDERS), Typed(host, port, ssl, user)):
            assert mismatch.message.ja and mismatch.message.en
