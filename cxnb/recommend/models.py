"""Which models the stage compares, with which hyperparameters, and how one is built and fitted."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from cxnb.config import RecommendationConfig
from cxnb.recommend.defaults import EASE_ITEM_LIMIT, EASE_LAMBDA_GRID, HALF_LIFE_GRID, SIMILARITIES
from cxnb.recommend.interactions import Interactions, build_interactions, line_codes
from cxnb.recommend.item_item import EASE, ItemItemCF
from cxnb.recommend.popularity import CategoryPopularity, Popularity
from cxnb.recommend.recommender import Recommender


class Reason(NamedTuple):
    """Why something was left out: a message key (``rec.skip.*``) and its placeholder values."""

    key: str
    values: dict = {}


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
    ``event_weights`` when given) and fit it; ``built`` keeps, for the next model on ``train`` (without events),
    the lines' matrix positions and the interactions by half-life, which share their co-occurrence counts."""
    half_life = hyper.get("half_life_days") if name == "item_cf" else None
    if built is None or events is not None:
        inter = build_interactions(train, half_life_days=half_life, events=events, event_weights=event_weights)
    else:
        inter = built_interactions(train, half_life, built)
    return make_model(name, hyper, categories, groups).fit(inter)


def built_interactions(train: pd.DataFrame, half_life: float | None, built: dict) -> Interactions:
    """The purchase interactions of ``train`` with this half-life, from (and kept in) ``built``: the id look-ups
    are done once, and every half-life shares the first one's binary matrix and co-occurrence counts."""
    if half_life not in built:
        if "codes" not in built:
            built["codes"] = line_codes(train)
        inter = build_interactions(train, half_life_days=half_life, codes=built["codes"])
        first = next((v for k, v in built.items() if k != "codes"), None)
        built[half_life] = inter.sharing_counts_of(first) if first is not None else inter
    return built[half_life]


def available_models(config: RecommendationConfig, n_items: int, categories,
                     groups) -> tuple[list[str], dict[str, Reason]]:
    """Models to compare on this data, and why any configured model was left out."""
    skipped = {}
    models = []
    for name in config.models:
        if name == "ease" and n_items > EASE_ITEM_LIMIT:
            skipped[name] = Reason("rec.skip.ease_too_big", {"n": n_items, "limit": EASE_ITEM_LIMIT})
        elif name == "category" and categories is None:
            skipped[name] = Reason("rec.skip.no_categories")
        elif name == "popularity_group" and groups is None:
            skipped[name] = Reason("rec.skip.no_groups")
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
