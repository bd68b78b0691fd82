"""The label and the customer table the models learn from: a time split of the purchases, or a given column."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxnb.constants import COL_CUSTOMER, COL_TIMESTAMP
from cxnb.errors import DataError, StageSkipped
from cxnb.guards import check_population
from cxnb.i18n import Message, t
from cxnb.profile import customer_profiles, share_columns

PROFILE_FEATURES = ["days_since_last_order", "frequency", "avg_order_value", "tenure_days"]
BINARY_DEFAULTS = ({"0", "1"}, {"0.0", "1.0"}, {"false", "true"}, {"no", "yes"})


@dataclass
class PredictionData:
    """Labelled customers (``frame`` of raw features, ``y`` 0/1) and the customers to score; its text (outcome,
    who is scored, notes) as messages, translated where shown."""

    frame: pd.DataFrame
    y: pd.Series
    label_source: str
    outcome: Message
    score_frame: pd.DataFrame
    scored: Message
    notes: list[Message] = field(default_factory=list)


def resolve_label_source(label: str, label_column: str | None, has_transactions: bool, language: str = "en") -> str:
    """``given`` or ``horizon`` from ``analysis.prediction.label`` (``auto``: given when a label column is set)."""
    source = ("given" if label_column else "horizon") if label == "auto" else label
    if source == "given" and not label_column:
        raise StageSkipped(t("bp.skip.given_without_label", language))
    if source == "horizon" and not has_transactions:
        raise StageSkipped(t("bp.skip.no_label", language))
    return source


def _matches(value, positive) -> bool:
    if str(value).strip().lower() == str(positive).strip().lower():
        return True
    try:
        return float(value) == float(positive)
    except (TypeError, ValueError):
        return False


def binary_label(values: pd.Series, column: str, positive=None) -> pd.Series:
    """1 where ``values`` equals ``positive`` (0 elsewhere, missing stays missing); one-line errors otherwise."""
    present = values.dropna()
    found = sorted({str(v).strip() for v in present})
    shown = ", ".join(repr(v) for v in found[:10]) + (", ..." if len(found) > 10 else "")
    if positive is None:
        if {v.lower() for v in found} not in BINARY_DEFAULTS:
            raise DataError(f"label column '{column}' has values {shown}: set data.customers.positive to the "
                            "value that marks a positive customer.")
        positive = next(v for v in found if v.lower() in ("1", "1.0", "true", "yes"))
    hits = present.map(lambda v: _matches(v, positive))
    if not hits.any():
        raise DataError(f"label column '{column}' has no value {positive!r} (data.customers.positive); "
                        f"values found: {shown}.")
    if hits.all():
        raise DataError(f"label column '{column}' has only one value ({shown}); a prediction needs customers of "
                        "both kinds.")
    return hits.astype("int64").reindex(values.index)


def horizon_labels(transactions: pd.DataFrame, cutoff, horizon_days: int) -> pd.Series:
    """1 for customers with an order in [cutoff, cutoff + horizon_days), 0 for the others with history before it."""
    cutoff = pd.Timestamp(cutoff)
    end = cutoff + pd.Timedelta(days=horizon_days)
    ts = transactions[COL_TIMESTAMP]
    codes, customers = pd.factorize(transactions[COL_CUSTOMER], use_na_sentinel=False)
    before, bought = np.zeros(len(customers), dtype=bool), np.zeros(len(customers), dtype=bool)
    before[codes[(ts < cutoff).to_numpy()]] = True
    bought[codes[((ts >= cutoff) & (ts < end)).to_numpy()]] = True
    known = pd.Index(customers[before])
    order = known.argsort()  # the ids' sorted order, as sorted() gives it
    ids = pd.Index(known[order].tolist(), name=COL_CUSTOMER)
    return pd.Series(bought[before][order].astype("int64"), index=ids, name="label")


def profile_features(profiles: pd.DataFrame) -> tuple[pd.DataFrame, list[Message]]:
    """Recency, frequency, average order value, tenure and category shares (one share left out as reference)."""
    shares = share_columns(profiles)
    cols = [COL_CUSTOMER] + [c for c in PROFILE_FEATURES if c in profiles.columns] + shares[1:]
    notes = [Message("bp.note.total_spend")]
    if shares:
        notes.append(Message("bp.note.reference_share", category=shares[0].removeprefix("share_")))
    return profiles[cols].copy(), notes


def _attributes(customers: pd.DataFrame | None, exclude: list[str]) -> pd.DataFrame | None:
    if customers is None:
        return None
    return customers.drop(columns=[c for c in exclude if c in customers.columns])


def _merge(profile: pd.DataFrame | None, attributes: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    out = pd.DataFrame({COL_CUSTOMER: ids})
    for part in (profile, attributes):
        if part is not None:
            out = out.merge(part, on=COL_CUSTOMER, how="left")
    return out


def horizon_dataset(transactions: pd.DataFrame, cutoff, horizon_days: int, items: pd.DataFrame | None = None,
                    customers: pd.DataFrame | None = None) -> PredictionData:
    """Features from history strictly before ``cutoff``; label = bought in the ``horizon_days`` after it."""
    cutoff = pd.Timestamp(cutoff)
    return _horizon_data(horizon_labels(transactions, cutoff, horizon_days),
                         customer_profiles(transactions, items, as_of=cutoff), customer_profiles(transactions, items),
                         customers, cutoff, horizon_days, transactions[COL_TIMESTAMP].max())


def _horizon_data(y: pd.Series, past: pd.DataFrame, now: pd.DataFrame, customers: pd.DataFrame | None,
                  cutoff: pd.Timestamp, horizon_days: int, last: pd.Timestamp) -> PredictionData:
    """The horizon dataset from its label, the profiles before ``cutoff`` (``past``) and over all history
    (``now``, the customers to score) and the time of the ``last`` line."""
    past, notes = profile_features(past)
    notes.insert(0, Message("bp.note.label_horizon", start=cutoff.date(), days=horizon_days, customers=f"{len(y):,}",
                            end=(cutoff + pd.Timedelta(days=horizon_days - 1)).date(),
                            last=(cutoff - pd.Timedelta(days=1)).date()))
    attributes = _attributes(customers, [])
    frame = _merge(past, attributes, y.index)
    now, _ = profile_features(now)
    score_frame = _merge(now, attributes, pd.Index(now[COL_CUSTOMER]))
    end = cutoff + pd.Timedelta(days=horizon_days)
    if last < end - pd.Timedelta(days=1):
        notes.append(Message("bp.note.data_end", last=last.date(), end=end.date()))
    outcome = Message("bp.outcome.horizon", days=horizon_days)
    scored = Message("bp.scored.horizon", customers=f"{len(score_frame):,}", last=last.date(), days=horizon_days)
    return PredictionData(frame, y.reset_index(drop=True), "horizon", outcome, score_frame, scored, notes)


def given_dataset(customers: pd.DataFrame, label: str, positive=None, transactions: pd.DataFrame | None = None,
                  items: pd.DataFrame | None = None) -> PredictionData:
    """Label from a customers-table column; features from the other attributes (and the profile, if any)."""
    if label not in customers.columns:
        raise DataError(f"data.customers.label '{label}' is not a column of the customers table; the columns are: "
                        f"{', '.join(customers.columns)}.")
    y_all = binary_label(customers[label], label, positive)
    notes = [Message("bp.note.label_given", label=label, value=repr(positive))]
    profile = None
    if transactions is not None and not transactions.empty:
        profile, profile_notes = profile_features(customer_profiles(transactions, items))
        notes += profile_notes
    score_frame = _merge(profile, _attributes(customers, [label]), pd.Index(customers[COL_CUSTOMER]))
    known = y_all.notna().to_numpy()
    if not known.all():
        notes.append(Message("bp.note.given_missing", missing=f"{int((~known).sum()):,}", label=label))
    frame = score_frame[known].reset_index(drop=True)
    y = y_all[known].astype("int64").reset_index(drop=True)
    shown = positive if positive is not None else Message("bp.outcome.default_positive")
    outcome = Message("bp.outcome.given", label=label, value=shown)
    scored = Message("bp.scored.given", customers=f"{len(score_frame):,}", label=label, value=shown)
    return PredictionData(frame, y.rename("label"), "given", outcome, score_frame, scored, notes)


def outcome_summary(data: PredictionData) -> Message:
    """One Markdown line for the report: what is predicted, for how many customers, how many are positive."""
    return Message("bp.outcome_line", outcome=data.outcome, customers=f"{len(data.y):,}",
                   positive=f"{data.y.mean():.1%}", source=Message(f"bp.source.{data.label_source}"))


def check_prediction_inputs(run) -> str:
    """The label source for this run (``horizon`` or ``given``); raises StageSkipped when there is none."""
    cfg = run.params.data.customers
    return resolve_label_source(run.params.analysis.prediction.label, cfg.label if cfg else None,
                                run.has("transactions"), run.params.language)


def _run_horizon_dataset(run) -> PredictionData:
    """:func:`horizon_dataset` of a run: the label from the lines' customer and time columns only, the profiles
    aggregated by DuckDB on the prepared file (``Run.profiles``, the same figures)."""
    lines = pd.read_parquet(run.path("transactions"), columns=[COL_CUSTOMER, COL_TIMESTAMP])
    check_population(lines[COL_CUSTOMER].nunique(), run.params)
    cutoff, days = pd.Timestamp(run.cutoff), run.params.analysis.horizon_days
    return _horizon_data(horizon_labels(lines, cutoff, days), run.profiles(cutoff), run.profiles(), run.customers(),
                         cutoff, days, lines[COL_TIMESTAMP].max())


def dataset_from_run(run) -> PredictionData:
    """The labelled customers of a run, as configured in its parameter file."""
    source = check_prediction_inputs(run)
    if source == "horizon":
        return _run_horizon_dataset(run)
    check_population(len(run.customers()), run.params)
    cfg = run.params.data.customers
    return given_dataset(run.customers(), cfg.label, cfg.positive, run.transactions(), run.items())
