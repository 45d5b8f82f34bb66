"""Text from a picture of an error: phone screenshots, desktop dialogs, photos of a screen.

Tesseract is called as a command (``tesseract``, Debian packages ``tesseract-ocr tesseract-ocr-jpn``)
rather than through a binding: one fewer dependency, and a hung run is bounded by a subprocess timeout.
Pillow opens and prepares the image: only the formats people send from phones and PCs are accepted,
the pixel count is checked before decoding (decompression bombs), dark mode is inverted, small
pictures are enlarged, and a phone alert box is cropped out of the dimmed screen behind it.

Everything that goes wrong is an ``OcrError`` with a bilingual message a person can act on; no
traceback reaches a user. Which preprocessing helps was measured with ``benchmarks/ocr.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import time
import unicodedata
import warnings
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

from bot.model import Lang, Text
from bot.text import detect_lang

MAX_BYTES = 5_000_000
# A phone screenshot is 1-4 megapixels; a 40-megapixel photo is still fine, beyond that it is abuse.
MAX_PIXELS = 40_000_000
TIMEOUT_S = 30.0
LANGUAGES = "jpn+eng"
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-jpn"
PSM_AUTO, PSM_BLOCK = 3, 6  # Tesseract page segmentation: find the layout / one uniform block

_PILLOW_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# Tesseract reads best when text is about 30-40 px tall; phone screenshots at 3x already are,
# thumbnails and desktop screenshots at 100 % are not.
_PHONE_WIDTH = 1170
_DESKTOP_1X_MAX = 2000
_MAX_SIDE = 4000


class OcrError(Exception):
    """A picture could not be read; ``message`` says why and what to do, in both languages."""

    def __init__(self, message: Text) -> None:
        super().__init__(f"{message.ja} / {message.en}")
        self.message = message


class NotAnImage(OcrError):
    """The bytes are not a picture at all (empty, random, a document)."""


class UnsupportedImage(OcrError):
    """A picture or document type that is not accepted (PDF, ZIP, TIFF, HEIC without pillow-heif)."""


class ImageTooLarge(OcrError):
    """Too many bytes or too many pixels."""


class TesseractMissing(OcrError):
    """The ``tesseract`` command (or its Japanese model) is not installed."""


class OcrTimeout(OcrError):
    """Tesseract did not finish in time."""


class OcrFailed(OcrError):
    """Tesseract ran but failed."""


@dataclass(frozen=True)
class OcrResult:
    text: str  # cleaned: lines kept, spaces between Japanese characters removed, error codes repaired
    lang_hint: Lang | None  # None when no text was found
    ms: float
    confidence: float | None = None  # Tesseract's mean word confidence 0..1, None without words
    steps: tuple[str, ...] = ()  # preprocessing applied, e.g. ("crop", "invert", "upscale")


# --- formats --------------------------------------------------------------------------------------


@cache
def _heif_available() -> bool:
    """Whether pillow-heif is installed (it registers the HEIC decoder with Pillow once)."""
    try:
        import pillow_heif  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def supported_types() -> tuple[str, ...]:
    """The picture types ``read_image`` accepts; HEIC only when pillow-heif is installed."""
    names = ("PNG", "JPEG", "GIF", "WebP")
    return (*names, "HEIC") if _heif_available() else names


_MIMETYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jpg": "JPEG", "image/gif": "GIF",
               "image/webp": "WebP", "image/heic": "HEIC", "image/heif": "HEIC"}  # fmt: skip


def accepts_mimetype(mimetype: str) -> bool:
    """Whether a file announced with this MIME type (e.g. by Slack) is worth downloading and reading."""
    kind = _MIMETYPES.get(mimetype.split(";", 1)[0].strip().lower())
    return kind is not None and kind in supported_types()


# Headers of things people attach instead of a picture, so the answer can name what was sent.
_KNOWN_HEADERS: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP / Office"),
    (b"\xd0\xcf\x11\xe0", "Office"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"<svg", "SVG"),
    (b"<?xml", "XML / SVG"),
)


def _sniff(data: bytes) -> str | None:
    for header, name in _KNOWN_HEADERS:
        if data.startswith(header):
            return name
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc", b"avif"):
        return "HEIC"
    return None


def _supported_text() -> str:
    return ", ".join(supported_types())


def _unsupported(kind: str) -> UnsupportedImage:
    types = _supported_text()
    hint = ""
    if kind == "HEIC":
        hint = " (pip install pillow-heif)"
    return UnsupportedImage(
        Text(
            ja=f"{kind} は読み取れません。画像は {types} で送ってください{hint}。",
            en=f"{kind} files cannot be read. Please send a picture as {types}{hint}.",
        )
    )


def _not_an_image(why_ja: str, why_en: str) -> NotAnImage:
    types = _supported_text()
    return NotAnImage(
        Text(
            ja=f"{why_ja}画像は {types} で送ってください。",
            en=f"{why_en} Please send a picture as {types}.",
        )
    )


def _too_large(what_ja: str, what_en: str) -> ImageTooLarge:
    return ImageTooLarge(
        Text(
            ja=f"画像が大きすぎます（{what_ja}）。スクリーンショットをそのまま送ってください。",
            en=f"The picture is too large ({what_en}). Please send the screenshot as it is.",
        )
    )


def open_image(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode an accepted picture, checking size before the pixels are decoded."""
    if not data:
        raise _not_an_image("ファイルが空です。", "The file is empty.")
    if len(data) > max_bytes:
        raise _too_large(f"{len(data) / 1e6:.1f} MB、上限 {max_bytes / 1e6:.1f} MB",
                         f"{len(data) / 1e6:.1f} MB, limit {max_bytes / 1e6:.1f} MB")  # fmt: skip
    kind = _sniff(data)
    formats = _PILLOW_FORMATS + (("HEIF",) if _heif_available() else ())
    if kind and (kind != "HEIC" or "HEIF" not in formats):
        raise _unsupported(kind)
    try:
        with warnings.catch_warnings():
            # Pillow only warns below 2x its own limit; our limit is checked just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=formats)
    except Image.DecompressionBombError:
        raise _too_large("画素数が多すぎます", "too many pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _not_an_image("画像として読めません。", "This is not a picture that can be read.") from None
    width, height = image.size
    if width * height > max_pixels:
        raise _too_large(f"{width}×{height} 画素", f"{width}×{height} pixels")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError):
        raise _not_an_image("画像が壊れています。", "The picture is damaged or incomplete.") from None
    return image


# --- preprocessing --------------------------------------------------------------------------------


def _flatten(image: Image.Image) -> Image.Image:
    """Grey levels on a white background (transparent PNGs would otherwise turn black)."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        # 16-bit PNGs (some screenshot tools): convert("L") would clip every level above 255 to white.
        image = image.convert("I").point(lambda v: v / 256)
    return image.convert("L")


def _is_dark(gray: Image.Image) -> bool:
    """Dark mode: most pixels are dark, so the text is light."""
    return float(ImageStat.Stat(gray).median[0]) < 110


def find_alert_box(gray: Image.Image) -> tuple[int, int, int, int] | None:
    """The inside of a centred phone alert that stands out from the dimmed screen, if there is one.

    An iOS or Android alert is a flat panel, lighter (light mode) or lighter grey (dark mode) than the
    dimmed screen behind it. Its level is the commonest grey in the middle of the screen; the panel is
    the band of rows around the middle where many pixels have that level, and within it the columns
    that mostly do. Desktop dialogs and photos usually return None, and the whole picture is read.
    """
    width, height = gray.size
    if height < width * 1.3 or width < 200:  # not a portrait phone screen
        return None
    step = 4
    small = gray.resize((width // step, height // step), Image.Resampling.BOX)
    sw, sh = small.size
    data = small.tobytes()
    level = _panel_level(data, sw, sh)
    near = bytes(1 if abs(v - level) <= 6 else 0 for v in data)
    rows = [sum(near[y * sw : (y + 1) * sw]) / sw for y in range(sh)]
    top, bottom = _band(rows, sh // 2, threshold=0.3, gap=max(2, sh // 60))
    if bottom - top < sh * 0.06 or (top, bottom) == (0, sh - 1):
        return None
    band = range(top, bottom + 1)
    cols = [sum(near[y * sw + x] for y in band) / len(band) for x in range(sw)]
    left, right = _band(cols, sw // 2, threshold=0.5, gap=max(2, sw // 40))
    if not sw * 0.4 <= right - left <= sw * 0.95:
        return None
    inset = 2  # a few pixels inside the rounded edge, so its outline is not read as "|" or "l"
    return ((left + inset) * step, (top + inset) * step, (right - inset) * step, (bottom - inset) * step)


def _panel_level(data: bytes, width: int, height: int) -> int:
    """The commonest grey level in the central fifth of the screen (text is sparse, the panel is not)."""
    counts = [0] * 256
    for y in range(height * 2 // 5, height * 3 // 5):
        for v in data[y * width + width * 2 // 5 : y * width + width * 3 // 5]:
            counts[v] += 1
    return max(range(256), key=counts.__getitem__)


def _band(values: list[float], middle: int, *, threshold: float, gap: int) -> tuple[int, int]:
    """The run of indexes around ``middle`` whose value passes ``threshold``, bridging short gaps
    (lines of text inside the panel lower the share of panel-coloured pixels for a few rows)."""
    lo = hi = middle
    misses = 0
    while lo > 0 and misses <= gap:
        lo -= 1
        misses = 0 if values[lo] >= threshold else misses + 1
    lo += misses
    misses = 0
    while hi < len(values) - 1 and misses <= gap:
        hi += 1
        misses = 0 if values[hi] >= threshold else misses + 1
    hi -= misses
    return lo, hi


def prepare(
    image: Image.Image, *, crop: bool = True, binarise: bool | None = None
) -> tuple[Image.Image, tuple[str, ...]]:
    """Turn a screenshot or photo into dark text on white at a size Tesseract reads well."""
    gray = _flatten(image)
    factor = scale_factor(gray.size)
    steps: list[str] = []
    box = find_alert_box(gray) if crop else None
    if box:
        gray = gray.crop(box)
        steps.append("crop")
    if _is_dark(gray):
        gray = ImageOps.invert(gray)
        steps.append("invert")
    if factor != 1:
        size = (max(1, round(gray.width * factor)), max(1, round(gray.height * factor)))
        gray = gray.resize(size, Image.Resampling.LANCZOS)
        steps.append("upscale" if factor > 1 else "downscale")
    gray = ImageOps.autocontrast(gray, cutoff=1)
    cut = bool(box) if binarise is None else binarise
    if cut:
        # On a cropped phone alert, Tesseract's own threshold let moiré and camera noise through
        # (benchmarks/ocr.py photos: 4 Japanese alerts misread without this cut, 0 with it); on a
        # whole desktop screen the cut lost blurred text (3 more misses), so there it is left to Tesseract.
        gray = gray.point(_BINARY)
        steps.append("binarise")
    return gray, tuple(steps)


_BINARY = [0 if v <= 140 else 255 for v in range(256)]


def scale_factor(size: tuple[int, int]) -> float:
    """How much to enlarge so body text is ~30-40 px tall, judged from the whole screen's size.

    A phone screenshot is 3x (1170-1290 px wide) or 2x (750-828); thumbnails are smaller. A desktop
    screenshot at 100 % is 1280-1920 px wide with 15 px text. Enlarging text that is already large
    made Tesseract worse (measured: 失敗しました read as "失敗し中した" at 2x), so only small text grows.
    """
    width, height = size
    if height >= width * 1.3:
        factor = min(4.0, _PHONE_WIDTH / width) if width < _PHONE_WIDTH * 0.85 else 1.0
    else:
        factor = 2.0 if width <= _DESKTOP_1X_MAX else 1.0
    if max(width, height) * factor > _MAX_SIDE:
        factor = _MAX_SIDE / max(width, height)
    return factor


# --- running tesseract ----------------------------------------------------------------------------


def find_tesseract(tesseract: str = "tesseract") -> str | None:
    """The path of the tesseract command, or None."""
    if os.sep in tesseract:
        return tesseract if os.access(tesseract, os.X_OK) else None
    return shutil.which(tesseract)


def available(tesseract: str = "tesseract") -> bool:
    """Whether pictures can be read here (the command exists; models are checked when it runs)."""
    return find_tesseract(tesseract) is not None


def _missing(what: str = "Tesseract") -> TesseractMissing:
    return TesseractMissing(
        Text(
            ja=f"画像の文字を読み取る機能が使えません（{what} が入っていません）。管理者の方は `{INSTALL_HINT}` を実行してください。"
            "それまではエラーの文字を手で入力してください。",
            en=f"Reading pictures is unavailable ({what} is not installed). Admins: run `{INSTALL_HINT}`. "
            "Until then, please type the error text.",
        )
    )


def run_tesseract(png: bytes, *, tesseract: str = "tesseract", psm: int = 6, timeout: float = TIMEOUT_S,
                  languages: str = LANGUAGES) -> str:  # fmt: skip
    """Tesseract's TSV output for one PNG given on stdin."""
    path = find_tesseract(tesseract)
    if path is None:
        raise _missing()
    # One OpenMP thread: measured ~3x faster (0.9 s vs 2.5 s per screenshot) on a shared 2-core machine.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    command = [path, "stdin", "stdout", "-l", languages, "--psm", str(psm), "tsv"]
    try:
        done = subprocess.run(command, input=png, capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise OcrTimeout(
            Text(
                ja=f"画像の読み取りが {timeout:.0f} 秒で終わりませんでした。エラーの部分だけを切り取って送ってください。",
                en=f"Reading the picture took longer than {timeout:.0f} s. Please send just the error part.",
            )
        ) from None
    except OSError:
        raise _missing() from None
    stderr = done.stderr.decode("utf-8", "replace")
    if "Failed loading language" in stderr or "Error opening data file" in stderr:
        raise _missing("Tesseract の日本語・英語データ / Tesseract language data")
    if done.returncode != 0:
        last = stderr.strip().splitlines()[-1:] or ["?"]
        raise OcrFailed(
            Text(
                ja=f"画像を読み取れませんでした（{last[0][:120]}）。",
                en=f"Could not read the picture ({last[0][:120]}).",
            )
        )
    return done.stdout.decode("utf-8", "replace")


def parse_tsv(tsv: str) -> tuple[str, float | None]:
    """Lines of text and the mean word confidence (0..1) from Tesseract's TSV output."""
    lines: dict[tuple[str, str, str, str], list[str]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        lines.setdefault((cols[1], cols[2], cols[3], cols[4]), []).append(cols[11])
        with contextlib.suppress(ValueError):
            confidences.append(float(cols[10]))
    text = "\n".join(" ".join(words) for words in lines.values())
    confidence = sum(confidences) / len(confidences) / 100 if confidences else None
    return text, confidence


# --- cleaning the text ----------------------------------------------------------------------------

_JA = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60\u3000-\u303f"
_JA_SPACE = re.compile(rf"(?<=[{_JA}]) +(?=[{_JA}])")
_KATAKANA = re.compile(r"[\u30a1-\u30fa\u30fc]")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Tesseract's Japanese model reads the long-vowel mark as the kanji 一 or a dash (サ一バ), and some
# katakana as the kanji they resemble (口グイン, ア力ウント). Only fixed where the neighbours are
# katakana and not kanji, so 入力エラー and メール一覧 stay as they are.
_LONG_VOWEL_LOOKALIKES = frozenset("一—-")
_KATAKANA_LOOKALIKES = {"口": "ロ", "力": "カ", "工": "エ", "夕": "タ", "卜": "ト", "二": "ニ", "八": "ハ"}


# Whole-word misreadings seen in the benchmark (バ read as パ): only where no real word is meant.
_WORD_FIXES = (("サーパ", "サーバ"), ("プロパイダ", "プロバイダ"))


def _fix_kana(line: str) -> str:
    chars = list(line)
    for i, char in enumerate(chars):
        before = chars[i - 1] if i else ""
        after = line[i + 1] if i + 1 < len(line) else ""
        if _KANJI.match(after) or _KANJI.match(before):
            continue
        if char in _LONG_VOWEL_LOOKALIKES and _KATAKANA.match(before):
            chars[i] = "ー"
        elif char in _KATAKANA_LOOKALIKES and (_KATAKANA.match(before) or _KATAKANA.match(after)):
            chars[i] = _KATAKANA_LOOKALIKES[char]
    fixed = "".join(chars)
    for wrong, right in _WORD_FIXES:
        fixed = fixed.replace(wrong, right)
    return fixed


# Outlook / Windows Mail codes: 0x800CCC0E read as Ox8OOCCCOE, 0x800CCC0E read as 0×800CCC0E ...
_HEX_LIKE = re.compile(r"(?<![0-9A-Za-z])[0Oo][xX×][0-9A-Fa-fOoIlS]{8}(?![0-9A-Za-z])")
_HEX_FIX = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "S": "5", "×": "X"})


def _fix_hex(match: re.Match[str]) -> str:
    code = match.group(0).translate(_HEX_FIX)
    return "0x" + code[2:].upper()


def clean(text: str) -> str:
    """Undo the usual OCR noise so the text reads like what was on the screen."""
    text = _HEX_LIKE.sub(_fix_hex, unicodedata.normalize("NFKC", text))
    lines = (_fix_kana(_JA_SPACE.sub("", line).strip()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _lang_hint(text: str) -> Lang | None:
    return detect_lang(text) if text.strip() else None


# --- the entry point ------------------------------------------------------------------------------


def read_image(data: bytes, *, max_bytes: int = MAX_BYTES, tesseract: str = "tesseract",
               timeout: float = TIMEOUT_S, crop: bool = True, binarise: bool | None = None,
               psm: int | None = None, languages: str = LANGUAGES) -> OcrResult:  # fmt: skip
    """The text of an error screenshot, or an ``OcrError`` that says what to do."""
    started = time.perf_counter()
    image = open_image(data, max_bytes=max_bytes)  # a wrong file gets its own answer even without Tesseract
    if not available(tesseract):
        raise _missing()
    try:
        prepared, steps = prepare(image, crop=crop, binarise=binarise)
    except (OSError, ValueError, SyntaxError):  # e.g. broken EXIF orientation data
        raise _not_an_image("画像が壊れています。", "The picture is damaged or incomplete.") from None
    buffer = io.BytesIO()
    prepared.save(buffer, format="PNG")
    if psm is None:  # a cropped alert is one block of text; a whole screen has columns to find
        psm = PSM_BLOCK if "crop" in steps else PSM_AUTO
    tsv = run_tesseract(buffer.getvalue(), tesseract=tesseract, psm=psm, timeout=timeout, languages=languages)
    raw, confidence = parse_tsv(tsv)
    text = clean(raw)
    ms = (time.perf_counter() - started) * 1000
    return OcrResult(text=text, lang_hint=_lang_hint(text), ms=ms, confidence=confidence, steps=steps)
