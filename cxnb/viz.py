"""One look for every chart: theme, palettes and small plotting helpers shared by the notebooks."""

from __future__ import annotations

import logging

import matplotlib as mpl
import seaborn as sns

PALETTE = "colorblind"
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"


def cjk_font_name() -> str:
    """Register the Noto Sans CJK SC font shipped with the ``mplfonts`` package; returns its family name."""
    from importlib.resources import files

    from matplotlib import font_manager

    path = str(files("mplfonts") / "fonts" / CJK_FONT_FILE)
    if path not in {f.fname for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


def set_theme() -> None:
    """The kit's seaborn/matplotlib theme (readable on a projector and in print)."""
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # no bold CJK face: regular is fine
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook", font_scale=1.05)
    mpl.rcParams.update({
        # Latin text in DejaVu Sans; any glyph it lacks (Chinese, Japanese, Korean) falls back to Noto Sans CJK.
        "font.family": ["DejaVu Sans", cjk_font_name()],
        "axes.unicode_minus": False,
        "figure.figsize": (8, 4.5),
        "figure.dpi": 100,
        "savefig.bbox": "tight",
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
    })


# Segment colours: hues far apart (no two oranges), all dark enough for a label on white; 'other' is grey.
SEGMENT_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e7298a", "#bcbd22", "#17becf"]
OTHER_COLOUR = "#8c8c8c"


def segment_palette(names) -> dict:
    """One colour per segment name, in the order given (the segment table's), grey for the 'other' group: every
    segment chart of a report calls this with the same names and so colours each segment the same way."""
    from cxnb.i18n import t

    others = {t("common.other", lang) for lang in ("en", "zh")}
    names = [n for n in dict.fromkeys(names) if n not in others]
    colours = SEGMENT_COLOURS if len(names) <= len(SEGMENT_COLOURS) else sns.color_palette("husl", len(names))
    palette = {name: mpl.colors.to_rgb(colour) for name, colour in zip(names, colours, strict=False)}
    return palette | {other: mpl.colors.to_rgb(OTHER_COLOUR) for other in others}


def colour_segment_labels(labels, palette: dict) -> None:
    """Tick labels naming a segment drawn in that segment's colour (bold), as in the segment map."""
    for label in labels:
        if label.get_text() in palette:
            label.set_color(palette[label.get_text()])
            label.set_fontweight("bold")


def table(df, formats: dict | None = None, precision: int = 2, index: bool = False):
    """A DataFrame styled the same way in every report: text left-aligned, numbers right, no row numbers; every
    cell and header is HTML-escaped (Styler does not escape by default and values come from client data)."""
    per_column = {c: (formats or {}).get(c) for c in df.columns}  # one call: a second .format resets the others
    styler = df.style.format(per_column, precision=precision, thousands=",", na_rep="–", escape="html")
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    text_cols = [c for c in df.columns if not str(df[c].dtype).startswith(("int", "float", "Int", "Float"))]
    styler = styler.set_properties(subset=text_cols, **{"text-align": "left"})
    styler = styler.set_table_styles([{"selector": "th", "props": [("text-align", "left")]}])
    return styler if index else styler.hide(axis="index")


def heat_table(df, fmt: str = "{:.0%}", cmap: str = "Blues"):
    """A matrix of shares shaded by value (one colour scale for the whole table), escaped like :func:`table`."""
    return table(df, formats=dict.fromkeys(df.columns, fmt), index=True).background_gradient(axis=None, cmap=cmap)


def percent_axes(*axes) -> None:
    """Ticks of shares (0–1) shown as percentages (0%, 20%, …) on each given matplotlib axis."""
    from matplotlib.ticker import PercentFormatter

    for axis in axes:
        axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


def axes_or_new(ax=None, size: tuple[float, float] = (8, 4.5)):
    """``ax``, or the axes of a new figure of ``size`` inches (the ``ax=None`` convention of every plot)."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    return ax
