"""Maximal marginal relevance: trading a little accuracy for category diversity, and its curve."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxnb.constants import (
    COL_CUSTOMER,
    COL_ITEM,
    DEFAULT_K,
)
from cxnb.recommend.defaults import MMR_LAMBDAS, UNKNOWN_CATEGORY
from cxnb.recommend.evaluation import Evaluation
from cxnb.recommend.ranking import intra_list_diversity, ranking_metrics


def mmr_rerank(candidates: pd.DataFrame, item_categories: pd.Series, lam: float, k: int = DEFAULT_K) -> pd.DataFrame:
    """Maximal marginal relevance: greedily pick argmax λ·relevance − (1−λ)·max similarity to the picks so far,
    with relevance = score min-max scaled per customer and similarity = 1 for the same category."""
    width = int(candidates["rank"].max())
    row, users = pd.factorize(candidates[COL_CUSTOMER])
    users = pd.Index(users)
    col = candidates["rank"].to_numpy() - 1
    score = np.full((len(users), width), np.nan)
    score[row, col] = candidates["score"].to_numpy()
    item_codes, item_ids = pd.factorize(candidates[COL_ITEM])
    items = np.zeros((len(users), width), dtype=np.int64)
    items[row, col] = item_codes
    category_codes, cat_names = pd.factorize(item_categories.reindex(item_ids).fillna(UNKNOWN_CATEGORY), sort=True)
    cats = np.full((len(users), width), -1)
    cats[row, col] = category_codes[item_codes]
    low, high = np.nanmin(score, axis=1, keepdims=True), np.nanmax(score, axis=1, keepdims=True)
    relevance = np.where(high > low, (score - low) / np.where(high > low, high - low, 1), 1.0)
    covered = np.zeros((len(users), len(cat_names) + 1), dtype=bool)
    available = ~np.isnan(score)
    picks = []
    for _ in range(min(k, width)):
        gain = lam * relevance - (1 - lam) * np.take_along_axis(covered, cats, axis=1)
        gain[~available] = -np.inf
        best = np.argmax(gain, axis=1)
        ok = available[np.arange(len(users)), best]
        picks.append(np.where(ok, best, -1))
        available[np.arange(len(users)), best] = False
        covered[np.arange(len(users))[ok], cats[np.arange(len(users)), best][ok]] = True
    pick = np.column_stack(picks)
    user_idx, rank_idx = np.nonzero(pick >= 0)
    chosen = pick[user_idx, rank_idx]
    return pd.DataFrame({COL_CUSTOMER: users.take(user_idx), "rank": rank_idx + 1,
                         COL_ITEM: pd.Index(item_ids).take(items[user_idx, chosen]), "score": score[user_idx, chosen]})


def accuracy_diversity_curve(candidates: pd.DataFrame, relevant: pd.DataFrame, item_categories: pd.Series,
                             lambdas=MMR_LAMBDAS, k: int = DEFAULT_K) -> pd.DataFrame:
    """Precision@k, NDCG@k and intra-list diversity of MMR re-ranked lists for each λ (λ = 1: no re-ranking).
    With 0/1 category similarity and relevance in [0, 1], every λ <= 0.5 gives the lists of λ = 0.5."""
    rows = []
    for lam in lambdas:
        reranked = mmr_rerank(candidates, item_categories, lam, k)
        acc = ranking_metrics(reranked, relevant, k)
        rows.append({"lambda": lam, f"precision@{k}": acc[f"precision@{k}"], f"ndcg@{k}": acc[f"ndcg@{k}"],
                     "diversity": intra_list_diversity(reranked, item_categories)})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Diversity:
    """MMR re-ranking of ``model`` at ``lam`` against its own order (λ = 1), and the whole curve; ``skipped`` is
    the message key saying why there is none."""

    model: str | None = None
    lam: float | None = None
    precision: float | None = None  # precision@k after re-ranking
    diversity: float | None = None
    diversity_before: float | None = None
    precision_cost: float | None = None
    curve: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped: str | None = None


def diversity_summary(evaluation: Evaluation, item_categories: pd.Series | None, lam: float,
                      model: str | None = None) -> Diversity:
    """MMR re-ranking of ``model`` (default the best) at ``lam`` and the accuracy-vs-diversity curve."""
    if item_categories is None:
        return Diversity(skipped="rec.skip.no_categories")
    k = evaluation.k
    model = model or evaluation.best_model
    users = evaluation.relevant[COL_CUSTOMER].unique()
    candidates = evaluation.models[model].recommend(users, 5 * k, True)
    lambdas = sorted({*MMR_LAMBDAS, lam}, reverse=True)
    curve = accuracy_diversity_curve(candidates, evaluation.relevant, item_categories, lambdas, k)
    base, at = curve[curve["lambda"] == 1.0].iloc[0], curve[curve["lambda"] == lam].iloc[0]
    return Diversity(model, lam, float(at[f"precision@{k}"]), float(at["diversity"]), float(base["diversity"]),
                     float(base[f"precision@{k}"] - at[f"precision@{k}"]), curve)
