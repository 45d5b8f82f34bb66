"""Screenshots drawn with Pillow from real error texts, for the OCR tests and benchmark.

Nothing here is a stored picture: each sample is drawn the way the client shows it (an iPhone alert
over a dimmed Mail screen, an Outlook / Thunderbird dialog on a desktop), in light and dark mode, with
Debian's Noto Sans CJK JP (``fonts-noto-cjk``). ``photo_of_screen`` turns a drawing into something like
a phone photo of a monitor (skew, blur, noise, moiré, JPEG).

The texts are what the clients really show (sources in each sample); ``key`` is the part a person
would quote, which the OCR must get right after normalisation.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))


@dataclass(frozen=True)
class Sample:
    id: str
    symptom: str
    lang: str  # "ja" | "en"
    client: str  # "iphone" | "outlook" | "thunderbird"
    title: str
    body: str
    key: str  # the phrase the OCR text must contain (compared after normalisation)
    source: str = ""


# Real client texts. iOS Mail alerts (support.apple.com/102525 and users' screenshots), Outlook's
# send/receive errors (learn.microsoft.com "error-when-send-receive-email-messages"; the Japanese
# "タスク '…' はエラー (0x…) を報告しました" form), Thunderbird's imapMsgs / localMsgs strings.
_APPLE = "https://support.apple.com/ja-jp/102525"
_MS = "https://learn.microsoft.com/en-us/troubleshoot/outlook/email-management/error-when-send-receive-email-messages"
_TB = "https://hg.mozilla.org/comm-central/file/tip/mail/locales/en-US/chrome/messenger/imapMsgs.properties"
SAMPLES: tuple[Sample, ...] = (
    Sample("iphone-auth-ja", "auth_failed", "ja", "iphone", "メールを受信できません",
           "“imap.example.co.jp”のユーザ名またはパスワードが正しくありません。",
           "ユーザ名またはパスワードが正しくありません", _APPLE),
    Sample("iphone-auth-en", "auth_failed", "en", "iphone", "Cannot Get Mail",
           "The user name or password for “imap.example.com” is incorrect.",
           "user name or password", _APPLE),
    Sample("iphone-imap-password-ja", "auth_failed", "ja", "iphone", "パスワードが正しくありません",
           "IMAPアカウント“会社”のパスワードを入力してください。", "パスワードが正しくありません", _APPLE),
    Sample("iphone-connect-ja", "cannot_connect", "ja", "iphone", "メールを受信できません",
           "サーバ“imap.example.co.jp”への接続に失敗しました。", "への接続に失敗しました", _APPLE),
    Sample("iphone-connect-en", "cannot_connect", "en", "iphone", "Cannot Get Mail",
           "The connection to the server failed.", "connection to the server failed", _APPLE),
    Sample("iphone-cert-ja", "tls_certificate", "ja", "iphone", "サーバの識別情報を検証できません",
           "“mail.example.co.jp”の識別情報をメールで検証できません。証明書の詳細を確認して続けてください。",
           "識別情報を検証できません", _APPLE),
    Sample("iphone-cert-en", "tls_certificate", "en", "iphone", "Cannot Verify Server Identity",
           "The identity of “mail.example.com” cannot be verified by Mail. Review the certificate details to continue.",
           "cannot verify server identity", _APPLE),
    Sample("iphone-send-ja", "sending_smtp", "ja", "iphone", "メールを送信できません",
           "コピーが送信トレイに置かれました。受信者“tanaka@example.co.jp”がサーバによって拒否されました。",
           "メールを送信できません", _APPLE),
    Sample("iphone-send-en", "sending_smtp", "en", "iphone", "Cannot Send Mail",
           "A copy has been placed in your Outbox. The recipient “tanaka@example.com” was rejected by the server.",
           "cannot send mail", _APPLE),
    Sample("outlook-connect-ja", "cannot_connect", "ja", "outlook", "送受信エラー",
           "タスク 'imap.example.co.jp - 受信中' はエラー (0x800CCC0E) を報告しました: 'サーバーに接続できません。"
           "この問題が引き続き起こる場合は、サーバー管理者かインターネット サービス プロバイダー (ISP) に連絡してください。'",
           "0x800CCC0E", _MS),
    Sample("outlook-connect-en", "cannot_connect", "en", "outlook", "Send/Receive Error",
           "Receiving reported error (0x800CCC0E) : 'Cannot connect to the server. If you continue to receive "
           "this message, contact your server administrator or Internet service provider (ISP).'",
           "0x800CCC0E", _MS),
    Sample("outlook-auth-ja", "auth_failed", "ja", "outlook", "送受信エラー",
           "タスク 'pop.example.co.jp - 受信中' はエラー (0x800CCC92) を報告しました: '電子メール サーバーがログインを"
           "拒否しました。アカウントのプロパティで、このアカウントのユーザー名とパスワードを確認してください。'",
           "0x800CCC92", _MS),
    Sample("outlook-auth-en", "auth_failed", "en", "outlook", "Send/Receive Error",
           "Receiving reported error (0x800CCC92) : 'Your e-mail server rejected your login. Verify your user "
           "name and password for this account in Account Settings.'",
           "0x800CCC92", _MS),
    Sample("outlook-dns-ja", "dns_not_found", "ja", "outlook", "送受信エラー",
           "タスク 'mail.exmaple.co.jp - 受信中' はエラー (0x800CCC0D) を報告しました: 'サーバーが見つかりません。"
           "アカウントのプロパティでサーバー名を確認してください。'",
           "0x800CCC0D", _MS),
    Sample("outlook-dns-en", "dns_not_found", "en", "outlook", "Send/Receive Error",
           "Receiving reported error (0x800CCC0D) : 'Cannot locate server. Verify the server information in "
           "the account properties.'",
           "0x800CCC0D", _MS),
    Sample("outlook-timeout-ja", "timeout", "ja", "outlook", "送受信エラー",
           "タスク 'pop.example.co.jp - 受信中' はエラー (0x8004210A) を報告しました: '受信 (POP3) サーバーからの"
           "応答を待っている間に操作がタイムアウトしました。'",
           "0x8004210A", _MS),
    Sample("outlook-timeout-en", "timeout", "en", "outlook", "Send/Receive Error",
           "Receiving reported error (0x8004210A) : 'The operation timed out waiting for a response from the "
           "receiving (POP) server.'",
           "0x8004210A", _MS),
    Sample("outlook-send-ja", "sending_smtp", "ja", "outlook", "送受信エラー",
           "タスク 'smtp.example.co.jp - 送信中' はエラー (0x800CCC78) を報告しました: 'メッセージを送信できません。"
           "アカウントのプロパティで電子メール アドレスが正しいことを確認してください。'",
           "0x800CCC78", _MS),
    Sample("thunderbird-auth-en", "auth_failed", "en", "thunderbird", "Login Failed",
           "Login to server imap.example.com with username tanaka failed.",
           "login to server imap.example.com with username tanaka failed", _TB),
    Sample("thunderbird-quota-en", "mailbox_full", "en", "thunderbird", "Alert",
           "The current operation on 'INBOX' did not succeed. The mail server for account tanaka@example.com "
           "responded: [OVERQUOTA] Quota exceeded",
           "quota exceeded", _TB),
    Sample("thunderbird-inuse-en", "too_many_connections", "en", "thunderbird", "Alert",
           "The mail server for account tanaka@example.com responded: -ERR [IN-USE] Unable to lock maildrop",
           "[IN-USE]", _TB),
)  # fmt: skip


# --- fonts ----------------------------------------------------------------------------------------


@cache
def font_path(bold: bool = False) -> Path:
    """Noto Sans CJK (a .ttc whose first face is JP) from fonts-noto-cjk, or the first fc-list hit."""
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return folder / name
    found = subprocess.run(
        ["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False
    ).stdout
    paths = sorted(line.split(":")[0] for line in found.splitlines() if line.strip())
    if not paths:
        raise FileNotFoundError("no Japanese font: apt-get install fonts-noto-cjk")
    return Path(paths[0])


@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    # Index 0 of the Noto CJK collection is the JP face (Japanese glyph shapes, not Chinese).
    return ImageFont.truetype(str(font_path(bold)), size, index=0)


def _tokens(text: str) -> Iterator[str]:
    """Break points: after every Japanese character, at spaces between Latin words."""
    yield from re.findall(
        r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef“”]|[^\s\u3000-\u30ff\u3400-\u9fff\uff00-\uffef“”]+\s*|\s+",
        text,
    )


_NO_LINE_START = "、。，．）」』”’!?！？:："


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines that fit ``width`` pixels, breaking Japanese anywhere and English at spaces."""
    return [line for paragraph in text.split("\n") for line in _wrap_paragraph(paragraph, face, width)]


def _wrap_paragraph(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        # Japanese line breaking (kinsoku): closing punctuation never starts a line.
        if line and face.getlength(line + token.rstrip()) > width and token[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    return lines


# --- iPhone alert ---------------------------------------------------------------------------------


def draw_iphone(sample: Sample, *, dark: bool, scale: int = 3) -> Image.Image:
    """An iOS alert over the dimmed Mail inbox, at ``scale`` pixels per point (3 = iPhone 14)."""
    w, h = 390 * scale, 844 * scale
    bg, fg, sub = (
        ((0, 0, 0), (255, 255, 255), (142, 142, 147))
        if dark
        else ((255, 255, 255), (0, 0, 0), (142, 142, 147))
    )
    screen = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(screen)
    s = scale
    d.text((28 * s, 16 * s), "9:41", font=font(16 * s, True), fill=fg)
    d.text((16 * s, 96 * s), "受信" if sample.lang == "ja" else "Inbox", font=font(32 * s, True), fill=fg)
    for i in range(9):  # the inbox behind the alert: senders and subjects, so OCR sees clutter
        y = (150 + i * 76) * s
        d.text((32 * s, y), f"sender{i}@example.jp", font=font(16 * s, True), fill=fg)
        d.text(
            (32 * s, y + 24 * s),
            "ご確認ください" if sample.lang == "ja" else "Please check",
            font=font(14 * s),
            fill=sub,
        )
        d.line((32 * s, y + 66 * s, w, y + 66 * s), fill=sub, width=1)
    dim = Image.new("RGB", (w, h), (0, 0, 0))
    screen = Image.blend(screen, dim, 0.45 if dark else 0.3)
    _iphone_alert(screen, sample, dark=dark, scale=scale)
    return screen


def _iphone_alert(screen: Image.Image, sample: Sample, *, dark: bool, scale: int) -> None:
    s = scale
    w, h = screen.size
    box_w = 270 * s
    title_font, body_font = font(17 * s, True), font(13 * s)
    title_lines = wrap(sample.title, title_font, box_w - 32 * s)
    body_lines = wrap(sample.body, body_font, box_w - 32 * s)
    box_h = (20 + 22 * len(title_lines) + 4 + 17 * len(body_lines) + 20 + 44) * s
    x0, y0 = (w - box_w) // 2, (h - box_h) // 2
    panel, fg, line, blue = (
        ((44, 44, 46), (255, 255, 255), (84, 84, 88), (10, 132, 255))
        if dark
        else ((242, 242, 242), (0, 0, 0), (200, 200, 204), (0, 122, 255))
    )
    d = ImageDraw.Draw(screen)
    d.rounded_rectangle((x0, y0, x0 + box_w, y0 + box_h), radius=14 * s, fill=panel)
    y = y0 + 20 * s
    for text in title_lines:
        d.text((w // 2, y), text, font=title_font, fill=fg, anchor="mt")
        y += 22 * s
    y += 4 * s
    for text in body_lines:
        d.text((w // 2, y), text, font=body_font, fill=fg, anchor="mt")
        y += 17 * s
    y_buttons = y0 + box_h - 44 * s
    d.line((x0, y_buttons, x0 + box_w, y_buttons), fill=line, width=max(1, s // 2))
    d.line((w // 2, y_buttons, w // 2, y0 + box_h), fill=line, width=max(1, s // 2))
    ok, settings = ("OK", "設定") if sample.lang == "ja" else ("OK", "Settings")
    d.text((x0 + box_w // 4, y_buttons + 22 * s), settings, font=font(17 * s), fill=blue, anchor="mm")
    d.text((x0 + 3 * box_w // 4, y_buttons + 22 * s), ok, font=font(17 * s, True), fill=blue, anchor="mm")


# --- desktop dialog (Outlook, Thunderbird) --------------------------------------------------------


def draw_dialog(sample: Sample, *, dark: bool, width: int = 1280, height: int = 800) -> Image.Image:
    """A Windows-style message box over an application window, as a desktop screenshot."""
    app = {"outlook": "Microsoft Outlook", "thunderbird": "Mozilla Thunderbird"}.get(sample.client, "Mail")
    desk, window, panel, fg, sub = (
        ((32, 32, 32), (43, 43, 43), (44, 44, 44), (255, 255, 255), (160, 160, 160))
        if dark
        else ((0, 90, 158), (243, 243, 243), (255, 255, 255), (0, 0, 0), (96, 96, 96))
    )
    screen = Image.new("RGB", (width, height), desk)
    d = ImageDraw.Draw(screen)
    d.rectangle((40, 30, width - 40, height - 60), fill=window)
    d.text(
        (60, 40), f"受信トレイ - {app}" if sample.lang == "ja" else f"Inbox - {app}", font=font(15), fill=fg
    )
    for i in range(12):  # message list behind the dialog
        d.text(
            (80, 90 + i * 44),
            (f"Re: 見積書の件 #{i}" if sample.lang == "ja" else f"Re: Quote #{i}")
            if i % 2
            else f"Weekly report {i}",
            font=font(14),
            fill=sub,
        )
    bw = 620
    body_font, title_font = font(15), font(14)
    lines = wrap(sample.body, body_font, bw - 110)
    bh = 120 + 24 * len(lines)
    x0, y0 = (width - bw) // 2, (height - bh) // 2
    d.rectangle((x0 - 1, y0 - 1, x0 + bw + 1, y0 + bh + 1), fill=sub)
    d.rectangle((x0, y0, x0 + bw, y0 + bh), fill=panel)
    d.rectangle((x0, y0, x0 + bw, y0 + 32), fill=window)
    d.text(
        (x0 + 12, y0 + 8),
        f"{sample.title} - {app}" if sample.client == "outlook" else app,
        font=title_font,
        fill=fg,
    )
    d.text((x0 + bw - 28, y0 + 6), "×", font=font(16), fill=fg)
    d.ellipse((x0 + 24, y0 + 52, x0 + 56, y0 + 84), fill=(232, 17, 35))  # the red error icon
    d.text((x0 + 40, y0 + 68), "×", font=font(22, True), fill=(255, 255, 255), anchor="mm")
    y = y0 + 52
    for text in lines:
        d.text((x0 + 76, y), text, font=body_font, fill=fg)
        y += 24
    bx = x0 + bw - 110
    d.rectangle((bx, y0 + bh - 44, bx + 90, y0 + bh - 14), outline=sub, fill=window)
    d.text((bx + 45, y0 + bh - 29), "OK", font=font(14), fill=fg, anchor="mm")
    return screen


def draw(sample: Sample, *, dark: bool = False) -> Image.Image:
    """The sample as its client shows it."""
    return draw_iphone(sample, dark=dark) if sample.client == "iphone" else draw_dialog(sample, dark=dark)


# --- photos of a screen ---------------------------------------------------------------------------

PHOTO_EFFECTS = ("skew", "blur", "noise", "moire", "jpeg")


def _perspective_coeffs(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """Coefficients for Image.transform(PERSPECTIVE) mapping output corners ``dst`` to input ``src``."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return _solve(rows, rhs)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination for the 8x8 system (no numpy needed)."""
    n = len(b)
    m = [[*row[:], b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def skew(image: Image.Image, amount: float = 0.06, seed: int = 0) -> Image.Image:
    """The screen photographed a little from the side: a keystone plus a slight rotation."""
    rnd = random.Random(seed)
    w, h = image.size
    dx, dy = w * amount, h * amount * 0.5
    dst = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
    src = [(-dx * rnd.uniform(0.5, 1), -dy), (w + dx * rnd.uniform(0, 0.5), 0.0),
           (w + dx * rnd.uniform(0.5, 1), h + dy), (-dx * rnd.uniform(0, 0.5), h)]  # fmt: skip
    coeffs = _perspective_coeffs(src, dst)
    out = image.transform(
        (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC, fillcolor=(90, 90, 90)
    )
    return out.rotate(rnd.uniform(-2.5, 2.5), Image.Resampling.BICUBIC, fillcolor=(90, 90, 90))


def noise(image: Image.Image, amount: float = 0.2, seed: int = 0) -> Image.Image:
    """Sensor noise of a phone camera in a dim office (seeded, so every run draws the same picture)."""
    grain = Image.frombytes("L", image.size, random.Random(seed).randbytes(image.width * image.height))
    grain = grain.filter(ImageFilter.GaussianBlur(0.6))  # camera noise is a little blotchy, not per-pixel
    return Image.blend(image, Image.merge("RGB", (grain, grain, grain)), amount)


def moire(image: Image.Image, period: int = 5, angle: float = 7.0) -> Image.Image:
    """Interference of the camera sensor with the pixel grid: faint, slightly rotated dark lines."""
    w, h = image.size
    bands = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(bands)
    shift = h * math.tan(math.radians(angle))
    for x in range(-int(shift) - period, w + period, period):
        d.line((x, 0, x + shift, h), fill=40, width=2)
    bands = bands.filter(ImageFilter.GaussianBlur(1.2))
    return Image.blend(image, Image.merge("RGB", (bands, bands, bands)), 0.22)


def jpeg(image: Image.Image, quality: int = 35) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def photo_of_screen(image: Image.Image, effect: str, seed: int = 0) -> Image.Image:
    """One of PHOTO_EFFECTS applied to a drawn screenshot, as a camera would see it.

    A phone camera photographs a monitor with about two camera pixels per screen pixel (a phone
    screen with a little more than one), so the screenshot is enlarged first and the effect is
    applied at camera resolution.
    """
    width, height = image.size
    camera = 2400 / width if width > height else 1500 / width
    image = image.resize((round(width * camera), round(height * camera)), Image.Resampling.BICUBIC)
    if effect == "skew":
        return skew(image, seed=seed)
    if effect == "blur":
        return image.filter(ImageFilter.GaussianBlur(2.0))
    if effect == "noise":
        return noise(image, seed=seed)
    if effect == "moire":
        return moire(image)
    if effect == "jpeg":
        return jpeg(image)
    raise ValueError(f"unknown effect {effect!r}; one of {PHOTO_EFFECTS}")


def png_bytes(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


# --- more texts from the corpus -------------------------------------------------------------------


def corpus_samples(limit_per_symptom: int = 6) -> tuple[Sample, ...]:
    """Short real texts from ``tests/corpus/*.tsv`` (text, symptom, lang, source), drawn alternately
    as an iPhone alert (first line as the title) and an Outlook dialog. The key is the whole text."""
    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for path in sorted(CORPUS.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
                sample = _corpus_sample(row, len(samples), path.stem)
                if sample is None or seen.get(sample.symptom, 0) >= limit_per_symptom:
                    continue
                seen[sample.symptom] = seen.get(sample.symptom, 0) + 1
                samples.append(sample)
    return tuple(samples)


def _corpus_sample(row: dict[str, str], number: int, stem: str) -> Sample | None:
    text, symptom, lang = ((row.get(k) or "").strip() for k in ("text", "symptom", "lang"))
    text = text.replace("\\n", "\n")
    if not text or symptom in ("", "unknown") or lang not in ("ja", "en") or len(text) > 160:
        return None
    if number % 2 == 0:
        title, _, body = text.partition("\n")
        client = "iphone"
    else:
        title, body, client = ("送受信エラー" if lang == "ja" else "Send/Receive Error"), text, "outlook"
    source = row.get("source") or stem
    return Sample(f"corpus-{stem}-{number}", symptom, lang, client, title, body, text, source)
