"""Limits, grids and names shared by the recommendation modules."""

from __future__ import annotations

EASE_ITEM_LIMIT = 10_000  # dense item x item solve: 10,000 items = two 800 MB float64 matrices


EXACT_SIMILARITY_CELLS = 20_000_000  # item pairs (bound) above which item CF keeps each item's NEIGHBOURS only
NEIGHBOURS = 100  # most similar items kept per item when the item pairs are too many to keep all
NEIGHBOUR_BLOCK_ITEMS = 2_000  # items whose co-occurrence row block is computed at once when pruning


SCORE_BATCH_CELLS = 2_000_000  # dense scores held at once while scoring (16 MB of float64)


PROBE_ITEMS = 1_000  # most popular items whose k-th best score bounds the top-k search


EVAL_SAMPLE_CUSTOMERS = 20_000  # evaluated customers (test, cold start) above which a seeded sample is scored


TUNE_SAMPLE_CUSTOMERS = 5_000  # validation customers above which each tuning candidate scores a seeded sample


EXPORT_BATCH_CUSTOMERS = 50_000  # customers whose export lists (candidates, re-ranking, reasons) are built at once


CANDIDATE_CELLS = 4_000_000  # candidate scores held at once by the sparse top-k (models with candidate_scores)


HALF_LIFE_GRID = (None, 30.0, 90.0, 365.0)


EASE_LAMBDA_GRID = (10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0)


SIMILARITIES = ("cosine", "jaccard", "lift")


MMR_LAMBDAS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)


MIN_CUSTOMERS = 20


MIN_ITEMS = 5


UNKNOWN_CATEGORY = "(none)"


BASELINE = "popularity"  # the generic bestseller list every personalised model must beat


MODELS = ("popularity", "popularity_group", "category", "item_cf", "ease")


FALLBACK_REASONS = ("popularity", "popularity_group", "category")  # models with a reason of their own (rec.reason.*)


RANKING_METRICS = ("precision", "recall", "ndcg", "map", "hit_rate")


BEYOND_METRICS = ("coverage", "diversity", "novelty", "seconds")


HYPERPARAMETERS = ("similarity", "half_life_days", "ease_lambda")
