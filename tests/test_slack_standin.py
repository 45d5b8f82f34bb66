"""The recording Slack stand-in answers slack_sdk's real client the way Slack does (so other tests can trust it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.web import download, make_client
from tests.servers.slack_api import SlackApiServer


@pytest.fixture
def api() -> Iterator[SlackApiServer]:
    with SlackApiServer() as server:
        yield server


def test_files_upload_v2_goes_through_the_external_upload_flow(api: SlackApiServer) -> None:
    """files_upload_v2 asks for an upload URL, uploads the bytes there, then completes the upload."""
    client = make_client("xoxb-test-token", api.api_url)
    result = client.files_upload_v2(channel="C0REPORT", content=b"\x89PNG chart", filename="weekly.png",
                                    title="週次レポート")  # fmt: skip
    assert result["ok"] is True
    methods = [c.method for c in api.calls()]
    assert methods[0] == "files.getUploadURLExternal"
    assert methods[1].startswith("upload:") and methods[-1] == "files.completeUploadExternal"
    assert list(api.state.uploads.values()) == [b"\x89PNG chart"]


def test_429_once_then_success_through_our_client(api: SlackApiServer) -> None:
    """Our client waits out one 429 (Retry-After) and then succeeds; the record shows both answers."""
    api.fail_next("chat.postMessage", status=429, retry_after=0)
    client = make_client("xoxb-test-token", api.api_url)
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [c.status for c in api.calls("chat.postMessage")] == [429, 200]


def test_chat_delete_with_a_bot_token_only_deletes_the_bots_messages(api: SlackApiServer) -> None:
    """As on Slack: a bot token deletes its own message, and gets cant_delete_message for a person's."""
    client = make_client("xoxb-test-token", api.api_url)
    posted = client.chat_postMessage(channel="C1", text="bot says")
    assert client.chat_delete(channel="C1", ts=posted["ts"])["ok"] is True
    with pytest.raises(SlackApiError) as raised:
        client.chat_delete(channel="C1", ts="1699999999.000001")
    assert raised.value.response["error"] == "cant_delete_message"


def test_private_files_need_the_bot_token(api: SlackApiServer) -> None:
    """A file URL without the token answers a sign-in page; ours sends it and gets the bytes."""
    info = api.add_file("F1", "shot.png", b"\x89PNG data", "image/png")
    assert (
        download(info["url_private"], token="xoxb-test-token", api_url=api.api_url, max_bytes=100)
        == b"\x89PNG data"
    )
    (fetched,) = api.calls("file:F1")
    assert fetched.params["authorised"] is True


def test_download_refuses_foreign_hosts_and_oversized_files(api: SlackApiServer) -> None:
    """The bot token is never sent to a host that is not Slack's; a file over the cap is not kept."""
    from bot.slack.web import DownloadError

    with pytest.raises(DownloadError) as foreign:
        download("https://attacker.example/steal", token="xoxb-t", api_url=api.api_url, max_bytes=100)
    assert foreign.value.reason == "not_allowed"
    info = api.add_file("F2", "big.png", b"x" * 500, "image/png")
    with pytest.raises(DownloadError) as big:
        download(info["url_private"], token="xoxb-t", api_url=api.api_url, max_bytes=100)
    assert big.value.reason == "too_large"
