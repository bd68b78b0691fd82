"""The stage: tuning on a validation split, evaluation on the test period, the final lists, the metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxnb.config import RecommendationConfig
from cxnb.constants import (
    COL_CATEGORY,
    COL_CUSTOMER,
    COL_ITEM,
    COL_NAME,
    COL_RATING,
)
from cxnb.errors import StageSkipped
from cxnb.guards import check_population
from cxnb.i18n import t
from cxnb.recommend import defaults
from cxnb.recommend.defaults import (
    EASE_ITEM_LIMIT,
    EASE_LAMBDA_GRID,
    HALF_LIFE_GRID,
    MMR_LAMBDAS,
    SIMILARITIES,
)
from cxnb.recommend.explain import explain
from cxnb.recommend.interactions import (
    build_interactions,
    check_recommendation_inputs,
    id_index,
    with_object_ids,
)
from cxnb.recommend.metrics import beyond_accuracy_metrics, ranking_metrics
from cxnb.recommend.models import EASE, CategoryPopularity, ItemItemCF, Popularity, Recommender
from cxnb.recommend.rerank import accuracy_diversity_curve, mmr_rerank
from cxnb.recommend.splits import relevant_items, split_transactions, stratified_split, time_cutoff

if TYPE_CHECKING:
    from cxnb.recommend.decision import Decision
    from cxnb.recommend.events import EventsComparison


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


def make_model(name: str, hyper: dict, categories: pd.Series | None = None,
               groups: pd.Series | None = None) -> Recommender:
    """One of ``popularity``, ``popularity_group``, ``category``, ``item_cf``, ``ease`` with its hyperparameters;
    CF models fall back to the category model (else popularity) for customers without history."""
    fallback = CategoryPopularity(categories) if categories is not None else Popularity()
    if name == "popularity":
        return Popularity()
    if name == "popularity_group":
        return Popularity(groups)
    if name == "category":
        return CategoryPopularity(categories)
    if name == "item_cf":
        return ItemItemCF(hyper["similarity"], cold_start=fallback)
    if name == "ease":
        return EASE(hyper["ease_lambda"], cold_start=fallback)
    raise ValueError(f"unknown recommendation model {name!r}")


def fit_model(name: str, hyper: dict, train: pd.DataFrame, categories=None, groups=None,
              events: pd.DataFrame | None = None, event_weights: dict[str, float] | None = None,
              built: dict | None = None) -> Recommender:
    """Build the interactions this model uses (decay only for item_cf; behaviour ``events`` with their
    ``event_weights`` when given) and fit it; ``built`` keeps the interactions of ``train`` by half-life for
    the next model (without events)."""
    half_life = hyper.get("half_life_days") if name == "item_cf" else None
    if built is None or events is not None:
        inter = build_interactions(train, half_life_days=half_life, events=events, event_weights=event_weights)
    else:
        if half_life not in built:
            built[half_life] = build_interactions(train, half_life_days=half_life)
        inter = built[half_life]
    return make_model(name, hyper, categories, groups).fit(inter)


def available_models(config: RecommendationConfig, n_items: int, categories, groups,
                     language: str = "en") -> tuple[list[str], dict]:
    """Models to compare on this data, and why (in ``language``) any configured model was left out."""
    skipped = {}
    models = []
    for name in config.models:
        if name == "ease" and n_items > EASE_ITEM_LIMIT:
            skipped[name] = t("rec.skip.ease_too_big", language, n=n_items, limit=EASE_ITEM_LIMIT)
        elif name == "category" and categories is None:
            skipped[name] = t("rec.skip.no_categories", language)
        elif name == "popularity_group" and groups is None:
            skipped[name] = t("rec.skip.no_groups", language)
        else:
            models.append(name)
    return models, skipped


def hyperparameter_grid(config: RecommendationConfig) -> dict[str, list[dict]]:
    """Candidate hyperparameters per model: fixed values from the parameters, else the built-in grids."""
    sims = SIMILARITIES if config.similarity == "auto" else (config.similarity,)
    halves = HALF_LIFE_GRID if config.half_life_days == "auto" else (config.half_life_days,)
    lambdas = EASE_LAMBDA_GRID if config.ease_lambda == "auto" else (config.ease_lambda,)
    return {"item_cf": [{"similarity": s, "half_life_days": h} for s in sims for h in halves],
            "ease": [{"ease_lambda": lam} for lam in lambdas]}


def validation_split(train: pd.DataFrame, config: RecommendationConfig,
                     horizon_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A validation split carved from the training data only, by the same method as the test split."""
    if config.split == "stratified":
        return stratified_split(train, config.test_fraction, config.stratify_by, config.seed + 1)
    return split_transactions(train, config, None, horizon_days)


def sample_customers(relevant: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, int | None]:
    """The pairs of a seeded sample of ``EVAL_SAMPLE_CUSTOMERS`` customers when there are more (else all of them),
    and the sample size (None when every customer is kept); the sample keeps the customers' sorted order."""
    users = pd.unique(relevant[COL_CUSTOMER])
    cap = defaults.EVAL_SAMPLE_CUSTOMERS
    if len(users) <= cap:
        return relevant, None
    chosen = np.sort(np.random.default_rng(seed).choice(len(users), size=cap, replace=False))
    keep = relevant[COL_CUSTOMER].isin(users[chosen])
    return relevant[keep].reset_index(drop=True), cap


def tune(train: pd.DataFrame, config: RecommendationConfig, models: list[str], horizon_days: int = 90,
         categories=None, groups=None) -> tuple[dict, pd.DataFrame]:
    """Choose each model's hyperparameters by NDCG@k on a validation split of ``train``; returns
    (chosen hyperparameters per model, every candidate's validation metrics)."""
    k = config.top_n
    fit_part, val_part = validation_split(train, config, horizon_days)
    relevant, _ = sample_customers(relevant_items(fit_part, val_part, config.exclude_seen), config.seed + 1)
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
    return chosen, table


def _plain(value):
    """NaN -> None and numpy scalars -> Python scalars (for metrics.json)."""
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


@dataclass
class Evaluation:
    """Offline evaluation of every model on one train/test split."""

    k: int
    split: str
    metrics: pd.DataFrame  # one row per model
    chosen: dict  # hyperparameters per model
    validation: pd.DataFrame  # every candidate's validation metrics
    recommendations: dict  # model -> top-k DataFrame on the evaluated customers
    models: dict  # model -> fitted Recommender
    relevant: pd.DataFrame
    info: dict = field(default_factory=dict)

    @property
    def best_model(self) -> str:
        """The model with the highest validation NDCG@k (chosen without looking at the test set)."""
        col = f"ndcg@{self.k}"
        best = self.validation.sort_values(col, ascending=False, kind="stable").iloc[0]
        return str(best["model"])

    def precision_per_customer(self, recommendations: pd.DataFrame) -> np.ndarray:
        """precision@k of each evaluated customer (order of ``relevant``; 0 for a customer without a list)."""
        users = pd.unique(self.relevant[COL_CUSTOMER])
        top = recommendations[recommendations["rank"] <= self.k]
        hits = top.merge(self.relevant, on=[COL_CUSTOMER, COL_ITEM])[COL_CUSTOMER].value_counts()
        return hits.reindex(users, fill_value=0).to_numpy(dtype=float) / self.k


def evaluate_recommenders(transactions: pd.DataFrame, config: RecommendationConfig, items: pd.DataFrame | None = None,
                          customers: pd.DataFrame | None = None, cutoff: pd.Timestamp | None = None,
                          horizon_days: int = 90, language: str = "en") -> Evaluation:
    """Split, tune on a validation split of train, fit every model on train and score it on the test customers
    (skip reasons in ``language``)."""
    check_recommendation_inputs(transactions, language)
    transactions, items, customers = (with_object_ids(table) for table in (transactions, items, customers))
    k = config.top_n
    categories = item_categories_of(items)
    groups = customer_groups(customers, config.popularity_by)
    if config.split == "time":
        cutoff = time_cutoff(transactions, cutoff, horizon_days)
    train, test = split_transactions(transactions, config, cutoff, horizon_days)
    if train.empty or test.empty:
        raise StageSkipped(t("rec.skip.empty_split", language, split=config.split))
    models, skipped = available_models(config, train[COL_ITEM].nunique(), categories, groups, language)
    chosen, validation = tune(train, config, models, horizon_days, categories, groups)
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
    metrics = pd.DataFrame(rows).set_index("model")
    train_items = set(train[COL_ITEM])
    test_pairs = test[[COL_CUSTOMER, COL_ITEM]].drop_duplicates()
    info = {"n_train_lines": len(train), "n_test_lines": len(test), "n_items": len(train_items),
            "n_users_evaluated": int(len(users)), "n_users_eligible": int(n_eligible),
            "n_users_sampled": n_sampled,
            "n_test_customers_without_history": int((~test[COL_CUSTOMER].drop_duplicates().isin(train[COL_CUSTOMER])).sum()),
            "n_test_items_unseen_in_train": int((~test[COL_ITEM].drop_duplicates().isin(train_items)).sum()),
            "n_test_pairs": len(test_pairs), "skipped_models": skipped,
            "exclude_seen": config.exclude_seen, "cutoff": cutoff if config.split == "time" else None}
    return Evaluation(k, config.split, metrics, chosen, validation, recs, fitted, relevant, info)


def evaluate_run(run) -> Evaluation:
    """:func:`evaluate_recommenders` on a run's prepared tables, parameters and cutoff."""
    transactions = run.transactions()
    check_recommendation_inputs(transactions, run.params.language)
    check_population(transactions[COL_CUSTOMER].nunique(), run.params)
    return evaluate_recommenders(transactions, run.params.analysis.recommendation, run.items(), run.customers(),
                                 run.cutoff, run.params.analysis.horizon_days, run.params.language)


def cold_start_metrics(transactions: pd.DataFrame, config: RecommendationConfig, items: pd.DataFrame | None,
                       cutoff: pd.Timestamp | None = None, horizon_days: int = 90) -> dict:
    """Accuracy for test customers without any training history: category fallback vs popularity."""
    k = config.top_n
    transactions, items = with_object_ids(transactions), with_object_ids(items)
    train, test = split_transactions(transactions, config, cutoff, horizon_days)
    cold = test[~test[COL_CUSTOMER].isin(train[COL_CUSTOMER])][[COL_CUSTOMER, COL_ITEM]].drop_duplicates()
    cold = cold.sort_values([COL_CUSTOMER, COL_ITEM], kind="stable")
    out = {"n_customers": int(cold[COL_CUSTOMER].nunique())}
    if cold.empty:
        return out
    cold, n_sampled = sample_customers(cold, config.seed)
    if n_sampled is not None:
        out["n_sampled"] = n_sampled
    inter = build_interactions(train)
    categories = item_categories_of(items)
    names = ["popularity"] + (["category"] if categories is not None else [])
    for name in names:
        model = make_model(name, {}, categories).fit(inter)
        recs = model.recommend(cold[COL_CUSTOMER].unique(), k, exclude_seen=False)
        out[name] = {key: val for key, val in ranking_metrics(recs, cold, k).items() if key != "n_users"}
    return out


def diversity_summary(evaluation: Evaluation, item_categories: pd.Series | None, lam: float,
                      model: str | None = None, language: str = "en") -> tuple[dict, pd.DataFrame]:
    """MMR re-ranking of ``model`` (default the best) at ``lam`` and the accuracy-vs-diversity curve."""
    if item_categories is None:
        return {"skipped": t("rec.skip.no_categories", language)}, pd.DataFrame()
    k = evaluation.k
    model = model or evaluation.best_model
    fitted = evaluation.models[model]
    users = evaluation.relevant[COL_CUSTOMER].unique()
    candidates = fitted.recommend(users, 5 * k, True)
    lambdas = sorted({*MMR_LAMBDAS, lam}, reverse=True)
    curve = accuracy_diversity_curve(candidates, evaluation.relevant, item_categories, lambdas, k)
    base, at = curve[curve["lambda"] == 1.0].iloc[0], curve[curve["lambda"] == lam].iloc[0]
    summary = {"model": model, "lambda": lam, f"precision@{k}": float(at[f"precision@{k}"]),
               "diversity": float(at["diversity"]), "diversity_before": float(base["diversity"]),
               "precision_cost": float(base[f"precision@{k}"] - at[f"precision@{k}"])}
    return summary, curve


def recommendation_metrics(evaluation: Evaluation, diversity: dict | None = None,
                           cold_start: dict | None = None, decision: Decision | None = None,
                           events: EventsComparison | None = None) -> dict:
    """The ``recommendation`` entry of metrics.json (no timings: those stay in the report, so the same inputs
    give a byte-identical metrics.json)."""
    k = evaluation.k
    keep = [f"{m}@{k}" for m in ("precision", "recall", "ndcg", "map", "hit_rate")] + ["coverage", "diversity",
                                                                                        "novelty"]
    out = {name: {key: _plain(row[key]) for key in keep} for name, row in evaluation.metrics.iterrows()}
    out.update({name: {"skipped": why} for name, why in evaluation.info["skipped_models"].items()})
    out.update({"k": k, "split": evaluation.split, "n_users_evaluated": evaluation.info["n_users_evaluated"],
                "n_items": evaluation.info["n_items"], "best_model": evaluation.best_model,
                "hyperparameters": evaluation.chosen,
                "n_test_items_unseen_in_train": evaluation.info["n_test_items_unseen_in_train"]})
    if evaluation.info.get("n_users_sampled") is not None:
        out.update({"n_users_sampled": evaluation.info["n_users_sampled"],
                    "n_users_eligible": evaluation.info["n_users_eligible"]})
    if diversity is not None:
        out["diversity_rerank"] = diversity
    if cold_start is not None:
        out["cold_start"] = cold_start
    if decision is not None:
        out["decision"] = decision.record()
    if events is not None:
        out["events"] = events.record()
    return out


def final_recommendations(transactions: pd.DataFrame, evaluation: Evaluation, config: RecommendationConfig,
                          items: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                          model: str | None = None, language: str = "en",
                          events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The export: ``model`` (default the best; the report passes the decision's export model) refit on all data
    (with the behaviour ``events`` weighted by ``event_weights`` when given: the report passes them only when
    they helped), top-n for every customer with reasons in ``language`` (``customer_id, rank, item_id,
    item_name, score, reason``)."""
    model = model or evaluation.best_model
    transactions, items, customers, events = (with_object_ids(table) for table in (transactions, items, customers, events))
    categories = item_categories_of(items)
    groups = customer_groups(customers, config.popularity_by)
    fitted = fit_model(model, evaluation.chosen.get(model, {}), transactions, categories, groups, events,
                       config.event_weights)
    ids = transactions[COL_CUSTOMER]
    if customers is not None:
        ids = pd.concat([ids, customers[COL_CUSTOMER]], ignore_index=True)
    ids = id_index(ids).sort_values()
    names = items.drop_duplicates(COL_ITEM).set_index(COL_ITEM)[COL_NAME] if items is not None and \
        COL_NAME in items.columns else None
    verb = "rated" if COL_RATING in transactions.columns else "bought"
    batch = defaults.EXPORT_BATCH_CUSTOMERS
    parts = [_final_lists(fitted, ids[start:start + batch], config, categories, names, verb, language)
             for start in range(0, len(ids), batch)]
    return pd.concat(parts, ignore_index=True)


def _final_lists(fitted: Recommender, ids: pd.Index, config: RecommendationConfig, categories: pd.Series | None,
                 names: pd.Series | None, verb: str, language: str) -> pd.DataFrame:
    """The export's rows for these customers: top-n (MMR re-ranked when ``mmr_lambda`` < 1) with reasons."""
    rerank = config.mmr_lambda < 1 and categories is not None
    recs = fitted.recommend(ids, 5 * config.top_n if rerank else config.top_n, config.exclude_seen)
    if rerank:
        recs = mmr_rerank(recs, categories, config.mmr_lambda, config.top_n)
    recs = explain(fitted, recs, names, verb, language)
    recs["item_name"] = recs[COL_ITEM].map(names) if names is not None else recs[COL_ITEM].astype(str)
    return recs[[COL_CUSTOMER, "rank", COL_ITEM, "item_name", "score", "reason"]]
