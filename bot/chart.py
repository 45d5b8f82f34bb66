"""The weekly chart (PNG): incidents per day by symptom, and the uptime of each watched server.

matplotlib is imported only when a chart is drawn (it is slow to import and the CLI must start fast),
with the Agg backend and no pyplot, so drawing in a server thread touches no GUI or global figure state.
Japanese labels need a Japanese font: Noto Sans CJK from Debian's fonts-noto-cjk, found through
matplotlib's font list or at its usual paths. Without one the chart is drawn with English labels only,
never with empty boxes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.model import SYMPTOM_IDS, Lang, Text

if TYPE_CHECKING:
    from bot.summary import WeeklyReport

WIDTH_PX, HEIGHT_PX, DPI = 1200, 800, 100
JAPANESE_FAMILIES = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic")
# Where Debian and Ubuntu put fonts-noto-cjk (first face of the .ttc is the JP one).
KNOWN_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
_WEEKDAYS_JA = "月火水木金土日"
_TEXT = {
    "cases": Text("1日ごとの相談件数（症状別）", "Incidents per day by symptom"),
    "uptime": Text("監視中のサーバーの稼働率（1日ごと, %）", "Watched servers: uptime per day (%)"),
    "no_cases": Text("この週の相談はありません", "No incidents this week"),
    "no_servers": Text("監視中のサーバーはありません", "No watched servers"),
    "count": Text("件数", "cases"),
}


def japanese_font() -> str | None:
    """The family name of an installed Japanese font that matplotlib can use, or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for family in JAPANESE_FAMILIES:
        if family in names:
            return family
    for path in KNOWN_FONT_FILES:
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


def render_png(report: WeeklyReport, path: Path, *, lang: Lang | None = None) -> Path:
    """Draw the chart to ``path`` (WIDTH_PX × HEIGHT_PX); the file appears whole or not at all."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    family = japanese_font()
    if family is None:
        lang = "en"  # no Japanese glyphs available: English only rather than empty boxes
    families = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        cases_ax, uptime_ax = figure.subplots(2, 1, gridspec_kw={"height_ratios": [3, 2]})
        days = _day_labels(report, lang)
        _draw_cases(cases_ax, report, days, lang)
        _draw_uptime(uptime_ax, report, days, lang)
        figure.subplots_adjust(left=0.06, right=0.72, top=0.88, bottom=0.07, hspace=0.4)
        figure.suptitle(_title(report, lang), fontsize=14)
        temporary = path.with_name(path.name + ".tmp")
        figure.savefig(temporary, dpi=DPI, format="png")
    os.replace(temporary, path)
    return path


def _t(key: str, lang: Lang | None) -> str:
    text = _TEXT[key]
    return text.get(lang) if lang else f"{text.ja} / {text.en}"


def _title(report: WeeklyReport, lang: Lang | None) -> str:
    from bot.summary import label, period_label

    return f"{label('title', lang)}  {period_label(report)}"


def _day_labels(report: WeeklyReport, lang: Lang | None) -> list[str]:
    if lang == "en":
        return [f"{d:%a} {d.month}/{d.day}" for d in report.days]
    return [f"{d.month}/{d.day}({_WEEKDAYS_JA[d.weekday()]})" for d in report.days]


def _colour(symptom: str) -> Any:
    from matplotlib import colormaps

    index = SYMPTOM_IDS.index(symptom) if symptom in SYMPTOM_IDS else len(SYMPTOM_IDS) - 1
    return colormaps["tab20"](index % 20)


def _draw_cases(ax: Any, report: WeeklyReport, days: list[str], lang: Lang | None) -> None:
    ax.set_title(_t("cases", lang), loc="left", fontsize=12)
    symptoms = list(report.incidents.by_symptom)
    bottom = [0] * len(days)
    for symptom in symptoms:
        counts = [day.get(symptom, 0) for day in report.daily]
        name = report.title_of(symptom, lang or "ja")
        ax.bar(days, counts, bottom=bottom, color=_colour(symptom), label=_shorten(name), width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    if symptoms:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    else:
        ax.bar(days, bottom, width=0.7)  # keeps the day axis
        ax.text(0.5, 0.5, _t("no_cases", lang), transform=ax.transAxes, ha="center", va="center", fontsize=12)
    ax.set_ylabel(_t("count", lang) if lang else _TEXT["count"].ja)
    ax.set_ylim(0, max([*bottom, 1]) * 1.15)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)


def _draw_uptime(ax: Any, report: WeeklyReport, days: list[str], lang: Lang | None) -> None:
    ax.set_title(_t("uptime", lang), loc="left", fontsize=12)
    positions = list(range(len(days)))
    for server in report.servers:
        values = [float("nan") if v is None else v for v in server.daily_uptime_pct]
        ax.plot(positions, values, marker="o", label=server.host)
    if report.servers:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    else:
        ax.text(
            0.5, 0.5, _t("no_servers", lang), transform=ax.transAxes, ha="center", va="center", fontsize=12
        )
    ax.set_xticks(positions, days)
    ax.set_xlim(-0.5, len(days) - 0.5)
    ax.set_ylim(0, 105)
    ax.grid(axis="y", alpha=0.3)


def _shorten(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
