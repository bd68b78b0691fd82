"""Funnels: customers who take each step in order within a conversion window, and who ever took it.

Every count is a grouped aggregate run by the engine holding the events; only one row per step reaches pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from cxnb.constants import COL_CUSTOMER, COL_EVENT, COL_TIMESTAMP
from cxnb.engine import Engine

DEFAULT_FUNNEL = (("view",), ("cart", "favourite"), ("purchase",))
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Funnel:
    """Steps (each a set of event types that count for it) and the conversion window in days."""

    steps: tuple[tuple[str, ...], ...] = DEFAULT_FUNNEL
    window_days: float = 7.0

    @property
    def names(self) -> list[str]:
        return [" / ".join(step) for step in self.steps]


def _step_times(events: ibis.Table, funnel: Funnel, keys: list[str]) -> ibis.Table:
    """Per ``keys`` (a customer, or a customer and group): the first time of step 1, then of each later step
    after the previous one, within the window from step 1."""
    def of_step(step):
        e = events.filter(events[COL_EVENT].isin(list(step)))
        return e.select(_ts=e[COL_TIMESTAMP], **{f"_k{j}": e[k] for j, k in enumerate(keys)})

    first = of_step(funnel.steps[0])
    out = first.group_by([first[f"_k{j}"].name(k) for j, k in enumerate(keys)]).aggregate(t0=first._ts.min())
    out = out.mutate(deadline=out.t0 + ibis.interval(seconds=int(funnel.window_days * 86_400)))
    for i, step in enumerate(funnel.steps[1:], 1):
        e = of_step(step)
        on = [out[k] == e[f"_k{j}"] for j, k in enumerate(keys)]
        joined = out.left_join(e, [*on, e._ts >= out[f"t{i - 1}"], e._ts <= out.deadline])
        out = joined.group_by(list(out.columns)).aggregate(**{f"t{i}": joined._ts.min()})
    return out


def _counts(events: ibis.Table, funnel: Funnel, by: list[str]) -> ibis.Table:
    """Per group (or overall): customers reaching each step in order, median hours from step 1, customers who
    ever took each step, and events of each step."""
    n = len(funnel.steps)
    times = _step_times(events, funnel, [COL_CUSTOMER, *by])
    hours = {f"h{i}": ((times[f"t{i}"].epoch_seconds() - times.t0.epoch_seconds()) / 3600).median()
             for i in range(1, n)}
    ordered = {f"c{i}": times[f"t{i}"].notnull().sum() for i in range(n)}
    flags = {f"ever{i}": events[COL_EVENT].isin(list(step)).cast("int8").max() for i, step in enumerate(funnel.steps)}
    ever = events.group_by([COL_CUSTOMER, *by]).aggregate(**flags)
    ever_counts = {f"e{i}": ever[f"ever{i}"].sum() for i in range(n)}
    event_counts = {f"n{i}": events[COL_EVENT].isin(list(step)).cast("int64").sum()
                    for i, step in enumerate(funnel.steps)}
    if not by:
        return [times.aggregate(**ordered, **hours), ever.aggregate(**ever_counts), events.aggregate(**event_counts)]
    return [times.group_by(by).aggregate(**ordered, **hours), ever.group_by(by).aggregate(**ever_counts),
            events.group_by(by).aggregate(**event_counts)]


def funnel_table(engine: Engine, funnel: Funnel) -> pd.DataFrame:
    """One row per step: customers in order within the window, step and overall conversion with a 95% Wilson
    interval, median hours from step 1, customers who ever took the step, and events of the step."""
    parts = [engine.frame(expr).iloc[0].to_dict() for expr in _counts(engine.table, funnel, [])]
    return _with_rates(parts[0] | parts[1] | parts[2], funnel)


def funnel_by(engine: Engine, funnel: Funnel, column: str, min_customers: int = 1) -> pd.DataFrame:
    """The funnel per value of ``column`` (a column of the events table), long form; groups whose first step
    has fewer than ``min_customers`` customers are left out."""
    ordered, ever, events = (engine.frame(expr) for expr in _counts(engine.table, funnel, [column]))
    merged = ordered.merge(ever, on=column, how="outer").merge(events, on=column, how="outer")
    merged = merged[merged["c0"].fillna(0) >= min_customers]
    tables = [_with_rates(row, funnel).assign(**{column: row[column]}) for row in merged.to_dict("records")]
    if not tables:
        return pd.DataFrame(columns=[column, "step", "name", "customers", "overall_conversion"])
    return pd.concat(tables, ignore_index=True).sort_values([column, "step"], ignore_index=True)


def _with_rates(row: dict, funnel: Funnel) -> pd.DataFrame:
    """The step table from the aggregated counts, with intervals."""
    rows = []
    entered = _count(row, "c0")
    for i, name in enumerate(funnel.names):
        customers = _count(row, f"c{i}")
        previous = _count(row, f"c{i - 1}") if i else customers
        step_rate, step_lo, step_hi = _rate(customers, previous)
        overall, lo, hi = _rate(customers, entered)
        hours = row.get(f"h{i}") if i else 0.0
        rows.append({"step": i + 1, "name": name, "event_types": list(funnel.steps[i]), "customers": customers,
                     "step_conversion": step_rate, "step_ci_low": step_lo, "step_ci_high": step_hi,
                     "overall_conversion": overall, "overall_ci_low": lo, "overall_ci_high": hi,
                     "drop_off": previous - customers, "median_hours_from_start": _finite(hours),
                     "ever_customers": _count(row, f"e{i}"), "events": _count(row, f"n{i}")})
    table = pd.DataFrame(rows)
    table["events_per_first_step_event"] = table["events"] / max(int(table["events"].iloc[0]), 1)
    return table


def _count(row: dict, key: str) -> int:
    value = row.get(key)
    return 0 if value is None or pd.isna(value) else int(value)


def _rate(k: int, n: int) -> tuple[float, float, float]:
    """Share k/n with its 95% Wilson interval (NaN when n is 0)."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    lo, hi = proportion_confint(k, n, alpha=1 - CONFIDENCE, method="wilson")
    return k / n, float(lo), float(hi)


def _finite(value) -> float:
    """A float, NaN for a missing value."""
    return float("nan") if value is None or pd.isna(value) else float(value)
