"""How the index prints figures: percentages, counts, money, three significant digits."""

from __future__ import annotations

import math

from cxnb import formats
from cxnb.i18n import t

MONEY_KEYS = ("revenue", "mean_clv", "total_clv")


def pct(x: float) -> str:
    """A share as a percentage (one decimal under 10%)."""
    return f"{x:.0%}" if x >= 0.1 else f"{x:.1%}"


def num(x) -> str:
    """A count with thousands separators."""
    return f"{x:,.0f}" if isinstance(x, (int, float)) else str(x)


def finite(value) -> bool:
    """Whether a figure can be printed: not None, a dict or list, NaN or infinite."""
    if value is None or isinstance(value, (dict, list)):
        return False
    return not (isinstance(value, float) and not math.isfinite(value))


def format_value(value, key: str = "", language: str = "en", currency: str | None = None) -> str:
    """How a headline figure is printed in index.html: money in the currency, shares and rates as percentages,
    counts with separators, other figures to three significant digits."""
    if isinstance(value, bool):
        return t("pages.yes" if value else "pages.no", language)
    if isinstance(value, float) and (key.endswith(("share_revenue", "base_rate", "conversion", "concentration"))
                                     or key.startswith("retention.")):
        return formats.percent(value, language)
    if key.endswith(MONEY_KEYS):
        return formats.money(value, currency, language)
    if isinstance(value, int):
        return formats.number(value, language)
    if isinstance(value, float):
        return formats.significant(value, 3, language) if abs(value) < 1000 else formats.number(value, language)
    return str(value)


def rec_model_name(model: str | None, language: str) -> str:
    """A recommendation model's name in a summary sentence."""
    return t(f"summary.model.{model}", language) if model in ("item_cf", "ease") else \
        t(f"rec.model.{model}", language) if model else ""
