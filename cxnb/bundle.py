"""The handover bundle: the client version of every report and the exports, in one zip with a README."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from cxnb.constants import STAGES
from cxnb.errors import CxnbError
from cxnb.i18n import t

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries get a fixed timestamp so the same report gives the same bytes

EXPORT_DESCRIPTIONS = {
    "customer_profiles.csv": "one row per customer: profile (recency, frequency, spend, tenure, tastes), RFM scores and segment",
    "customer_scores.csv": "probability of buying (or churning) in the next period, decile and the top reasons per customer",
    "segments.csv": "segment number and plain-language segment name per customer",
    "recommendations.csv": "top-N recommended items per customer, with score and reason",
    "journey_funnel.csv": "the funnel from looking to buying: customers and conversion per step",
    "retention_cohorts.csv": "customers and revenue of each first-purchase cohort in every later period",
}


def _readme(report: Path, language: str, files: list[str]) -> str:
    lines = [f"{report.name}: customer-experience report", "", "What each file is:", ""]
    lines.append("index.html  the executive summary: headline findings of every stage, links to each report")
    for stage, stem in STAGES.items():
        if f"{stem}.html" in files:
            lines.append(f"{stem}.html  {t(f'stage.{stage}', language)} report")
    for name, text in EXPORT_DESCRIPTIONS.items():
        if f"exports/{name}" in files:
            lines.append(f"exports/{name}  {text}")
    lines.append("metrics.json  the headline figures of every stage (machine-readable)")
    lines += ["", "Customer ids are pseudonyms; the consultant holds the key to join them back to your records."]
    return "\n".join(lines) + "\n"


def make_bundle(report: str | Path, out: str | Path | None = None) -> Path:
    """Zip the client version (no code) of ``reports/<client>/`` and its exports; returns the zip's path."""
    from cxnb.report import render_html

    report = Path(report)
    if not (report / "metrics.json").exists():
        raise CxnbError(f"{report}: no finished report here; run `cxnb run params/<client>.yaml` first.")
    manifest = json.loads((report / "manifest.json").read_text(encoding="utf-8"))
    language = manifest.get("params", {}).get("language", "en")
    out = Path(out) if out else report.parent / f"{report.name}-report.zip"
    entries: dict[str, bytes] = {"index.html": (report / "index.html").read_bytes()}
    with tempfile.TemporaryDirectory() as tmp:
        for stem in STAGES.values():
            executed, html = report / f"{stem}.ipynb", report / f"{stem}.html"
            if executed.exists():
                client = Path(tmp) / f"{stem}.html"
                render_html(executed, client, with_code=False)
                entries[f"{stem}.html"] = client.read_bytes()
            elif html.exists():
                entries[f"{stem}.html"] = html.read_bytes()
    for csv in sorted((report / "exports").glob("*.csv")):
        entries[f"exports/{csv.name}"] = csv.read_bytes()
    entries["metrics.json"] = (report / "metrics.json").read_bytes()
    entries["README.txt"] = _readme(report, language, list(entries)).encode("utf-8")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            zf.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), entries[name], zipfile.ZIP_DEFLATED)
    return out
