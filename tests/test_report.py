"""End-to-end runs of the report runner (cxnb.report): files written, figures, privacy, atomicity."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cxnb.constants import STAGES
from cxnb.demo import generate_demo
from cxnb.parallel import default_jobs
from cxnb.report import run_report
from cxnb.summary import format_value
from tests.conftest import ROOT, write_params

pytestmark = pytest.mark.slow

EXPORTS = ["customer_profiles", "customer_scores", "segments", "recommendations"]


def _checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_demo_run_writes_every_file(demo_report):
    for stem in STAGES.values():
        assert (demo_report / f"{stem}.html").stat().st_size > 10_000, stem
        assert (demo_report / f"{stem}.ipynb").exists(), stem
    for name in EXPORTS:
        assert (demo_report / "exports" / f"{name}.csv").exists(), name
    metrics = json.loads((demo_report / "metrics.json").read_text())
    assert set(metrics) == set(STAGES)
    assert not any("skipped" in m for m in metrics.values())
    manifest = json.loads((demo_report / "manifest.json").read_text())
    assert set(manifest["seconds"]) >= {"prepare", *STAGES, "total"}
    assert manifest["params_hash"] and manifest["versions"]["pandas"]


def test_every_stage_report_shows_its_charts(demo_report):
    """Each stage has at least one chart, embedded as an image in the client HTML."""
    for stem in STAGES.values():
        html = (demo_report / f"{stem}.html").read_text(encoding="utf-8")
        assert html.count('src="data:image/png;base64,') >= 1, stem


def _dotted(metrics: dict, stage: str, key: str):
    """The raw metrics.json value at ``stage`` / dotted ``key`` (read without the typed models)."""
    node = metrics[stage]
    for part in key.split("."):
        node = node[part]
    return node


def test_index_figures_equal_metrics(demo_report):
    metrics = json.loads((demo_report / "metrics.json").read_text())
    from bs4 import BeautifulSoup

    page = BeautifulSoup((demo_report / "index.html").read_text(), "html.parser")
    shown = [(*cell["data-metric"].split(".", 1), cell.get_text()) for cell in page.select("td[data-metric]")]
    assert len(shown) >= 10
    for stage, key, text in shown:
        assert text == format_value(_dotted(metrics, stage, key), key), (stage, key)


def test_client_html_has_no_code_or_parameters(demo_report):
    html = (demo_report / "04_segmentation.html").read_text()
    assert "open_run(" not in html
    assert "injected-parameters" not in html


SEPARATORS = re.compile(r"[^\s,;:=\"'`*<>()\[\]{}|\\]+")  # what can stand around a value in CSV, JSON, HTML, markdown


def _pii_found(text: str, single: set[str], names: set[str], id_pattern: re.Pattern) -> str | None:
    """A raw id, e-mail or phone (a token of ``text``, or an id inside a longer token) or a full name (two
    consecutive tokens) found in ``text``; a set look-up per token instead of one regex of 20,000 alternatives."""
    tokens = SEPARATORS.findall(text)
    hit = next((tok for tok in tokens if tok in single), None)
    hit = hit or next((m for m in id_pattern.findall(text) if m in single), None)
    return hit or next((f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False) if f"{a} {b}" in names), None)


def test_no_raw_identifiers_or_pii_anywhere(demo_report):
    demo = generate_demo()
    single = set(demo.customers["customer_id"]) | set(demo.customers["email"]) | set(demo.customers["phone"])
    names = set(demo.customers["name"])
    assert all(len(n.split()) == 2 for n in names)  # the name check looks at pairs of tokens
    id_pattern = re.compile(r"C\d{5}")
    assert all(id_pattern.fullmatch(c) for c in demo.customers["customer_id"])
    assert _pii_found("x,\"C00042\",y", single, names, id_pattern) == "C00042"  # the check can fail
    assert _pii_found("<td>Gus Haddad</td>", single, names, id_pattern) == "Gus Haddad"
    checked = 0
    for path in demo_report.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".parquet":
            text = pd.read_parquet(path).astype(str).to_csv()
        elif path.suffix == ".xlsx":
            text = "\n".join(df.to_csv() for df in pd.read_excel(path, sheet_name=None, dtype=str).values())
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        hit = _pii_found(text, single, names, id_pattern)
        assert hit is None, f"{path.name} contains {hit!r}"
        checked += 1
    assert checked >= 15


def test_same_inputs_same_numbers(demo_report, tmp_path, monkeypatch):
    """Run again with one stage notebook at a time (demo_report ran them side by side): the same bytes."""
    monkeypatch.delenv("CXNB_SECRET")  # the same key as demo_report (the demo's documented one)
    again = run_report(ROOT / "params" / "demo.yaml", out=tmp_path / "demo", jobs=1)
    assert json.loads((again / "manifest.json").read_text())["jobs"] == 1
    assert json.loads((demo_report / "manifest.json").read_text())["jobs"] == default_jobs()  # 2 on CI
    assert (again / "metrics.json").read_bytes() == (demo_report / "metrics.json").read_bytes()
    for name in EXPORTS:
        assert (again / "exports" / f"{name}.csv").read_bytes() == (demo_report / "exports" / f"{name}.csv").read_bytes()


def test_numbers_do_not_depend_on_the_order_of_prepared_lines(demo_report, tmp_path, monkeypatch):
    """The prepared transactions are written unsorted (no global sort of a large log), so every stage must
    give the same figures whatever order the lines come in: shuffle them before the stages run."""
    from cxnb import data

    prepare = data.prepare

    def prepare_then_shuffle(params, run_dir, **kwargs):
        quality = prepare(params, run_dir, **kwargs)
        path = Path(run_dir) / "data" / "transactions.parquet"
        pd.read_parquet(path).sample(frac=1.0, random_state=7).to_parquet(path, index=False)
        return quality

    monkeypatch.delenv("CXNB_SECRET")
    monkeypatch.setattr(data, "prepare", prepare_then_shuffle)
    shuffled = run_report(ROOT / "params" / "demo.yaml", out=tmp_path / "demo")
    assert (shuffled / "metrics.json").read_bytes() == (demo_report / "metrics.json").read_bytes()
    for name in EXPORTS:
        assert (shuffled / "exports" / f"{name}.csv").read_bytes() == \
            (demo_report / "exports" / f"{name}.csv").read_bytes(), name


def _small_client(tmp_path: Path) -> Path:
    demo = generate_demo(n_customers=400, n_items=100)
    data = tmp_path / "data"
    data.mkdir()
    demo.transactions.to_csv(data / "orders.csv", index=False)
    return write_params(tmp_path, """
        client: small
        data: {transactions: {source: data/orders.csv}}
        """)


def test_failed_run_leaves_previous_report_untouched(tmp_path):
    params = _small_client(tmp_path)
    out = tmp_path / "reports" / "small"
    run_report(params, out=out, only=["data_quality"])
    before = _checksums(out)
    (tmp_path / "data" / "orders.csv").write_text("customer_id,timestamp\nx,not a date\n")
    with pytest.raises(Exception, match="timestamp"):
        run_report(params, out=out)
    assert _checksums(out) == before
    assert [p.name for p in out.parent.iterdir() if not p.name.startswith(".small.lock")] == ["small"]


def test_interrupted_run_leaves_previous_report_untouched(tmp_path):
    params = _small_client(tmp_path)
    out = tmp_path / "reports" / "small"
    run_report(params, out=out, only=["data_quality"])
    before = _checksums(out)
    cmd = [sys.executable, "-m", "cxnb.cli", "run", str(params), "--out", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    for line in proc.stderr:
        if "] started" in line:  # the first notebooks are running
            time.sleep(1.0)
            proc.send_signal(signal.SIGTERM)
            break
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert _checksums(out) == before
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name]


def test_two_runs_at_once_do_not_mix(tmp_path):
    """The report folder's lock is held for the whole run: of two runs started together one writes the report,
    the other fails at once (exit 2) naming the first, and the report is the first run's alone."""
    params = _small_client(tmp_path)
    out = tmp_path / "reports" / "small"
    cmd = [sys.executable, "-m", "cxnb.cli", "run", str(params), "--out", str(out), "--quiet",
           "--only", "data_quality", "requirement_analysis"]
    data_before = _checksums(tmp_path / "data")
    procs = [subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted((p.wait(timeout=300), p.stderr.read(), p.pid) for p in procs)
    assert [code for code, _, _ in results] == [0, 2], results
    (_, won_err, winner), (_, lost_err, _) = results
    assert won_err == ""
    assert lost_err.count("\n") == 1 and f"another cxnb run (pid {winner}) is writing the report" in lost_err
    assert _checksums(tmp_path / "data") == data_before, "the kit wrote into the client's data folder"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["stages_run"] == ["data_quality", "requirement_analysis"]
    assert (out / "exports" / "customer_profiles.csv").exists()
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_executive_summary_sentences_come_from_metrics(demo_report):
    import html as html_lib

    from cxnb.summary import findings

    metrics = json.loads((demo_report / "metrics.json").read_text())
    page = html_lib.unescape((demo_report / "index.html").read_text())
    said = findings(metrics, "en")
    assert sum(len(v) for v in said.values()) >= 10
    for stage, sentences in said.items():
        for sentence in sentences:
            assert sentence in page, (stage, sentence)


def test_bundle_holds_client_reports_and_exports(demo_report, tmp_path):
    import zipfile

    from cxnb.bundle import make_bundle

    path = make_bundle(demo_report, tmp_path / "demo.zip")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        readme = zf.read("README.txt").decode()
        html = zf.read("04_segmentation.html").decode()
    assert {"index.html", "README.txt", "metrics.json", *(f"exports/{n}.csv" for n in EXPORTS)} <= names
    assert all(f"{stem}.html" in names for stem in STAGES.values())
    assert not any(n.endswith((".ipynb", ".parquet")) for n in names)
    assert all(n in readme for n in names if n != "README.txt")
    assert "open_run(" not in html
    assert make_bundle(demo_report, tmp_path / "again.zip").read_bytes() == path.read_bytes()


def test_chinese_report(zh_demo_report):
    out = zh_demo_report
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "客户体验分析报告" in index and "客户细分" in index
    for stem, heading in [("01_data_quality", "数据质量"), ("02_requirement_analysis", "客户需求分析"),
                          ("03_behavior_prediction", "行为预测"), ("04_segmentation", "客户细分"),
                          ("05_recommendation", "个性化推荐")]:
        html = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert heading in html, stem
        executed = (out / f"{stem}.ipynb").read_text(encoding="utf-8")
        assert "missing from font" not in executed, f"{stem}: a glyph could not be drawn"


IMPOSSIBLE = re.compile(r"(?i:\bnan\b|\binf\b|\+nan|\b1 customers\b|\b1 orders\b)|∞|0\.0% vs 0\.0%|\bNone\b|\bNaT\b")


@pytest.mark.parametrize("which", ["demo_report", "zh_demo_report"])
def test_no_page_shows_an_impossible_figure(which, request):
    from bs4 import BeautifulSoup

    report = request.getfixturevalue(which)
    found = {}
    for page in sorted(report.glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup(["style", "script"]):
            tag.decompose()
        text = soup.get_text(" ")
        hits = [text[max(0, m.start() - 40):m.end() + 20] for m in IMPOSSIBLE.finditer(text)]
        if hits:
            found[page.name] = hits[:5]
    assert not found, found


def test_too_few_customers_skips_stages_and_the_run_goes_on(tmp_path):
    demo = generate_demo(n_customers=40, n_items=100)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "orders.csv").write_text(demo.transactions.to_csv(index=False))
    params = write_params(tmp_path, "client: tiny\ndata: {transactions: {source: data/orders.csv}}\n")
    out = run_report(params, out=tmp_path / "tiny")
    metrics = json.loads((out / "metrics.json").read_text())
    skipped = [s for s, m in metrics.items() if "skipped" in m]
    assert "behavior_prediction" in skipped
    assert "customers" in metrics["requirement_analysis"]
    for stage in skipped:
        page = (out / f"{STAGES[stage]}.html").read_text()
        assert metrics[stage]["skipped"].split()[0] in page


def test_label_with_one_class_is_a_clear_error(tmp_path):
    from cxnb.errors import CxnbError

    rows = "\n".join(f"c{i},{i % 7},{20 + i % 5},No" for i in range(300))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "customers.csv").write_text("id,tenure,charges,Churn\n" + rows + "\n")
    params = write_params(tmp_path, """
        client: onelabel
        data: {customers: {source: data/customers.csv, columns: {customer_id: id}, label: Churn, positive: "Yes"}}
        """)
    with pytest.raises(CxnbError, match="Churn"):
        run_report(params, out=tmp_path / "out", only=["behavior_prediction"])
    assert not (tmp_path / "out").exists()


def test_the_recommendation_headline_follows_top_n():
    from cxnb.summary import headline_figures
    from tests.conftest import recommendation_entry

    metrics = {"recommendation": recommendation_entry({"verdict": "insufficient", "n_customers": 900}, k=5,
                                                      popularity={"precision": 0.02}, ease={"precision": 0.11})}
    rows = headline_figures(metrics, "zh")["recommendation"]
    assert [(key, label) for key, label, _ in rows[:2]] == [("ease.precision@5", "EASE 精确率@5"),
                                                           ("popularity.precision@5", "畅销榜 精确率@5")]
