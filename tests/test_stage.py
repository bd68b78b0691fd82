"""The shared stage shape: metrics made JSON-ready in one place."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from cxnb.stage import Skipped, StageMetrics, json_ready


class _Example(StageMetrics):
    auc: float
    n: int
    when: pd.Timestamp | None = None
    model_config = {"arbitrary_types_allowed": True}


def test_non_finite_numbers_become_null_and_floats_are_rounded():
    out = json_ready({"a": float("inf"), "b": -math.inf, "c": float("nan"), "d": np.float64(0.1234567891),
                      "e": [np.int64(3), (1.0000001, None)]})
    assert out == {"a": None, "b": None, "c": None, "d": 0.123457, "e": [3, [1.0, None]]}
    json.dumps(out, allow_nan=False)


def test_metrics_models_reject_unknown_fields_and_dump_plain_json():
    with pytest.raises(ValidationError):
        _Example(auc=0.8, n=3, typo=1)
    entry = _Example(auc=np.float64(0.81234567), n=5, when=pd.Timestamp("2021-01-02")).as_json()
    assert entry == {"auc": 0.812346, "n": 5, "when": "2021-01-02T00:00:00"}
    assert Skipped(skipped="no items").as_json() == {"skipped": "no items"}
