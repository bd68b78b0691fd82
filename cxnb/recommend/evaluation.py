"""Offline evaluation: one train/test split, tuning on a validation split of train, every model scored on the test."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxnb.config import RecommendationConfig
from cxnb.constants import COL_CATEGORY, COL_CUSTOMER, COL_ITEM
from cxnb.recommend import defaults
from cxnb.recommend.interactions import Interactions, with_object_ids
from cxnb.recommend.models import Reason, available_models, built_interactions, fit_model, hyperparameter_grid
from cxnb.recommend.ranking import beyond_accuracy_metrics, hit_cells, ranking_metrics
from cxnb.recommend.splits import relevant_items, split_transactions, stratified_split, time_cutoff


def item_categories_of(items: pd.DataFrame | None) -> pd.Series | None:
    """item_id -> category, or None when the items table has no category."""
    if items is None or COL_CATEGORY not in items.columns:
        return None
    return items.drop_duplicates(COL_ITEM).set_index(COL_ITEM)[COL_CATEGORY].astype(str)


def customer_groups(customers: pd.DataFrame | None, column: str | None) -> pd.Series | None:
    """customer_id -> group for group popularity: ``column``, or with ``auto`` the first of segment/region."""
    if customers is None or column is None:
        return None
    if column == "auto":
        column = next((c for c in ("segment", "region") if c in customers.columns), None)
        if column is None:
            return None
    return customers.drop_duplicates(COL_CUSTOMER).set_index(COL_CUSTOMER)[column]


def holdout_split(transactions: pd.DataFrame, config: RecommendationConfig, cutoff: pd.Timestamp | None = None,
               horizon_days: int = 90) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp | None]:
    """The train/test split of the parameters and its cutoff (None for a stratified split)."""
    if config.split == "time":
        cutoff = time_cutoff(transactions, cutoff, horizon_days)
    train, test = split_transactions(transactions, config, cutoff, horizon_days)
    return train, test, cutoff if config.split == "time" else None


def validation_split(train: pd.DataFrame, config: RecommendationConfig,
                     horizon_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A validation split carved from the training data only, by the same method as the test split."""
    if config.split == "stratified":
        return stratified_split(train, config.test_fraction, config.stratify_by, config.seed + 1)
    return split_transactions(train, config, None, horizon_days)


def sample_customers(relevant: pd.DataFrame, seed: int, cap: int | None = None) -> tuple[pd.DataFrame, int | None]:
    """The pairs of a seeded sample of ``cap`` (default ``EVAL_SAMPLE_CUSTOMERS``) customers when there are more
    (else all of them), and the sample size (None when every customer is kept); the sample keeps their order."""
    users = pd.unique(relevant[COL_CUSTOMER])
    cap = cap or defaults.EVAL_SAMPLE_CUSTOMERS
    if len(users) <= cap:
        return relevant, None
    chosen = np.sort(np.random.default_rng(seed).choice(len(users), size=cap, replace=False))
    keep = relevant[COL_CUSTOMER].isin(users[chosen])
    return relevant[keep].reset_index(drop=True), cap


def tune(train: pd.DataFrame, config: RecommendationConfig, models: list[str], horizon_days: int = 90,
         categories=None, groups=None) -> tuple[dict, pd.DataFrame, int | None]:
    """Choose each model's hyperparameters by NDCG@k on a validation split of ``train`` (a seeded sample of
    ``TUNE_SAMPLE_CUSTOMERS`` validation customers when there are more); returns (chosen hyperparameters per model,
    every candidate's validation metrics, the sample size or None when every validation customer was scored)."""
    k = config.top_n
    fit_part, val_part = validation_split(train, config, horizon_days)
    relevant, n_tuned = sample_customers(relevant_items(fit_part, val_part, config.exclude_seen), config.seed + 1,
                                         defaults.TUNE_SAMPLE_CUSTOMERS)
    users = relevant[COL_CUSTOMER].unique()
    rows = []
    grid = hyperparameter_grid(config)
    built = {}
    for name in models:
        for hyper in grid.get(name, [{}]):
            model = fit_model(name, hyper, fit_part, categories, groups, built=built)
            recs = model.recommend(users, k, config.exclude_seen)
            rows.append({"model": name, **hyper, **ranking_metrics(recs, relevant, k)})
    table = pd.DataFrame(rows)
    chosen = {}
    for name in models:
        best = table[table["model"] == name].sort_values(f"ndcg@{k}", ascending=False, kind="stable").iloc[0]
        chosen[name] = {key: _plain(best[key]) for key in grid.get(name, [{}])[0]}
    return chosen, table, n_tuned


def _plain(value):
    """NaN -> None and numpy scalars -> Python scalars (for metrics.json)."""
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


@dataclass
class Evaluation:
    """Offline evaluation of every model on one train/test split (the split is kept for the cold start and the
    events comparison, which use the same one)."""

    k: int
    split: str
    metrics: pd.DataFrame  # one row per model
    chosen: dict  # hyperparameters per model
    validation: pd.DataFrame  # every candidate's validation metrics
    recommendations: dict  # model -> top-k DataFrame on the evaluated customers
    models: dict  # model -> fitted Recommender
    relevant: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame
    skipped: dict[str, Reason] = field(default_factory=dict)  # configured models left out, and why
    info: dict = field(default_factory=dict)
    interactions: Interactions | None = None  # the purchases of ``train`` (no decay), for the cold start

    @property
    def best_model(self) -> str:
        """The model with the highest validation NDCG@k (chosen without looking at the test set)."""
        col = f"ndcg@{self.k}"
        best = self.validation.sort_values(col, ascending=False, kind="stable").iloc[0]
        return str(best["model"])

    def precision_per_customer(self, recommendations: pd.DataFrame) -> np.ndarray:
        """precision@k of each evaluated customer (order of ``relevant``; 0 for a customer without a list)."""
        universe, rec_user, hit, rel_user = hit_cells(recommendations[recommendations["rank"] <= self.k],
                                                      self.relevant)
        hits = np.bincount(rec_user[hit], minlength=len(universe))
        return hits[pd.unique(rel_user)].astype(float) / self.k


def evaluate(train: pd.DataFrame, test: pd.DataFrame, cutoff: pd.Timestamp | None, config: RecommendationConfig,
             categories: pd.Series | None = None, groups: pd.Series | None = None,
             horizon_days: int = 90) -> Evaluation:
    """Tune on a validation split of ``train``, fit every available model on ``train`` and score it on the test
    customers (``cutoff``: the time split's, None for a stratified one)."""
    if train.empty or test.empty:
        raise ValueError("the recommendation split leaves an empty train or test set")
    k = config.top_n
    models, skipped = available_models(config, train[COL_ITEM].nunique(), categories, groups)
    chosen, validation, n_tuned = tune(train, config, models, horizon_days, categories, groups)
    relevant = relevant_items(train, test, config.exclude_seen)
    n_eligible = relevant[COL_CUSTOMER].nunique()
    relevant, n_sampled = sample_customers(relevant, config.seed)
    users = relevant[COL_CUSTOMER].unique()
    fitted, recs, rows, built = {}, {}, [], {}
    for name in models:
        start = time.perf_counter()
        fitted[name] = fit_model(name, chosen[name], train, categories, groups, built=built)
        recs[name] = fitted[name].recommend(users, k, config.exclude_seen)
        seconds = time.perf_counter() - start
        popularity = fitted[name].interactions_.popularity()
        rows.append({"model": name, **ranking_metrics(recs[name], relevant, k),
                     **beyond_accuracy_metrics(recs[name], popularity, categories), "seconds": seconds})
    info = _split_info(train, test) | {
        "n_users_evaluated": int(len(users)), "n_users_eligible": int(n_eligible), "n_users_sampled": n_sampled,
        "exclude_seen": config.exclude_seen, "cutoff": cutoff, "n_users_tuned": n_tuned,
        "item_cf_neighbours": getattr(fitted.get("item_cf"), "neighbours_", None)}
    return Evaluation(k, config.split, pd.DataFrame(rows).set_index("model"), chosen, validation, recs, fitted,
                      relevant, train, test, skipped, info, built_interactions(train, None, built))


def _split_info(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """What the split holds: lines, items, and the test customers and items training never saw."""
    train_items = set(train[COL_ITEM])
    return {"n_train_lines": len(train), "n_test_lines": len(test), "n_items": len(train_items),
            "n_test_customers_without_history": int(
                (~test[COL_CUSTOMER].drop_duplicates().isin(train[COL_CUSTOMER])).sum()),
            "n_test_items_unseen_in_train": int((~test[COL_ITEM].drop_duplicates().isin(train_items)).sum()),
            "n_test_pairs": len(test[[COL_CUSTOMER, COL_ITEM]].drop_duplicates())}


def evaluate_recommenders(transactions: pd.DataFrame, config: RecommendationConfig, items: pd.DataFrame | None = None,
                          customers: pd.DataFrame | None = None, cutoff: pd.Timestamp | None = None,
                          horizon_days: int = 90) -> Evaluation:
    """:func:`evaluate` on the split of the parameters, from the tables (item categories and customer groups
    taken from ``items`` and ``customers``)."""
    transactions, items, customers = (with_object_ids(table) for table in (transactions, items, customers))
    train, test, cutoff = holdout_split(transactions, config, cutoff, horizon_days)
    return evaluate(train, test, cutoff, config, item_categories_of(items),
                    customer_groups(customers, config.popularity_by), horizon_days)

