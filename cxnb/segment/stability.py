"""How stable the segments are: refits with other seeds and on bootstrap samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from cxnb.constants import SEED
from cxnb.i18n import t
from cxnb.segment.model import N_INIT, Segmentation, _sample_rows, one_thread

STABILITY_SAMPLE = 20_000


STABILITY_RUNS = 5


STABLE_ARI = 0.8


STABILITY_KINDS = {"other seed": "seg.kind.other_seed", "bootstrap": "seg.kind.bootstrap"}


def segment_stability(features: pd.DataFrame, seg: Segmentation, runs: int = STABILITY_RUNS,
                      random_state: int = SEED) -> pd.DataFrame:
    """Adjusted Rand index of refits with other seeds and on bootstrap samples against the fitted segments."""
    with one_thread():
        return _stability(features, seg, runs, random_state)


def _stability(features: pd.DataFrame, seg: Segmentation, runs: int, random_state: int) -> pd.DataFrame:
    rows = _sample_rows(len(features), STABILITY_SAMPLE, random_state)
    x = seg.model[:-1].transform(features.iloc[rows])
    reference = seg.model[-1].predict(x)
    rng = np.random.default_rng(random_state)
    out = []
    for run in range(1, runs + 1):
        seeded = KMeans(seg.k, n_init=N_INIT, random_state=random_state + run).fit(x)
        out.append({"kind": "other seed", "run": run, "ari": adjusted_rand_score(reference, seeded.labels_)})
        boot = rng.integers(0, len(x), size=len(x))
        resampled = KMeans(seg.k, n_init=N_INIT, random_state=random_state + run).fit(x[boot])
        out.append({"kind": "bootstrap", "run": run, "ari": adjusted_rand_score(reference, resampled.predict(x))})
    return pd.DataFrame(out)


def stability_verdict(stability: pd.DataFrame, threshold: float = STABLE_ARI, language: str = "en") -> str:
    """A sentence for the report: stable, or a warning when the mean ARI is below ``threshold``."""
    ari = stability["ari"].mean()
    key = "seg.stable" if ari >= threshold else "seg.unstable"
    return t(key, language, ari=f"{ari:.2f}", threshold=threshold)


def stability_table(stability: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Mean and lowest adjusted Rand index per kind of refit, for display."""
    out = stability.groupby("kind", sort=False)["ari"].agg(["mean", "min"]).reset_index()
    out["kind"] = [t(STABILITY_KINDS[k], language) for k in out["kind"]]
    return out.rename(columns={"kind": t("seg.col.refit", language), "mean": t("seg.col.mean_ari", language),
                               "min": t("seg.col.min_ari", language)})
