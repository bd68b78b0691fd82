"""The customer-journey stage: inputs, one computation per run, and its typed metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import pandas as pd

from cxnb.config import JourneyConfig
from cxnb.constants import COL_CUSTOMER, COL_EVENT, COL_ITEM, COL_TIMESTAMP, PURCHASE
from cxnb.engine import Engine, from_duckdb
from cxnb.errors import StageSkipped
from cxnb.i18n import t
from cxnb.journey.cohorts import average_retention, cohort_counts, lifecycle_counts, retention_table
from cxnb.journey.funnel import Funnel, funnel_by, funnel_table
from cxnb.journey.metrics import JourneyMetrics, metrics_of
from cxnb.journey.paths import top_paths
from cxnb.journey.periods import is_partial, period_index

UNKNOWN_GROUP = "unknown"  # customers or items a group cannot be found for

EVENTS_TABLE = "events"


@dataclass
class JourneyResult:
    """Everything the journey report shows, computed once."""

    period: str
    last_timestamp: pd.Timestamp
    last_period: int
    last_partial: bool
    retention: pd.DataFrame
    average: pd.DataFrame
    lifecycle: pd.DataFrame
    funnel: Funnel | None = None
    steps: pd.DataFrame | None = None
    paths: pd.DataFrame | None = None
    by_group: dict[str, pd.DataFrame] = field(default_factory=dict)
    no_funnel: str | None = None  # why there is no funnel: "purchases_only" or "missing_step"

    @property
    def complete_until(self) -> int:
        """The last period with complete data (the last one is excluded when partial)."""
        return self.last_period - 1 if self.last_partial else self.last_period

    def metrics(self) -> JourneyMetrics:
        """The ``customer_journey`` entry of metrics.json."""
        return metrics_of(self)


def check(run) -> None:
    """Raise StageSkipped unless the run has purchases to build cohorts from."""
    if not run.has("transactions"):
        raise StageSkipped(t("cj.skip.no_transactions", run.params.language))


def events_engine(run) -> Engine:
    """The prepared events (views, carts, favourites, purchases), or the purchases as the only event type."""
    if run.has(EVENTS_TABLE):
        return from_duckdb(run.path(EVENTS_TABLE))
    eng = from_duckdb(run.path("transactions"))
    table = eng.table.mutate(**{COL_EVENT: ibis.literal(PURCHASE)})
    return Engine(table, eng.backend, eng.fetch)


def purchases_engine(run) -> Engine:
    """The prepared purchase lines (every stage counts purchases only)."""
    return from_duckdb(run.path("transactions"))


def _funnel_inputs(events: Engine, funnel: Funnel) -> str | None:
    """None when the log has the events the funnel needs, else why not (a cj.no_funnel.* message)."""
    types = set(events.frame(events.table.select(COL_EVENT).distinct())[COL_EVENT])
    if types <= {PURCHASE}:
        return "purchases_only"
    missing = [s for s in funnel.steps if not set(s) & types]
    return "missing_step" if missing else None


def _category_events(run, events: Engine) -> Engine | None:
    """Events with the item's category attached (None without item ids or an items table with categories)."""
    if not run.has("items") or COL_ITEM not in events.table.columns:
        return None
    items = run.items()
    if items is None or "category" not in items.columns:
        return None
    cats = events.attach(items[[COL_ITEM, "category"]].astype({COL_ITEM: "str", "category": "str"}))
    tx = events.table
    joined = tx.left_join(cats, tx[COL_ITEM].cast("string") == cats[COL_ITEM])
    table = joined.select(COL_CUSTOMER, COL_TIMESTAMP, COL_EVENT, category=joined.category.fill_null(UNKNOWN_GROUP))
    return Engine(table, events.backend, events.fetch)


def _segment_events(run, events: Engine, column: str) -> Engine | None:
    """Events with each customer's segment attached: the RFM segment or a customers-table column."""
    if column == "rfm_segment":
        from cxnb.profile import rfm_scores

        groups = rfm_scores(run.profiles())[[COL_CUSTOMER, "rfm_segment"]]
    else:
        customers = run.customers()
        if customers is None or column not in customers.columns:
            return None
        groups = customers[[COL_CUSTOMER, column]]
    groups = events.attach(groups.astype({COL_CUSTOMER: "str", column: "str"}).rename(columns={column: "segment"}))
    tx = events.table
    joined = tx.left_join(groups, tx[COL_CUSTOMER] == groups[COL_CUSTOMER])
    table = joined.select(tx[COL_CUSTOMER], tx[COL_TIMESTAMP], tx[COL_EVENT], segment=joined.segment.fill_null(UNKNOWN_GROUP))
    return Engine(table, events.backend, events.fetch)


def run_stage(run, config: JourneyConfig | None = None) -> JourneyResult:
    """Retention cohorts and lifecycle for every client with purchases; the funnel and top paths where the
    log has behaviour events."""
    check(run)
    config = config or run.params.analysis.journey
    period, min_size = config.cohort_period, run.params.privacy.min_group_size
    purchases = purchases_engine(run)
    last = pd.Timestamp(purchases.frame(purchases.table.aggregate(last=purchases.table[COL_TIMESTAMP].max()))["last"].iloc[0])
    last_period = int(purchases.frame(purchases.table.aggregate(p=period_index(
        purchases.table[COL_TIMESTAMP], period).max()))["p"].iloc[0])
    retention = retention_table(cohort_counts(purchases, period), last_period)
    retention = retention[retention["cohort_customers"] >= min_size].reset_index(drop=True)
    partial = is_partial(last_period, period, last)
    result = JourneyResult(period, last, last_period, partial, retention,
                           average_retention(retention, last_period - 1 if partial else last_period),
                           lifecycle_counts(purchases, period))
    events = events_engine(run)
    funnel = Funnel(tuple(tuple(s) for s in config.funnel), config.conversion_window_days)
    result.no_funnel = _funnel_inputs(events, funnel)
    if result.no_funnel is None:
        result.funnel = funnel
        result.steps = funnel_table(events, funnel)
        result.paths = top_paths(events)
        by_category = _category_events(run, events)
        if by_category is not None:
            result.by_group["category"] = funnel_by(by_category, funnel, "category", min_size)
        by_segment = _segment_events(run, events, config.segment_by) if config.segment_by else None
        if by_segment is not None:
            result.by_group["segment"] = funnel_by(by_segment, funnel, "segment", min_size)
    return result
