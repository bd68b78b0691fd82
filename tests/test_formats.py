"""Numbers as a client reads them, in both report languages."""

from __future__ import annotations

import math

from cxnb import formats


def test_money_uses_the_currency_and_whole_units():
    assert formats.money(1234567.891, "CNY", "zh") == "¥1,234,568"
    assert formats.money(1234567.891, "CNY", "en") == "CN¥1,234,568"
    assert formats.money(876.999619, "GBP", "en", decimals=2) == "£877.00"
    assert formats.money(1234.6, None, "en") == "1,235"


def test_missing_and_impossible_figures_are_a_dash():
    for bad in (None, math.nan, math.inf, -math.inf, "n/a"):
        assert formats.money(bad, "EUR") == formats.percent(bad) == formats.number(bad) == formats.MISSING


def test_shares_counts_and_significant_digits():
    assert formats.percent(0.1234) == "12.3%"
    assert formats.percent(0.5, "zh", decimals=0) == "50%"
    assert formats.number(1234567) == "1,234,567"
    assert formats.significant(1.234567) == "1.23"
    assert formats.significant(0.000123456) == "0.000123"
    assert formats.significant(12345.6) == "12,346"
    assert formats.valid_currency("CNY") and not formats.valid_currency("RMB")
