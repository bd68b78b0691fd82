"""Numbers as a client reads them: money in the report's currency, shares as percentages, counts with the
thousands separators of the report language (Babel's CLDR data), and a dash where a figure does not exist."""

from __future__ import annotations

import math

from babel.numbers import format_currency, format_decimal, format_percent, is_currency

LOCALES = {"en": "en_US", "zh": "zh_CN"}
MISSING = "–"


def _locale(language: str) -> str:
    return LOCALES.get(language, "en_US")


def _exists(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def valid_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency code Babel knows."""
    return is_currency(code)


def money(value, currency: str | None, language: str = "en", decimals: int = 0) -> str:
    """'¥1,234,568' / 'CN¥1,234,568' (whole units in text; ``decimals=2`` in tables); a plain number without a
    currency."""
    if not _exists(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    if not currency:
        return format_decimal(value, format=pattern, locale=_locale(language))
    return format_currency(value, currency, format="¤" + pattern, locale=_locale(language), currency_digits=False)


def percent(value, language: str = "en", decimals: int = 1) -> str:
    """A share as a percentage: 0.1234 → '12.3%'."""
    if not _exists(value):
        return MISSING
    return format_percent(value, format="#,##0" + ("." + "0" * decimals if decimals else "") + "%",
                          locale=_locale(language))


def number(value, language: str = "en", decimals: int = 0) -> str:
    """A count or measure with thousands separators: 1234567 → '1,234,567'."""
    if not _exists(value):
        return MISSING
    return format_decimal(value, format="#,##0" + ("." + "0" * decimals if decimals else ""), locale=_locale(language))


def significant(value, digits: int = 3, language: str = "en") -> str:
    """A ratio or coefficient to ``digits`` significant digits, no trailing zeros: 1.23456 → '1.23'."""
    if not _exists(value):
        return MISSING
    value = float(value)
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "")
    return format_decimal(round(value, decimals), format=pattern, locale=_locale(language))
