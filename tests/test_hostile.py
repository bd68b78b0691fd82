"""Client data is hostile: tags, event handlers, links and formulas planted in every text field of the demo reach
the pages only as text and the exports only as inert cells."""

from __future__ import annotations

import csv
import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from cxnb.safe import markdown_text
from tests.conftest import write_params

SCRIPT = '<script>alert("cxnb-xss")</script>'
IMG = "<img src=x onerror=alert(2)>"
BOLD = "<b onmouseover=alert(3)>East</b>"
LINK = "[click](javascript:alert(4))"
PICTURE = "![p](http://tracker.invalid/p.png)"
FORMULA = "=HYPERLINK(\"http://evil.invalid\",\"x\")"
PAYLOADS = [SCRIPT, IMG, BOLD, LINK, PICTURE, FORMULA]


def _plant(files: dict[str, str]) -> None:
    """Replace every text value of the items and customers with payloads (the same value for a whole category,
    so groups stay large enough to be shown)."""
    items = pd.read_csv(files["items"])
    categories = sorted(items["category"].unique())
    hostile = {c: f"{PAYLOADS[i % len(PAYLOADS)]} {c}" for i, c in enumerate(categories)}
    items["category"] = items["category"].map(hostile)
    items["name"] = [f"{PAYLOADS[i % len(PAYLOADS)]} {n}" for i, n in enumerate(items["name"])]
    items.to_csv(files["items"], index=False)
    customers = pd.read_csv(files["customers"])
    for j, col in enumerate(["region", "channel", "age_band"]):
        values = sorted(customers[col].dropna().unique())
        customers[col] = customers[col].map({v: f"{PAYLOADS[(i + j) % len(PAYLOADS)]} {v}"
                                             for i, v in enumerate(values)})
    customers.to_csv(files["customers"], index=False)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    import os

    from cxnb.demo import write_demo_files
    from cxnb.report import run_report

    root = tmp_path_factory.mktemp("hostile")
    files = write_demo_files(root / "raw")
    _plant(files)
    params = write_params(root / "raw", f"""
        client: hostile
        title: '{SCRIPT} Retail'
        data:
          transactions: {{source: transactions.csv}}
          customers: {{source: customers.csv, pii: [name, email, phone]}}
          items: {{source: items.csv}}
        analysis:
          horizon_days: 90
          segmentation: {{k: auto, k_range: [2, 6]}}
          recommendation: {{top_n: 10, split: time, seed: 42, exclude_seen: true}}
        privacy: {{pseudonymize_ids: true, min_group_size: 10}}
        """)
    secret, backend = os.environ.get("CXNB_SECRET"), os.environ.get("MPLBACKEND")
    os.environ.update(CXNB_SECRET="hostile-test-key", MPLBACKEND="Agg")
    try:
        return run_report(params, out=root / "out")
    finally:
        for key, value in (("CXNB_SECRET", secret), ("MPLBACKEND", backend)):
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _live_from_data(page) -> list[str]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    found = []
    for tag in soup.find_all(True):
        handlers = [a for a in tag.attrs if a.lower().startswith("on")]
        if handlers:
            found.append(f"<{tag.name} {handlers[0]}=...>")
        if tag.name == "script" and "cxnb-xss" in tag.get_text():
            found.append("<script> from the data")
        if tag.name == "img" and (tag.get("src") == "x" or "tracker.invalid" in (tag.get("src") or "")):
            found.append(f"<img src={tag.get('src')}>")
        if tag.name == "a" and (tag.get("href") or "").strip().lower().startswith("javascript:"):
            found.append("<a href=javascript:...>")
    return found


@pytest.mark.slow
def test_no_page_of_the_run_holds_a_live_tag_or_handler_from_the_data(hostile_report):
    pages = sorted(hostile_report.glob("*.html"))
    assert len(pages) >= 8
    live = {p.name: _live_from_data(p) for p in pages}
    assert not {k: v for k, v in live.items() if v}, live


@pytest.mark.slow
def test_planted_values_are_shown_as_text(hostile_report):
    text = {p.name: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").get_text(" ")
            for p in hostile_report.glob("*.html")}
    assert SCRIPT in text["index.html"], "the title should be shown as text on the summary page"
    assert SCRIPT in text["02_requirement_analysis.html"] or IMG in text["02_requirement_analysis.html"]
    assert any(p in text["05_recommendation.html"] for p in PAYLOADS[:3])


@pytest.mark.slow
def test_exports_hold_no_formula_from_the_data(hostile_report):
    cells = []
    for path in (hostile_report / "exports").glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            cells += [c for row in csv.reader(fh) for c in row]
    assert any(FORMULA[1:] in c for c in cells), "the planted formula should reach an export (as text)"
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r")) or re.match(r"-[^\d.]", c)]


def test_markdown_text_leaves_no_tag_link_or_formula():
    text = markdown_text(" ".join(PAYLOADS) + " costs $5 and \\$6")
    assert "<" not in text and "[" not in text and "$" not in text
    assert "**kept**" in markdown_text("**kept**") and "> quote" in markdown_text("> quote")


def test_styled_tables_escape_cells_and_headers():
    from cxnb.viz import heat_table, table

    df = pd.DataFrame({SCRIPT: [IMG, "ok"], "n": [1, 2]})
    html = table(df).to_html()
    assert "<script>" not in html and "<img" not in html and "&lt;img" in html
    html = heat_table(pd.DataFrame({IMG: [0.5]}, index=[BOLD])).to_html()
    assert "<img" not in html and "<b " not in html

