"""Reading errors from pictures: screenshots the tests draw, photos of a screen, and bad files.

Tesseract is real (``tesseract-ocr tesseract-ocr-jpn``); without it these tests skip locally and fail
under CI=true. The error-file tests need no Tesseract: a wrong file gets its answer first.
"""

from __future__ import annotations

import io
import json
import os
import random
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot import ocr
from bot.text import normalise
from tests.cli_run import run_cli
from tests.screenshots import SAMPLES, Sample, draw, draw_iphone, photo_of_screen, png_bytes
from tests.servers.binaries import require_binary

pytestmark = pytest.mark.ocr

BY_ID = {s.id: s for s in SAMPLES}


@pytest.fixture(scope="module")
def tesseract() -> str:
    """The real tesseract command (skip locally / fail under CI=true when it is missing)."""
    return require_binary("tesseract", "tesseract-ocr tesseract-ocr-jpn tesseract-ocr-eng")


def read(data: bytes, tesseract: str, **kwargs: object) -> ocr.OcrResult:
    return ocr.read_image(data, tesseract=tesseract, **kwargs)  # type: ignore[arg-type]


def assert_read(sample: Sample, result: ocr.OcrResult) -> None:
    assert normalise(sample.key) in normalise(result.text), f"{sample.key!r} not in {result.text!r}"


# --- drawn screenshots ----------------------------------------------------------------------------

SCREENSHOTS = [
    ("iphone-auth-ja", False),
    ("iphone-auth-ja", True),
    ("iphone-auth-en", False),
    ("iphone-cert-en", True),
    ("iphone-cert-ja", False),
    ("iphone-send-ja", True),
    ("outlook-connect-ja", False),
    ("outlook-connect-ja", True),
    ("outlook-auth-en", False),
    ("outlook-timeout-en", True),
    ("outlook-dns-ja", True),
    ("thunderbird-inuse-en", False),
]


@pytest.mark.parametrize(
    ("sample_id", "dark"), SCREENSHOTS, ids=[f"{i}-{'dark' if d else 'light'}" for i, d in SCREENSHOTS]
)
def test_reads_the_key_phrase_of_a_drawn_screenshot(tesseract: str, sample_id: str, dark: bool) -> None:
    """The phrase a person would quote comes out of an iPhone alert or desktop dialog, light or dark."""
    sample = BY_ID[sample_id]
    result = read(png_bytes(draw(sample, dark=dark)), tesseract)
    assert_read(sample, result)
    assert result.lang_hint == sample.lang
    assert result.confidence is not None and 0 < result.confidence <= 1


def test_iphone_alert_is_cropped_and_dark_mode_inverted(tesseract: str) -> None:
    """A dark iPhone alert is cut out of the dimmed inbox and inverted; the inbox behind is not read."""
    sample = BY_ID["iphone-connect-en"]
    result = read(png_bytes(draw(sample, dark=True)), tesseract)
    assert result.steps[:2] == ("crop", "invert")
    assert_read(sample, result)
    assert "sender" not in result.text and "Inbox" not in result.text


def test_small_screenshot_is_enlarged(tesseract: str) -> None:
    """A 1x iPhone screenshot (390 px wide, as Slack thumbnails are) is enlarged and still read."""
    sample = BY_ID["iphone-auth-en"]
    result = read(png_bytes(draw_iphone(sample, dark=False, scale=1)), tesseract)
    assert "upscale" in result.steps
    assert_read(sample, result)


PHOTOS = [
    ("skew", "outlook-auth-en"),
    ("blur", "iphone-auth-ja"),
    ("noise", "outlook-connect-ja"),
    ("moire", "iphone-cert-en"),
    ("jpeg", "thunderbird-auth-en"),
]


@pytest.mark.parametrize(("effect", "sample_id"), PHOTOS, ids=[f"{e}-{i}" for e, i in PHOTOS])
def test_reads_a_photo_of_a_screen(tesseract: str, effect: str, sample_id: str) -> None:
    """A phone photo of the screen (skewed, blurred, noisy, moiré, heavy JPEG) still gives the key phrase."""
    sample = BY_ID[sample_id]
    photo = photo_of_screen(draw(sample), effect, seed=1)
    assert_read(sample, read(png_bytes(photo, "JPEG"), tesseract))


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP"], ids=["jpeg", "gif", "webp"])
def test_reads_every_supported_format(tesseract: str, fmt: str) -> None:
    """JPEG, GIF and WebP screenshots are read like PNG."""
    sample = BY_ID["outlook-auth-ja"]
    assert_read(sample, read(png_bytes(draw(sample), fmt), tesseract))


def test_transparent_png_is_read_on_white(tesseract: str) -> None:
    """Black text on a transparent background (a cut-out) does not turn into black on black."""
    sample = BY_ID["outlook-connect-en"]
    image = draw(sample).convert("RGBA")
    image.putalpha(image.convert("L").point(lambda v: 255 - v))  # white becomes transparent
    assert_read(sample, read(png_bytes(image), tesseract))


def test_a_picture_without_text_gives_empty_text(tesseract: str) -> None:
    """A blank picture is not an error: the text is empty and there is no language."""
    result = read(png_bytes(Image.new("RGB", (800, 600), "white")), tesseract)
    assert (result.text, result.lang_hint, result.confidence) == ("", None, None)


# --- files that are not screenshots ---------------------------------------------------------------


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("error.txt", "0x800CCC0E")
    return buffer.getvalue()


def _truncated_png() -> bytes:
    return png_bytes(draw(BY_ID["iphone-auth-en"]))[:5000]


BAD_FILES = [
    ("empty", b"", ocr.NotAnImage, "空"),
    ("random", random.Random(7).randbytes(4096), ocr.NotAnImage, "PNG, JPEG, GIF, WebP"),
    ("text", "0x800CCC0E サーバーに接続できません".encode(), ocr.NotAnImage, "画像として読めません"),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", ocr.UnsupportedImage, "PDF"),
    ("zip", _zip_bytes(), ocr.UnsupportedImage, "ZIP"),
    ("tiff", b"II*\x00" + bytes(64), ocr.UnsupportedImage, "TIFF"),
    ("truncated-png", _truncated_png(), ocr.NotAnImage, "壊れています"),
]


@pytest.mark.parametrize(("data", "error", "says"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_a_wrong_file_gets_a_clear_error(data: bytes, error: type[ocr.OcrError], says: str) -> None:
    """Empty, random, text, PDF, ZIP, TIFF and broken files each get a bilingual answer naming the fix."""
    with pytest.raises(error) as caught:
        ocr.read_image(data, tesseract="/nonexistent/tesseract")
    message = caught.value.message
    assert says in str(caught.value)
    assert message.ja and message.en and "PNG" in str(caught.value)


def test_too_many_bytes_is_refused_before_decoding() -> None:
    """A file over max_bytes is refused with its size and the limit."""
    data = png_bytes(draw(BY_ID["iphone-auth-en"]))
    with pytest.raises(ocr.ImageTooLarge, match=r"limit 0\.1 MB"):
        ocr.read_image(data, max_bytes=100_000)


def test_too_many_pixels_is_refused_before_decoding() -> None:
    """A small file that decodes to a huge picture (a decompression bomb) is refused, not decoded."""
    bomb = png_bytes(Image.new("1", (12_000, 12_000)))
    assert len(bomb) < ocr.MAX_BYTES
    with pytest.raises(ocr.ImageTooLarge, match="12000×12000"):
        ocr.read_image(bomb)


HEIC_HEADER = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"


def test_heic_screenshot_is_read_when_pillow_heif_is_installed(tesseract: str) -> None:
    """An iPhone HEIC picture is decoded by pillow-heif and read like a PNG."""
    if "HEIC" not in ocr.supported_types():
        pytest.skip("pillow-heif is not installed: pip install -e '.[heic]'")
    sample = BY_ID["iphone-auth-en"]
    result = read(png_bytes(draw(sample), "HEIF"), tesseract)
    assert_read(sample, result)


def test_heic_is_refused_with_the_fix_or_broken_header_is_not_an_image() -> None:
    """Without pillow-heif, HEIC is refused naming pillow-heif; with it, a bare header is a broken picture."""
    if "HEIC" in ocr.supported_types():
        with pytest.raises(ocr.NotAnImage):
            ocr.read_image(HEIC_HEADER)
    else:
        with pytest.raises(ocr.UnsupportedImage, match="pillow-heif"):
            ocr.read_image(HEIC_HEADER)


# --- without Tesseract, and when it misbehaves ----------------------------------------------------


def test_without_tesseract_reading_is_unavailable_and_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With no tesseract on PATH, available() is False and read_image names the apt-get command."""
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not ocr.available()
    with pytest.raises(ocr.TesseractMissing) as caught:
        ocr.read_image(png_bytes(draw(BY_ID["iphone-auth-en"])))
    assert "apt-get install tesseract-ocr tesseract-ocr-jpn" in str(caught.value)
    assert "手で入力" in caught.value.message.ja


def test_a_tesseract_path_that_does_not_exist_is_unavailable(tmp_path: Path) -> None:
    """The binary can be given as a path; a missing one makes available() False."""
    assert not ocr.available(str(tmp_path / "tesseract"))


def test_available_with_the_real_binary(tesseract: str) -> None:
    """With tesseract installed, available() is True by name and by path."""
    assert ocr.available() and ocr.available(tesseract)
    assert os.path.isabs(ocr.find_tesseract() or "")


def test_missing_language_data_is_reported_as_not_installed(tesseract: str) -> None:
    """A language model that is not installed gives the install hint, not Tesseract's stderr."""
    with pytest.raises(ocr.TesseractMissing, match="language data"):
        read(png_bytes(draw(BY_ID["iphone-auth-en"])), tesseract, languages="zzz")


def test_a_slow_run_times_out(tesseract: str) -> None:
    """Tesseract is stopped at the time limit (loading the Japanese model alone takes longer)."""
    with pytest.raises(ocr.OcrTimeout, match="Reading the picture took longer"):
        read(png_bytes(draw(BY_ID["outlook-connect-ja"])), tesseract, timeout=0.001)


# --- cleaning OCR text ----------------------------------------------------------------------------

CLEANING = [
    ("hex-letter-o", "エラー (Ox8OOCCCOE) を報告", "エラー (0x800CCC0E) を報告"),
    ("hex-times-sign", "error 0×800ccc92 reported", "error 0x800CCC92 reported"),
    ("hex-l-for-1", "0x800CCCl9", "0x800CCC19"),
    ("kanji-one-as-long-vowel", "サ一バ一に接続できません", "サーバーに接続できません"),
    ("kanji-mouth-as-ro", "口グインに失敗", "ログインに失敗"),
    ("kanji-power-as-ka", "アカウント力ード", "アカウントカード"),
    ("spaces-between-japanese", "パス ワード が 正しく あり ません", "パスワードが正しくありません"),
    ("english-spaces-kept", "Cannot  Get Mail", "Cannot  Get Mail"),
    ("blank-lines-dropped", "\n\nCannot Get Mail\n   \nOK\n", "Cannot Get Mail\nOK"),
    ("kanji-one-kept-in-kanji", "一時的にロックされています", "一時的にロックされています"),
    ("kanji-one-kept-before-kanji", "メール一覧を開く", "メール一覧を開く"),
    ("kanji-power-kept-after-kanji", "入力エラー", "入力エラー"),
    ("spaced-long-vowel", "サ 一 バ 一 に接続", "サーバーに接続"),
    ("dash-as-long-vowel", "メ-ルを受信できません", "メールを受信できません"),
    ("kanji-craft-as-e", "工ラーが発生しました", "エラーが発生しました"),
    ("pa-for-ba", "レンタルサーパーのプロパイダ", "レンタルサーバーのプロバイダ"),
    ("word-not-a-code", "Ox is not a code: Oxford", "Ox is not a code: Oxford"),
]


@pytest.mark.parametrize(("raw", "cleaned"), [c[1:] for c in CLEANING], ids=[c[0] for c in CLEANING])
def test_clean_undoes_ocr_noise(raw: str, cleaned: str) -> None:
    """Error codes, katakana look-alikes and spaces between Japanese characters are repaired."""
    assert ocr.clean(raw) == cleaned


def test_parse_tsv_joins_words_per_line_and_averages_confidence() -> None:
    """Tesseract's TSV rows become lines of words and a 0..1 confidence; empty words are ignored."""
    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tCannot",
        "5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\tGet",
        "5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t70\tMail",
        "5\t1\t1\t1\t2\t2\t0\t0\t1\t1\t-1\t ",
        "4\t1\t1\t1\t3\t0\t0\t0\t1\t1\t-1\t",
    ]
    text, confidence = ocr.parse_tsv("\n".join([head, *rows]))
    assert text == "Cannot Get\nMail"
    assert confidence == pytest.approx(0.8)


# --- mailcheck diagnose --image -------------------------------------------------------------------


@pytest.fixture
def screenshot_file(tmp_path: Path) -> Path:
    """An Outlook 0x800CCC92 dialog (dark mode) saved as a PNG file."""
    path = tmp_path / "outlook.png"
    draw(BY_ID["outlook-auth-ja"], dark=True).save(path)
    return path


def test_cli_diagnoses_a_screenshot_as_json(tesseract: str, screenshot_file: Path) -> None:
    """--image --json diagnoses the text read from the picture and adds it as ocr_text."""
    result = run_cli("diagnose", "--image", str(screenshot_file), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["symptom"] == "auth_failed"
    assert "0x800CCC92" in data["ocr_text"]
    assert data["lang"] == "ja"


def test_cli_shows_what_it_read_first(tesseract: str, screenshot_file: Path) -> None:
    """The human reply starts with the text read, so the person can correct a misreading."""
    result = run_cli("diagnose", "--image", str(screenshot_file))
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("読み取った文字 / Text read: ") and "0x800CCC92" in first


def test_cli_without_tesseract_says_so_in_one_line(tmp_path: Path, screenshot_file: Path) -> None:
    """With no tesseract on PATH: one Error line with the install command, exit 2, no traceback."""
    result = run_cli("diagnose", "--image", str(screenshot_file), env={"PATH": str(tmp_path)})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "apt-get install tesseract-ocr tesseract-ocr-jpn" in result.stderr


CLI_BAD = [
    ("pdf", ["doc.pdf"], b"%PDF-1.4\n", "PDF"),
    ("missing-file", ["nothing.png"], None, "cannot read"),
    ("text-and-image", ["shot.png", "0x800CCC0E"], b"", "not both"),
]


@pytest.mark.parametrize(("args", "content", "says"), [c[1:] for c in CLI_BAD], ids=[c[0] for c in CLI_BAD])
def test_cli_refuses_a_wrong_image_argument(
    tmp_path: Path, args: list[str], content: bytes | None, says: str
) -> None:
    """A PDF, a missing file, or TEXT together with --image: one Error line, exit 2."""
    if content is not None:
        (tmp_path / args[0]).write_bytes(content)
    rest = args[1:]
    result = run_cli("diagnose", "--image", str(tmp_path / args[0]), *rest)
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr


MIMETYPES = [
    ("image/png", True),
    ("image/jpeg", True),
    ("IMAGE/WEBP; charset=binary", True),
    ("image/gif", True),
    ("application/pdf", False),
    ("image/tiff", False),
    ("text/plain", False),
    ("", False),
]


@pytest.mark.parametrize(("mimetype", "accepted"), MIMETYPES, ids=[m[0] or "empty" for m in MIMETYPES])
def test_accepts_mimetype_of_supported_pictures_only(mimetype: str, accepted: bool) -> None:
    """Slack's file MIME types: pictures we can read are accepted, documents and TIFF are not."""
    assert ocr.accepts_mimetype(mimetype) is accepted


def test_heic_mimetype_follows_pillow_heif() -> None:
    """image/heic is accepted exactly when HEIC can be decoded."""
    assert ocr.accepts_mimetype("image/heic") is ("HEIC" in ocr.supported_types())


def _sixteen_bit(image: Image.Image) -> Image.Image:
    return Image.eval(image.convert("L").convert("I"), lambda v: v * 257).convert("I;16")


MODES = [
    ("16-bit-png", _sixteen_bit, "PNG"),
    ("cmyk-jpeg", lambda im: im.convert("CMYK"), "JPEG"),
    ("grey-png", lambda im: im.convert("L"), "PNG"),
]


@pytest.mark.parametrize(("convert", "fmt"), [m[1:] for m in MODES], ids=[m[0] for m in MODES])
def test_reads_unusual_pixel_modes(tesseract: str, convert: object, fmt: str) -> None:
    """16-bit PNG, CMYK JPEG and greyscale screenshots are cropped and read like RGB ones."""
    sample = BY_ID["iphone-auth-en"]
    image = convert(draw(sample))  # type: ignore[operator]
    result = read(png_bytes(image, fmt), tesseract)
    assert "crop" in result.steps
    assert_read(sample, result)
