"""One look for every chart: palettes, labels, percent axes and the matplotlib settings.

Colours are the Okabe-Ito palette (distinguishable with every common colour-vision deficiency);
maps and heatmaps use ColorBrewer's RdBu, diverging at the target (red below it, blue above),
which ColorBrewer marks as colour-blind safe.

Labels and formats here serve the text report too, so this module imports matplotlib only inside
the functions that draw.

References
----------
.. [1] Okabe, M. and Ito, K. (2008). Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
.. [2] Harrower, M. and Brewer, C. A. (2003). ColorBrewer.org: an online tool for selecting colour
   schemes for maps. The Cartographic Journal 40(1), 27-37.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Okabe-Ito colours, black first dropped: blue, orange, bluish green, vermillion, sky blue,
#: reddish purple, yellow, grey.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
    "#999999",
)
TECH_COLORS: dict[str, str] = {
    "any": PALETTE[0],
    "terminal": PALETTE[1],
    "agent": PALETTE[2],
    "both": PALETTE[5],
}
TARGET_COLOR = "black"
#: Prior (every draw counted equally) against posterior (draws weighted by the observations).
PRIOR_COLOR = "#767676"
POSTERIOR_COLOR = PALETTE[0]
#: One marker per scenario or series, so that colour is never the only cue.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
DIVERGING = "RdBu"
SEQUENTIAL = "cividis"
MISSING_COLOR = "#DDDDDD"

TECH_LABELS: dict[str, str] = {
    "terminal": "AI terminals",
    "agent": "AI agents",
    "any": "AI terminals or agents",
    "both": "AI terminals and agents (both)",
}
#: What each reading of "penetration" counts (the opinion does not define it).
METRIC_LABELS: dict[str, str] = {
    "population": "all people",
    "internet_users": "internet users",
    "firms": "firms (by count)",
    "firm_employment": "firms (by employment)",
}
#: Observed series of sim/data/observations.csv, as a chart legend names them.
SERIES_LABELS: dict[str, str] = {
    "genai_users_share": "CNNIC: generative-AI users",
    "firms_started_ai_agents_share": "IDC survey: firms that started using AI agents",
    "ai_pc_share_of_shipments_cn": "AI PCs, share of PCs shipped (China)",
    "ai_phone_share_of_shipments_cn": "AI phones, share of phones shipped (China)",
    "genai_phone_share_of_shipments_global": "GenAI phones, share of phones shipped (world)",
}
KEY_AREA_LABELS: dict[str, str] = {
    "science": "Science",
    "industry": "Industry",
    "consumption": "Consumption",
    "livelihood": "Livelihood",
    "governance": "Governance",
    "global_cooperation": "Global cooperation",
}
SECTOR_LABELS: dict[str, str] = {
    "agriculture": "Agriculture",
    "mining": "Mining",
    "manufacturing": "Manufacturing",
    "utilities": "Utilities",
    "construction": "Construction",
    "wholesale_retail": "Wholesale & retail",
    "transport_logistics": "Transport & logistics",
    "accommodation_catering": "Hotels & catering",
    "information_software": "Information & software",
    "finance": "Finance",
    "real_estate": "Real estate",
    "leasing_business": "Leasing & business services",
    "research_technical": "Research & technical services",
    "environment_public_facilities": "Environment & public facilities",
    "resident_services": "Resident services",
    "education": "Education",
    "health_social_work": "Health & social work",
    "culture_sports_entertainment": "Culture, sports & entertainment",
    "public_administration": "Public administration",
}

RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
}


def label(key: str, table: dict[str, str]) -> str:
    """Readable label of a coordinate value; unknown values keep their name, underscores spaced."""
    return table.get(key, key.replace("_", " "))


_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}
#: A Chinese numeral standing alone (no other CJK character next to it) is a section number of
#: the opinion: ``三(九)``, ``二(二)3``, ``section 三``; ``统一`` or ``一体化`` are words.
_SECTION = re.compile(r"(?<![\u3400-\u9fff])[一二三四五六七八九十]+(?![\u3400-\u9fff])")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
#: How the report and the charts cite the opinion's sections, said once in the report.
SECTION_NOTE = (
    "Sections of the opinion (Guofa [2025] No. 11) are cited by number in the charts and the "
    "text alike: §3.9 is section 三(九) of the original, §2.2.3 is 二(二)3."
)


def _cjk_number(text: str) -> int:
    """``'九'`` -> 9, ``'十四'`` -> 14, ``'二十'`` -> 20 (up to 99)."""
    if "十" not in text:
        return _NUMERALS[text]
    tens, _, units = text.partition("十")
    return 10 * (_NUMERALS[tens] if tens else 1) + (_NUMERALS[units] if units else 0)


def section_numbers(text: str) -> str:
    """The opinion's section numbers written in Chinese numerals as ``§`` numbers, the one
    convention of charts and text (no CJK font is assumed where a chart is drawn):
    ``'Compute vouchers (三(九))'`` -> ``'Compute vouchers (§3.9)'``, ``'二(二)3'`` ->
    ``'§2.2.3'``, ``'all of 二 and 三'`` -> ``'all of §2 and §3'``; other text is left alone."""
    out = _SECTION.sub(lambda m: f"§{_cjk_number(m.group())}", text)
    return re.sub(
        r"§(\d+)\(§(\d+)\)(\d*)", lambda m: f"§{m[1]}.{m[2]}" + (f".{m[3]}" if m[3] else ""), out
    )


def cite_sections(document: str) -> str:
    """A report's text with :func:`section_numbers`, ending in :data:`SECTION_NOTE` when it
    cites a section."""
    out = section_numbers(document).rstrip() + "\n"
    return out + f"\n{SECTION_NOTE}\n" if "§" in out else out


def plain(text: str) -> str:
    """A scenario title as the charts can print it: :func:`section_numbers`, and any other CJK
    character dropped, ``'AI for science (二(一))'`` -> ``'AI for science (§2.1)'``."""
    return re.sub(r"\s+", " ", _CJK.sub("", section_numbers(text))).strip()


def pct(x: float, *, decimals: int = 0) -> str:
    """``0.705`` -> ``'70%'`` (NaN -> ``'n/a'``)."""
    return "n/a" if x != x else f"{100 * x:.{decimals}f}%"


def pp(x: float, *, decimals: int = 1) -> str:
    """A change in a share as signed percentage points, zero unsigned: ``0.075`` -> ``'+7.5'``,
    ``-0.0001`` -> ``'0.0'``."""
    text = f"{100 * x:+.{decimals}f}"
    return f"{0:.{decimals}f}" if float(text) == 0 else text


def percent_axis(ax: Axes, which: str = "y", *, decimals: int = 0) -> None:
    """Label an axis holding shares in [0, 1] as percentages."""
    from matplotlib.ticker import PercentFormatter

    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))


def year_axis(ax: Axes) -> None:
    """Label a time axis by year, each year's name in the middle of its span."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(NullFormatter())
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=7, bymonthday=1))
    ax.xaxis.set_minor_formatter(mdates.DateFormatter("%Y"))
    ax.tick_params(axis="x", which="minor", length=0)


def styled(figsize: tuple[float, float]) -> Callable:
    """Decorator for chart functions: the house settings, and new Axes when ``ax`` is None.

    The settings apply while the chart is drawn only, so a notebook's own style is left alone.
    """

    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def chart(*args: Any, ax: Axes | None = None, **kwargs: Any) -> Axes:
            import matplotlib as mpl

            if ax is None:
                # Outside the rc_context: pyplot may pick its backend now (in Jupyter, the inline
                # one switches interactive mode on), and leaving the context would undo that.
                import matplotlib.pyplot as plt

                _, ax = plt.subplots(figsize=figsize, layout="constrained")
            with mpl.rc_context(RC):
                ax.spines[["top", "right"]].set_visible(False)
                ax.grid(True, color=RC["grid.color"], linewidth=RC["grid.linewidth"])
                ax.set_axisbelow(True)
                ax.tick_params(labelsize=RC["xtick.labelsize"])
                return fn(*args, ax=ax, **kwargs)

        return chart

    return wrap
