"""The customer-value stage's client export: ``exports/customer_value.csv``."""

from __future__ import annotations

import pandas as pd

from cxnb.value.pipeline import ValueResult


def value_export(result: ValueResult) -> pd.DataFrame:
    """One row per customer (ids as prepared: pseudonyms when privacy is on), most valuable first; the
    ``p_active`` column only when the backtest shows it ranks buyers at least as well as recency."""
    out = result.customers.copy()
    return out if result.show_p_active else out.drop(columns="p_active")


def export(run, result: ValueResult) -> None:
    """Write ``exports/customer_value.csv`` into the run's exports folder."""
    run.export(value_export(result), "customer_value")
