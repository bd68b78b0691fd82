"""The figures of the demo, MovieLens and Telco stay what they were when the stages moved to aggregates, samples
and parallel runs: each run is compared with the metrics recorded in ``tests/golden/``.

A change that is meant to move a figure records the new ones (``python -m tests.test_golden``) and says which
moved and why in its commit; the test then holds the new figures.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from cxnb.stage import json_ready

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SHARED = ROOT.parent / "shared" / "data"
REL_TOL = 1e-6  # float sums taken in another order move the last digits; nothing else may move

pytestmark = pytest.mark.slow


def flat(value, path: str = "") -> dict[str, object]:
    """A nested metrics document as {"a/b/0/c": leaf}."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{path}/{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in flat(item, f"{path}/{i}").items()}
    return {path: value}


def differences(got: dict, want: dict, rel_tol: float = REL_TOL) -> list[str]:
    """Every leaf that is missing, new or different (numbers beyond ``rel_tol``), as 'path: want -> got'."""
    got, want = flat(got), flat(want)
    out = [f"{p}: missing" for p in sorted(want.keys() - got.keys())]
    out += [f"{p}: new ({got[p]!r})" for p in sorted(got.keys() - want.keys())]
    for p in sorted(want.keys() & got.keys()):
        a, b = want[p], got[p]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        same = math.isclose(a, b, rel_tol=rel_tol, abs_tol=1e-12) if numbers else a == b
        if not same:
            out.append(f"{p}: {a!r} -> {b!r}")
    return out


def _recorded(name: str) -> dict:
    return json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))


def movielens_metrics(tmp: Path) -> dict:
    """The recommendation stage's metrics on MovieLens 100k through params/movielens.yaml."""
    from cxnb import recommend
    from cxnb.context import open_run

    run = open_run(ROOT / "params" / "movielens.yaml", tmp)
    return json_ready(recommend.run_stage(run).metrics())


def telco_metrics(tmp: Path) -> dict:
    """The prediction and segmentation stages' metrics on IBM Telco churn through params/telco.yaml."""
    from cxnb import predict, segment
    from cxnb.context import open_run

    run = open_run(ROOT / "params" / "telco.yaml", tmp)
    return {"behavior_prediction": json_ready(predict.run_stage(run).metrics()),
            "segmentation": json_ready(segment.run_stage(run).metrics())}


def test_differences_finds_a_moved_figure():
    assert differences({"a": {"b": 1.0, "c": [1, 2]}}, {"a": {"b": 1.0 + 1e-9, "c": [1, 2]}}) == []
    assert differences({"a": {"b": 1.1}, "n": 1}, {"a": {"b": 1.0}, "m": 1}) == [
        "/m: missing", "/n: new (1)", "/a/b: 1.0 -> 1.1"]


def test_demo_metrics_equal_the_recorded_ones(demo_report):
    got = json.loads((demo_report / "metrics.json").read_text(encoding="utf-8"))
    assert differences(got, _recorded("demo_metrics")) == []


@pytest.mark.realdata
def test_movielens_metrics_equal_the_recorded_ones(tmp_path, monkeypatch):
    if not (SHARED / "movielens-100k" / "u.data").exists():
        pytest.skip("../shared/data/movielens-100k not found")
    monkeypatch.setenv("CXNB_SECRET", "cxnb-test-key")
    assert differences(movielens_metrics(tmp_path), _recorded("movielens_metrics")) == []


@pytest.mark.realdata
def test_telco_metrics_equal_the_recorded_ones(tmp_path, monkeypatch):
    if not (SHARED / "telco-churn").exists():
        pytest.skip("../shared/data/telco-churn not found")
    monkeypatch.setenv("CXNB_SECRET", "cxnb-test-key")
    assert differences(telco_metrics(tmp_path), _recorded("telco_metrics")) == []


def record(out: Path = GOLDEN) -> None:
    """Record the figures of this checkout (demo report, MovieLens, Telco) into ``tests/golden/``."""
    import os
    import tempfile

    from cxnb.report import run_report

    os.environ.pop("CXNB_SECRET", None)
    with tempfile.TemporaryDirectory() as tmp:
        demo = run_report(ROOT / "params" / "demo.yaml", out=Path(tmp) / "demo")
        documents = {"demo_metrics": json.loads((demo / "metrics.json").read_text(encoding="utf-8"))}
        os.environ["CXNB_SECRET"] = "cxnb-test-key"
        documents["movielens_metrics"] = movielens_metrics(Path(tmp) / "movielens")
        documents["telco_metrics"] = telco_metrics(Path(tmp) / "telco")
    out.mkdir(parents=True, exist_ok=True)
    for name, doc in documents.items():
        (out / f"{name}.json").write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
        print(f"recorded {out / name}.json")


if __name__ == "__main__":
    record(Path(sys.argv[1]) if len(sys.argv) > 1 else GOLDEN)
