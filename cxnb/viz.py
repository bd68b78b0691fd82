"""One look for every chart: theme, palettes and small plotting helpers shared by the notebooks."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

PALETTE = "colorblind"


def set_theme() -> None:
    """The kit's seaborn/matplotlib theme (readable on a projector and in print)."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook", font_scale=1.05)
    mpl.rcParams.update({
        "figure.figsize": (8, 4.5),
        "figure.dpi": 100,
        "savefig.bbox": "tight",
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
    })


def segment_palette(names) -> dict:
    """One fixed colour per segment name, the same in every chart of a report."""
    names = list(dict.fromkeys(names))
    colours = sns.color_palette(PALETTE, n_colors=max(len(names), 1))
    return dict(zip(names, colours, strict=False))
