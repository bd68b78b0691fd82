"""The parameter file model (cxnb.config)."""

from __future__ import annotations

import re

import pytest

from cxnb.cli import main
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
    (GOOD + "analysis: {horzon_days: 30}\n", r"unknown key 'analysis.horzon_days' \(did you mean 'horizon_days'\?\)"),
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


BILLION_LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in zip("abcdefgh", "bcdefghi", strict=True))


@pytest.mark.parametrize(("body", "pattern"), [
    ("client: acme\nclient: other\n" + GOOD.replace("client: acme\n", ""),
     r"key 'client' is given twice \(lines 1 and 2\)"),
    (GOOD + "analysis:\n  horizon_days: 30\n  cutoff: '2020-01-01'\n  horizon_days: 60\n",
     r"key 'analysis.horizon_days' is given twice \(lines 5 and 7\)"),
    (GOOD.replace("timestamp: ts}", "timestamp: ts, customer_id: other}"),
     r"key 'data.transactions.columns.customer_id' is given twice \(line 3, columns \d+ and \d+\)"),
    (GOOD + "analysis: &base {horizon_days: 30}\nprivacy: *base\n", r"line 5: YAML aliases \('\*base'\) are not allowed"),
    (GOOD + "defaults: &d {horizon_days: 30}\nanalysis: {<<: *d}\n", r"line 5: YAML aliases \('\*d'\)"),
    (BILLION_LAUGHS, r"line 2: YAML aliases \('\*a'\) are not allowed"),
    (GOOD + "path: /somewhere/else\n", r"unknown key 'path': allowed here: client, title"),
    (GOOD.replace("source: orders.csv,", "source: orders.csv, query: 'SELECT * FROM x',"),
     r"key 'data.transactions.query': 'query:' works only with a database URL or spark source, not a file "
     r"source; to keep only some rows of a file write 'where:'"),
    (GOOD.replace("source: orders.csv,", "source: orders.csv, table: Sheet1,"),
     r"key 'data.transactions.table': 'table:' works only .* not a file source; for one sheet of an Excel "
     r"workbook write read_options: \{sheet_name: ...\}"),
    (GOOD.replace("source: orders.csv,", "source: demo, table: x,"), r"'table:' works only .* not a demo source"),
    (GOOD.replace("source: orders.csv,", "source: 'postgresql://u@h/db',"), r"a SQL source needs 'table:' or 'query:'"),
    (GOOD.replace("source: orders.csv,", "source: 'ftp://h/orders.csv',"),
     r"key 'data.transactions.source' \(got 'ftp://h/orders.csv'\): 'ftp://' is not a source cxnb reads"),
])
def test_bad_parameter_files_fail_validate_with_one_line(tmp_path, capsys, body, pattern):
    code = main(["validate", str(_write(tmp_path, body))])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("cxnb: error: ") and "client.yaml" in err
    assert re.search(pattern, err), err


def test_path_key_no_longer_moves_relative_sources(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "orders.csv").write_text("cid,ts\nb,2021-01-01\n")
    with pytest.raises(ConfigError, match="unknown key 'path'"):
        load_params(write_params(tmp_path, GOOD + f"path: {tmp_path / 'elsewhere' / 'client.yaml'}\n"))


def test_a_folder_as_parameter_file_names_a_yaml_file_inside(tmp_path, capsys):
    folder = tmp_path / "params"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    _write(folder, GOOD)
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err == f"cxnb: error: {folder}: is a folder; give the YAML file inside, e.g. {folder / 'client.yaml'}.\n"


def test_an_empty_folder_as_parameter_file_says_what_to_give(tmp_path):
    with pytest.raises(ConfigError, match=r"is a folder; give the YAML file inside, e\.g\. .*<client>\.yaml"):
        load_params(tmp_path)


def test_keys_that_only_look_alike_are_not_duplicates(tmp_path):
    body = GOOD + "analysis:\n  prediction: {seed: 1}\n  segmentation: {seed: 1}\n"
    params = load_params(_write(tmp_path, body))
    assert params.analysis.prediction.seed == params.analysis.segmentation.seed == 1


def test_password_in_url_is_refused(tmp_path):
    body = "client: a\ndata: {transactions: {source: 'postgresql://u:secret@localhost/db', table: t}}\n"
    with pytest.raises(ConfigError, match="CXNB_DB_PASSWORD"):
        load_params(write_params(tmp_path, body))


def test_cutoff_defaults_to_last_date_minus_horizon(tmp_path):
    import pandas as pd

    params = load_params(_write(tmp_path, GOOD + "analysis: {horizon_days: 30}\n"))
    assert resolve_cutoff(params, pd.Timestamp("2020-03-31 18:00")) == pd.Timestamp("2020-03-02")


def test_the_cutoff_day_belongs_to_the_history(tmp_path):
    import pandas as pd

    from cxnb.predict.data import horizon_labels

    params = load_params(_write(tmp_path, GOOD + "analysis: {horizon_days: 30, cutoff: '2020-03-01'}\n"))
    cutoff = resolve_cutoff(params, pd.Timestamp("2020-03-31 18:00"))
    assert cutoff == pd.Timestamp("2020-03-02")  # the label window starts the day after the cutoff day
    tx = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "timestamp": pd.to_datetime(
        ["2020-02-01", "2020-03-01 23:00", "2020-02-01", "2020-03-02 00:00"], format="ISO8601")})
    assert horizon_labels(tx, cutoff, 30).to_dict() == {"a": 0, "b": 1}  # a's purchase on the cutoff day is history


def test_params_hash_ignores_formatting(tmp_path):
    a = load_params(_write(tmp_path, GOOD))
    b = load_params(_write(tmp_path, GOOD.replace("{source: orders.csv, columns", "{ source:  orders.csv,  columns")))
    assert a.params_hash() == b.params_hash()
