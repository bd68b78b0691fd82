"""Decision tree with its depth chosen by cross-validation and its leaves as plain-language rules;
random forest benchmark with permutation importance."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from cxnb.i18n import t
from cxnb.predict.evaluate import cv_positions, stratified_sample

DEPTHS = (2, 3, 4, 5, 6)
CV_FOLDS = 5
N_TREES = 200
# On more training customers than this, the forest grows LARGE_N_TREES trees, each on a bootstrap sample of
# this many customers (drawn from all of them).
FOREST_MAX_SAMPLES = 10_000
LARGE_N_TREES = 100
# Permutation importance on at most this many held-out customers (seeded, stratified), fewer repeats then.
IMPORTANCE_MAX_CUSTOMERS = 5_000
IMPORTANCE_REPEATS = 5
SAMPLED_IMPORTANCE_REPEATS = 3
# Large forest predictions are split between threads, at least this many rows each.
PREDICT_WORKERS = 2
PREDICT_MIN_ROWS = 20_000


@dataclass
class TreeModel:
    """A fitted decision tree and the cross-validated AUC of every depth tried."""

    model: DecisionTreeClassifier
    depth_scores: pd.DataFrame

    @property
    def depth(self) -> int:
        return int(self.model.max_depth)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(X)[:, 1]


def min_leaf(n: int) -> int:
    """Smallest leaf: 1% of customers, at least 20, so every rule describes a real group."""
    return max(20, n // 100)


def _one_standard_error(cv_results: dict) -> int:
    """Index of the shallowest depth whose mean CV AUC is within one standard error of the best."""
    mean, sd = cv_results["mean_test_score"], cv_results["std_test_score"]
    best = int(np.argmax(mean))
    return int(np.flatnonzero(mean >= mean[best] - sd[best] / np.sqrt(CV_FOLDS))[0])


def fit_tree(X: pd.DataFrame, y: pd.Series, depths=DEPTHS, seed: int = 0) -> TreeModel:
    """DecisionTreeClassifier with ``max_depth`` chosen by stratified 5-fold CV AUC (on a seeded sample of
    ``evaluate.CV_MAX_CUSTOMERS`` when ``X`` is larger): the shallowest depth within one standard error of the best, so
    the rules stay short; that depth is then fitted on all of ``X``."""
    keep = cv_positions(y, seed)
    X_cv, y_cv = (X, y) if keep is None else (X.iloc[keep], y.iloc[keep])
    base = DecisionTreeClassifier(min_samples_leaf=min_leaf(len(X_cv)), random_state=seed)
    search = GridSearchCV(base, {"max_depth": list(depths)}, scoring="roc_auc", refit=False,
                          cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=seed)).fit(X_cv, y_cv)
    cv = search.cv_results_
    scores = pd.DataFrame({"max_depth": list(depths), "cv_auc_mean": cv["mean_test_score"],
                           "cv_auc_sd": cv["std_test_score"]})
    depth = list(depths)[_one_standard_error(cv)]
    model = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=min_leaf(len(X)), random_state=seed).fit(X, y)
    return TreeModel(model, scores)


def _bound(value: float, integer: bool) -> str:
    if integer:
        return f"{int(np.floor(value)):,}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _conditions(path: list[tuple[str, bool, float]], integer: dict[str, bool], labels: dict[str, str],
                language: str) -> list[str]:
    """Merge the splits on a path into one condition per feature, in natural units."""
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    for col, left, threshold in path:
        if left:
            highs[col] = min(highs.get(col, np.inf), threshold)
        else:
            lows[col] = max(lows.get(col, -np.inf), threshold)
    out = []
    for col in dict.fromkeys(c for c, _, _ in path):
        if "=" in col:
            var, level = col.split("=", 1)
            out.append(t("bp.rule.is" if col in lows else "bp.rule.is_not", language, variable=var, level=level))
            continue
        name, parts = labels.get(col, col), []
        if col in lows:
            parts.append(f"> {_bound(lows[col], integer[col])}")
        if col in highs:
            parts.append(f"≤ {_bound(highs[col], integer[col])}")
        out.append(f"{name} {t('bp.rule.and', language).join(parts)}")
    return out


def tree_rules(tree: TreeModel, X: pd.DataFrame, y: pd.Series, labels: dict[str, str], outcome: str,
               language: str = "en") -> pd.DataFrame:
    """One plain-language rule per leaf ("if … then …" in ``language``) with its customers and their observed
    rate, highest rate first."""
    nodes = tree.model.tree_
    names = list(X.columns)
    integer = {c: bool(np.all(np.mod(X[c], 1) == 0)) for c in names}
    leaf_of = pd.Series(tree.model.apply(X), index=X.index)
    stats = pd.DataFrame({"leaf": leaf_of, "y": y.to_numpy()}).groupby("leaf")["y"].agg(["size", "mean"])
    rows = []

    def walk(node: int, path: list) -> None:
        if nodes.children_left[node] == -1:
            conds = _conditions(path, integer, labels, language) or [t("bp.rule.all_customers", language)]
            n, rate = stats.loc[node] if node in stats.index else (0, np.nan)
            rule = t("bp.rule.if_then", language, conditions=t("bp.rule.and", language).join(conds),
                     rate=f"{rate:.0%}", outcome=outcome, n=int(n))
            rows.append({"rule": rule, "customers": int(n), "rate": rate})
            return
        col, thr = names[nodes.feature[node]], nodes.threshold[node]
        walk(nodes.children_left[node], [*path, (col, True, thr)])
        walk(nodes.children_right[node], [*path, (col, False, thr)])

    walk(0, [])
    return pd.DataFrame(rows).sort_values("rate", ascending=False, ignore_index=True)


def forest_size(n: int) -> tuple[int, int | None]:
    """Trees and customers per tree of the forest on ``n`` training customers (None: a bootstrap of all ``n``)."""
    return (N_TREES, None) if n <= FOREST_MAX_SAMPLES else (LARGE_N_TREES, FOREST_MAX_SAMPLES)


def fit_forest(X: pd.DataFrame, y: pd.Series, seed: int = 0) -> RandomForestClassifier:
    """The random forest benchmark (leaves of at least 5 customers; ``forest_size`` trees), grown on all cores;
    it predicts on one, so the trees' probabilities are summed in the same order on every run (same numbers)."""
    trees, per_tree = forest_size(len(X))
    forest = RandomForestClassifier(n_estimators=trees, max_samples=per_tree, min_samples_leaf=5, random_state=seed,
                                    n_jobs=-1).fit(X, y)
    return forest.set_params(n_jobs=1)


def forest_proba(forest: RandomForestClassifier, X: pd.DataFrame, workers: int = PREDICT_WORKERS) -> np.ndarray:
    """The forest's positive-class probability of every row of ``X``, the rows split between ``workers`` threads
    (each row's trees summed in the same order as in one call: the same numbers)."""
    parts = np.array_split(np.arange(len(X)), max(1, min(workers, len(X) // PREDICT_MIN_ROWS)))
    with ThreadPoolExecutor(len(parts)) as pool:
        probs = pool.map(lambda rows: forest.predict_proba(X.iloc[rows])[:, 1], parts)
        return np.concatenate(list(probs))


def importance_sample(n: int) -> tuple[int, int]:
    """Held-out customers and repeats the permutation importance uses out of ``n``."""
    if n <= IMPORTANCE_MAX_CUSTOMERS:
        return n, IMPORTANCE_REPEATS
    return IMPORTANCE_MAX_CUSTOMERS, SAMPLED_IMPORTANCE_REPEATS


def _permuted_blocks(values: np.ndarray, repeats: int, seed: int) -> np.ndarray:
    """The customers' features once as they are, then once per feature and repeat with that feature's column
    shuffled: the permutations ``sklearn.inspection.permutation_importance`` draws with ``random_state=seed``."""
    shuffle_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    blocks = [values]
    for col in range(values.shape[1]):
        rng, position, column = np.random.RandomState(shuffle_seed), np.arange(len(values)), values[:, col]
        for _ in range(repeats):
            rng.shuffle(position)
            column = column[position]
            block = values.copy()
            block[:, col] = column
            blocks.append(block)
    return np.concatenate(blocks)


def forest_importance(forest: RandomForestClassifier, X: pd.DataFrame, y: pd.Series, seed: int = 0) -> pd.DataFrame:
    """Permutation importance on held-out customers (a seeded stratified sample, see ``importance_sample``): the AUC
    lost when a feature is shuffled (the figures of ``sklearn.inspection.permutation_importance``, every shuffled
    copy scored in one pass of the forest)."""
    size, repeats = importance_sample(len(X))
    keep = stratified_sample(y, size, seed)
    if keep is not None:
        X, y = X.iloc[keep], y.iloc[keep]
    blocks = pd.DataFrame(_permuted_blocks(X.to_numpy(dtype="float32"), repeats, seed), columns=X.columns)
    prob = forest_proba(forest, blocks)
    auc = np.array([roc_auc_score(y, p) for p in prob.reshape(-1, len(X))])
    drops = (auc[0] - auc[1:]).reshape(X.shape[1], repeats)
    table = pd.DataFrame({"term": X.columns, "auc_drop": drops.mean(axis=1), "auc_drop_sd": drops.std(axis=1)})
    return table.sort_values("auc_drop", ascending=False, ignore_index=True)
