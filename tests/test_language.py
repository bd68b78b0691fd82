"""A Chinese report is Chinese all the way: no English sentence, header or rule name reaches its pages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

from tests.conftest import ROOT

# Proper names, abbreviations and units a Chinese business report writes in Latin letters.
LATIN_NAMES = {"rfm", "auc", "ndcg", "map", "clv", "nbd", "bg", "mbg", "pareto", "gamma", "csv", "xlsx", "html",
               "json", "id", "ids", "sku", "cxnb", "ease", "mmr", "vif", "roc", "ci", "utc", "iso", "k", "means",
               "knn", "cf", "logit", "python", "pandas", "duckdb", "statsmodels", "scikit", "learn", "pymc",
               "marketing", "papermill", "jupyter", "sha", "cny", "usd", "eur", "gbp", "microsoft", "recommenders",
               "sar", "steck", "brier", "crm", "hardie", "fader", "mixpanel", "amplitude", "posthog", "owasp",
               "pytensor", "cosine", "jaccard", "lift", "log", "min", "max", "exp"}
# An English term given beside its Chinese name, in full-width parentheses: 优势比（odds ratio）.
GLOSS = re.compile(r"（[A-Za-z0-9@ _.,:+\-/()']+）")
FILE_NAME = re.compile(r"[\w./-]+\.(csv|xlsx|html|json|parquet|ipynb|yaml)\b")
WORD = re.compile(r"[A-Za-z]{3,}")


def english_catalogue_words() -> set[str]:
    """Every word of three letters or more in the English message catalogue."""
    words: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, str):
            words.update(w.lower() for w in WORD.findall(re.sub(r"\{[^}]*\}", " ", node)))

    for path in (ROOT / "cxnb" / "messages" / "en").glob("*.yaml"):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return words


def data_words(report: Path) -> set[str]:
    """Words that come from the client's own data (item names, categories, attribute values) or its title."""
    words: set[str] = {w.lower() for w in WORD.findall("Demo Retail")}
    for table in ("items", "customers"):
        path = report / "data" / f"{table}.parquet"
        if path.exists():
            df = pd.read_parquet(path)
            for col in df.columns:
                if not pd.api.types.is_numeric_dtype(df[col]):
                    text = " ".join(df[col].dropna().astype(str).unique()[:5000])
                    words.update(w.lower() for w in WORD.findall(text))
                words.update(w.lower() for w in WORD.findall(str(col)))
    quality = json.loads((report / "data" / "quality.json").read_text(encoding="utf-8"))
    for info in quality["tables"].values():  # the client's own column names, those dropped as PII included
        names = [*info.get("columns", {}).values(), *(d["column"] for d in info.get("pii_dropped", []))]
        words.update(w.lower() for name in names for w in WORD.findall(str(name)))
    return words


def visible_text(page: Path) -> str:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for tag in soup(["style", "script", "code"]):  # <code>: a parameter key or value, typed as written
        tag.decompose()
    return GLOSS.sub(" ", FILE_NAME.sub(" ", soup.get_text(" ")))


@pytest.mark.slow
def test_a_chinese_report_holds_no_english_words_from_the_catalogue(zh_demo_report):
    english = english_catalogue_words() - LATIN_NAMES - data_words(zh_demo_report)
    leaks = {}
    for page in sorted(zh_demo_report.glob("*.html")):
        found = sorted({w for w in WORD.findall(visible_text(page)) if w.lower() in english})
        if found:
            leaks[page.name] = found[:25]
    assert not leaks, f"English words in the Chinese report: {leaks}"


def test_every_cleaning_rule_and_pii_reason_reads_in_both_languages():
    from cxnb.data import CLEANING_RULES, PII_REASONS
    from cxnb.quality import cleaning_steps, pii_reason

    info = {"cleaning": [{"rule": r, "removed": 1, "why": "x"} for r in CLEANING_RULES], "rows_read": 100,
            "plausible_range": ["1990-01-01", "2026-12-03"]}
    zh = cleaning_steps({"tables": {"transactions": info}}, "zh")
    assert len(zh) == len(CLEANING_RULES)
    text = " ".join(zh.iloc[:, 0].astype(str)) + " ".join(zh.iloc[:, -1].astype(str))
    assert not WORD.findall(text.replace("where", "")), text
    assert "1990-01-01" in text
    for kind in [*PII_REASONS, "listed"]:
        reason = pii_reason({"column": "x", "kind": kind, "share": 0.4, "n": 2000}, "zh")
        assert not WORD.findall(reason) and ("40" in reason or kind == "listed"), reason
