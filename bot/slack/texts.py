"""What the Slack app itself says (the diagnoses come from the knowledge). Japanese first."""

from __future__ import annotations

from bot.model import Lang, Text

TEXTS: dict[str, Text] = {
    "busy": Text(
        "ただいま混み合っています。1分ほどしてから、もう一度お試しください。",
        "I am busy right now; please try again in a minute.",
    ),
    "expired": Text(
        "この会話の記録が見つかりません（時間がたったか、ボットが再起動しました）。お手数ですが、エラー文をもう一度送ってください。",
        "I can no longer find this conversation (it is old, or the bot restarted). Please send the error text again.",
    ),
    "bad_button": Text(
        "このボタンは古い形式のため使えません。エラー文をもう一度送ってください。",
        "This button is from an older version and no longer works. Please send the error text again.",
    ),
    "empty": Text(
        "エラーの文面を一緒に送ってください（例: @mailcheck 受信サーバーに接続できません）。パスワードは書かないでください。",
        "Please include the error text (e.g. @mailcheck Cannot Get Mail …). Never include a password.",
    ),
    "no_host": Text(
        "確認するサーバー名が文面にありません。`/mailcheck probe mail.example.jp` のように指定してください。",
        "The message names no server to check. Use `/mailcheck probe mail.example.jp`.",
    ),
    "probing": Text("サーバーを確認しています（最大 {s} 秒）…", "Checking the server (up to {s} s)…"),
    "looking_up": Text("設定を調べています…", "Looking up the settings…"),
    "probe_usage": Text(
        "使い方: `/mailcheck probe mail.example.jp`（サーバー名かメールアドレス）",
        "Usage: `/mailcheck probe mail.example.jp` (a server name or an e-mail address)",
    ),
    "settings_usage": Text(
        "使い方: `/mailcheck settings taro@example.co.jp`", "Usage: `/mailcheck settings taro@example.co.jp`"
    ),
    "probe_head": Text("サーバーの確認結果: {host}", "Server check: {host}"),
    "probe_healthy": Text("問題は見つかりませんでした。", "No problem found."),
    "not_in_channel": Text(
        "このチャンネルには返信できませんでした（ボットが参加していません）。`/invite @mailcheck` で招待してください。"
        "今回の結果はあなたにだけ表示しています。",
        "I could not reply in this channel (I am not a member). Invite me with `/invite @mailcheck`. "
        "This result is shown only to you.",
    ),
    "not_image": Text(
        "画像以外のファイル（{name}）は読めません。スクリーンショット（PNG・JPEG）か、エラーの文字を送ってください。",
        "I cannot read files other than pictures ({name}). Send a screenshot (PNG, JPEG) or the error as text.",
    ),
    "too_large": Text(
        "画像（{name}）が大きすぎます（{mb} MB まで）。画面の必要な部分だけを送ってください。",
        "The picture ({name}) is too large (limit {mb} MB). Please send just the part of the screen with the error.",
    ),
    "download_failed": Text(
        "ファイル（{name}）を取得できませんでした。もう一度送ってください。",
        "I could not fetch the file ({name}). Please send it again.",
    ),
    "nothing_read": Text(
        "画像（{name}）から文字を読み取れませんでした。エラーの文字を貼り付けてください。",
        "I could not read any text in the picture ({name}). Please paste the error as text.",
    ),
    "too_many_files": Text("画像は最初の {n} 枚だけ読みました。", "I read only the first {n} pictures."),
    "help": Text(
        "*mailcheck の使い方*\n"
        "• `/mailcheck エラー文` … エラーを診断します（結果はあなたにだけ表示。`--share` を付けるとチャンネルに表示）\n"
        "• `/mailcheck probe mail.example.jp` … メールサーバーを確認します（DNS・ポート・TLS・応答）\n"
        "• `/mailcheck settings taro@example.co.jp` … 受信サーバーの設定を案内します\n"
        "• `/mailcheck watch add|list|remove mail.example.jp` … 自社のメールサーバーを毎時確認します（管理者のみ）\n"
        "• チャンネルで @mailcheck にエラー文やスクリーンショットを送る、ボットに DM する、"
        "メッセージの「⋮」→「メールエラーを診断」でも使えます。\n"
        "• パスワードは書かないでください。",
        "*How to use mailcheck*\n"
        "• `/mailcheck <error text>` diagnoses the error (only you see the answer; add `--share` to show it in the channel)\n"
        "• `/mailcheck probe mail.example.jp` checks the mail server (DNS, ports, TLS, greeting)\n"
        "• `/mailcheck settings taro@example.co.jp` tells the incoming-server settings\n"
        "• `/mailcheck watch add|list|remove mail.example.jp` checks the company's own mail servers hourly (admins)\n"
        "• You can also mention @mailcheck with the error text or a screenshot, send me a DM, or use "
        "⋮ → Diagnose mail error on any message.\n"
        "• Never include a password.",
    ),
}


def say(key: str, lang: Lang, **values: object) -> str:
    text = TEXTS[key].get(lang)
    return text.format(**values) if values else text
