"""The console chat through its real entry point: a subprocess fed on standard input."""

from __future__ import annotations

from tests.cli_run import run_cli


def test_chat_walks_tree_with_numbers_and_hands_off() -> None:
    """Paste an error, answer with numbers, then 'still stuck' prints the hand-off memo without secrets."""
    script = (
        "iPhoneで「IMAPアカウントのパスワードが正しくありません」 パスワードは Abc12345 です\n2\n4\n/quit\n"
    )
    result = run_cli("chat", stdin=script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1) はい" in out
    assert "【問い合わせ用メモ】" in out
    assert "Abc12345" not in out
    assert out.rstrip().endswith("終了します。")


def test_chat_english_and_solved() -> None:
    """An English message gets English choices; 3 closes the case as solved."""
    result = run_cli("chat", stdin="Cannot Get Mail. The connection to the server failed.\n3\n")
    assert result.returncode == 0, result.stderr
    assert "Solved" in result.stdout
    assert "Glad it works again" in result.stdout
    assert result.stdout.rstrip().endswith("Bye.")  # the goodbye follows the conversation's language


def test_no_arguments_without_terminal_prints_help() -> None:
    """`mailcheck` with no command and no terminal prints usage (exit 2) instead of waiting."""
    result = run_cli()
    assert result.returncode == 2
    assert "usage:" in result.stdout
