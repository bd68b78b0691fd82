"""New customers (cold start): how the fallbacks do for test customers without any training history."""

from __future__ import annotations

import pandas as pd

from cxnb.constants import COL_CUSTOMER, COL_ITEM
from cxnb.recommend.evaluation import Evaluation, sample_customers
from cxnb.recommend.interactions import build_interactions
from cxnb.recommend.metrics import ColdStart, RankingScores
from cxnb.recommend.models import make_model
from cxnb.recommend.ranking import ranking_metrics
from cxnb.recommend.splits import sorted_pairs


def cold_start_metrics(evaluation: Evaluation, categories: pd.Series | None, seed: int) -> ColdStart:
    """Accuracy of popularity and the category fallback for the evaluation's test customers without training
    history, on the evaluation's own train/test split (a seeded sample of them when there are many)."""
    k, train, test = evaluation.k, evaluation.train, evaluation.test
    cold = test[~test[COL_CUSTOMER].isin(train[COL_CUSTOMER])][[COL_CUSTOMER, COL_ITEM]].drop_duplicates()
    cold = sorted_pairs(cold)
    if cold.empty:
        return ColdStart(n_customers=0)
    n_customers = int(cold[COL_CUSTOMER].nunique())
    cold, n_sampled = sample_customers(cold, seed)
    inter = evaluation.interactions if evaluation.interactions is not None else build_interactions(train)
    scores = {}
    for name in ["popularity"] + (["category"] if categories is not None else []):
        recs = make_model(name, {}, categories).fit(inter).recommend(cold[COL_CUSTOMER].unique(), k, exclude_seen=False)
        scores[name] = RankingScores.model_validate(
            {key: value for key, value in ranking_metrics(recs, cold, k).items() if key != "n_users"})
    return ColdStart(n_customers=n_customers, n_sampled=n_sampled, **scores)
