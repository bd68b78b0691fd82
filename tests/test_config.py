"""The parameter file model (cxnb.config)."""

from __future__ import annotations

import pytest

from cxnb.config import load_params, resolve_cutoff
from cxnb.errors import ConfigError
from tests.conftest import ROOT, write_params

GOOD = """
client: acme
data:
  transactions: {source: orders.csv, columns: {customer_id: cid, timestamp: ts}}
"""


def _write(tmp_path, body: str):
    (tmp_path / "orders.csv").write_text("cid,ts\na,2020-01-01\n")
    return write_params(tmp_path, body)


def test_demo_params_load():
    params = load_params(ROOT / "params" / "demo.yaml")
    assert params.client == "demo"
    assert params.analysis.recommendation.top_n == 10
    assert params.privacy.pseudonymize_ids is True


def test_relative_paths_resolve_against_the_parameter_file(tmp_path):
    params = load_params(_write(tmp_path, GOOD))
    assert params.source_path("transactions") == (tmp_path / "orders.csv").resolve()


@pytest.mark.parametrize(("body", "pattern"), [
    (GOOD + "analysis: {horzon_days: 30}\n", r"unknown key 'analysis.horzon_days': did you mean 'horizon_days'\?"),
    (GOOD + "privacy: {min_group_size: many}\n", r"key 'privacy.min_group_size' \(got 'many'\)"),
    (GOOD.replace("orders.csv", "missing.csv"), r"key 'data.transactions.source': file 'missing.csv' not found"),
    (GOOD + "analysis: {cutoff: soon}\n", r"key 'analysis.cutoff'.*ISO string"),
    (GOOD.replace("client: acme", "client: Acme Corp"), r"key 'client'.*slug"),
    (GOOD.replace("customer_id: cid", "custmer_id: cid"), r"did you mean 'customer_id'"),
    (GOOD + "analysis: {segmentation: {k: 1}}\n", r"key 'analysis.segmentation.k'"),
    (GOOD + "language: fr\n", r"key 'language'"),
    ("client: acme\n", r"missing key 'data'"),
    ("client: acme\ndata: {}\n", r"give data.transactions or data.customers"),
    ("- a\n- b\n", r"mapping of keys"),
    ("client: [\n", r"not valid YAML"),
])
def test_bad_parameter_files_name_the_key(tmp_path, body, pattern):
    with pytest.raises(ConfigError, match=pattern) as info:
        load_params(_write(tmp_path, body))
    assert "\n" not in str(info.value)
    assert "client.yaml" in str(info.value)


def test_password_in_url_is_refused(tmp_path):
    body = "client: a\ndata: {transactions: {source: 'postgresql://u:secret@localhost/db', table: t}}\n"
    with pytest.raises(ConfigError, match="CXNB_DB_PASSWORD"):
        load_params(write_params(tmp_path, body))


def test_cutoff_defaults_to_last_date_minus_horizon(tmp_path):
    import pandas as pd

    params = load_params(_write(tmp_path, GOOD + "analysis: {horizon_days: 30}\n"))
    assert resolve_cutoff(params, pd.Timestamp("2020-03-31 18:00")) == pd.Timestamp("2020-03-02")


def test_params_hash_ignores_formatting(tmp_path):
    a = load_params(_write(tmp_path, GOOD))
    b = load_params(_write(tmp_path, GOOD.replace("{source: orders.csv, columns", "{ source:  orders.csv,  columns")))
    assert a.params_hash() == b.params_hash()
