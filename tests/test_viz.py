"""Tables and segment colours look the same in every report."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd


def test_a_column_format_keeps_the_others_rounded():
    from cxnb.viz import table

    html = table(pd.DataFrame({"spend": [10861.332], "share": [0.15]}), formats={"share": "{:.1%}"}).to_html()
    assert "10,861.33" in html and "15.0%" in html and "10861.332" not in html


def _lab(rgb) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour with channels in 0–1."""
    c = np.asarray(rgb, dtype=float)
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ c
    f = np.cbrt(xyz / [0.95047, 1.0, 1.08883])
    f = np.where(xyz / [0.95047, 1.0, 1.08883] > 0.008856, f, 7.787 * xyz / [0.95047, 1.0, 1.08883] + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_segment_colours_are_clearly_distinct_and_other_is_grey():
    from cxnb.viz import segment_palette

    for k in range(2, 10):
        names = [f"segment {i}" for i in range(k)] + ["other"]
        palette = segment_palette(names)
        labs = [_lab(palette[n]) for n in names]
        closest = min(np.linalg.norm(a - b) for i, a in enumerate(labs) for b in labs[:i])
        assert closest > 30, (k, closest)  # ΔE*ab: seaborn's colorblind orange and vermilion are 26 apart
        lightness = [lab[0] for lab in labs[:-1]]
        assert max(lightness) < 80, lightness  # readable as a label colour on white
    assert np.ptp(segment_palette(["a", "其他"])["其他"]) < 0.01  # 'other' is grey in Chinese too
    assert segment_palette(["a", "b", "c"])["b"] == segment_palette(["a", "b"])["b"]  # a name keeps its colour


def test_every_segment_chart_colours_a_segment_the_same_way():
    matplotlib.use("Agg")
    from cxnb.segment.plots import plot_centroid_heatmap, plot_segment_map, plot_segment_value
    from cxnb.viz import segment_palette

    labels = ["Loyal", "New", "Lapsed", "Bargain"]
    summary = pd.DataFrame({"segment": range(4), "label": labels, "share_customers": [0.4, 0.3, 0.2, 0.1],
                            "share_revenue": [0.5, 0.2, 0.2, 0.1]})
    palette = segment_palette(summary["label"])
    rng = np.random.default_rng(0)
    coords = pd.DataFrame({"pc1": rng.normal(size=40), "pc2": rng.normal(size=40),
                           "segment_name": np.repeat(labels, 10)})
    fig = plot_segment_map(coords, palette)
    in_map = {t.get_text(): matplotlib.colors.to_rgb(h.get_markerfacecolor()) for t, h in
              zip(fig.axes[0].get_legend().get_texts(), fig.axes[0].get_legend().legend_handles, strict=True)}
    centroids = pd.DataFrame(rng.normal(size=(4, 3)), columns=["orders", "spend", "recency"])
    heat = plot_centroid_heatmap(centroids, summary).axes[0].get_xticklabels()
    value = plot_segment_value(summary).axes[0].get_yticklabels()
    for name in labels:
        assert np.allclose(in_map[name], palette[name], atol=0.01)
        assert [matplotlib.colors.to_rgb(t.get_color()) for t in heat if t.get_text() == name] == [palette[name]]
        assert [matplotlib.colors.to_rgb(t.get_color()) for t in value if t.get_text() == name] == [palette[name]]
