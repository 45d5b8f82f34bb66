"""The weekly chart: a real PNG of the expected size, drawn with a Japanese font (no missing glyphs:
pytest turns matplotlib's missing-glyph warning into an error)."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.chart import HEIGHT_PX, WIDTH_PX, japanese_font, render_png
from bot.knowledge import load
from bot.store import Store
from bot.summary import WeeklyReport, build_weekly
from tests.storedata import NOW
from tests.test_summary import fill

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def cjk_font() -> str:
    """The Japanese font from fonts-noto-cjk; CI must have it, a developer's machine may skip."""
    family = japanese_font()
    if family is None:
        message = "no Japanese font: apt-get install fonts-noto-cjk"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return family


def weekly(db_path: Path, *, filled: bool) -> WeeklyReport:
    knowledge = load(Path(__file__).resolve().parent.parent / "knowledge")
    with Store(db_path) as store:
        if filled:
            fill(store)
        return build_weekly(store, now=NOW, tz=TOKYO, knowledge=knowledge)


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


@pytest.mark.parametrize("lang", [None, "ja", "en"], ids=["bilingual", "japanese", "english"])
def test_chart_png_has_expected_size(db_path: Path, tmp_path: Path, cjk_font: str, lang: str | None) -> None:
    """The fixed week's chart is a PNG of WIDTH_PX × HEIGHT_PX in every language setting."""
    out = render_png(weekly(db_path, filled=True), tmp_path / "weekly.png", lang=lang)  # type: ignore[arg-type]
    assert out.exists()
    assert png_size(out) == (WIDTH_PX, HEIGHT_PX) == (1200, 800)
    assert not (tmp_path / "weekly.png.tmp").exists()


def test_empty_week_still_draws(db_path: Path, tmp_path: Path, cjk_font: str) -> None:
    """A fresh database gives a chart too (with 'no incidents' and 'no watched servers' notes)."""
    out = render_png(weekly(db_path, filled=False), tmp_path / "empty.png")
    assert png_size(out) == (1200, 800)


def test_chart_has_colour_where_incidents_are(db_path: Path, tmp_path: Path, cjk_font: str) -> None:
    """Bars are really drawn: the filled week has many more non-white pixels than the empty one."""
    full = render_png(weekly(db_path, filled=True), tmp_path / "full.png")
    empty = render_png(weekly(tmp_path / "other.db", filled=False), tmp_path / "empty.png")

    def coloured(path: Path) -> int:
        with Image.open(path) as image:
            hsv = image.convert("RGB").convert("HSV")
            saturation = hsv.getchannel("S").histogram()
            return sum(saturation[80:])  # pixels with clear colour (grey text and axes have none)

    assert coloured(full) > 10 * max(1, coloured(empty))


def test_japanese_font_is_a_noto_cjk_face(cjk_font: str) -> None:
    """The font found is a CJK face that matplotlib can render Japanese with."""
    assert "CJK" in cjk_font or "JP" in cjk_font or "Gothic" in cjk_font
