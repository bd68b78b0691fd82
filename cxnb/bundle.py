"""The handover bundle: the client version of every report and the exports, in one zip with a README."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from cxnb.constants import STAGES
from cxnb.errors import CxnbError
from cxnb.i18n import catalogue, t

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries get a fixed timestamp so the same report gives the same bytes


def _readme(report: Path, language: str, files: list[str]) -> str:
    """The bundle's README in the report language: one line per file of the bundle."""
    lines = [t("bundle.title", language, client=report.name), "", t("bundle.what", language), ""]
    lines.append(f"index.html  {t('bundle.index', language)}")
    for stage, stem in STAGES.items():
        if f"{stem}.html" in files:
            lines.append(f"{stem}.html  {t('bundle.stage', language, stage=t(f'stage.{stage}', language))}")
    known = catalogue(language)
    for name in sorted(f for f in files if f.startswith("exports/")):
        key = f"bundle.export.{name.removeprefix('exports/')}"
        lines.append(f"{name}  {known.get(key) or t('bundle.export.other', language)}")
    lines.append(f"metrics.json  {t('bundle.metrics', language)}")
    lines += ["", t("bundle.pseudonyms", language)]
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
    for export in sorted([*(report / "exports").glob("*.csv"), *(report / "exports").glob("*.xlsx")]):
        entries[f"exports/{export.name}"] = export.read_bytes()
    entries["metrics.json"] = (report / "metrics.json").read_bytes()
    entries["README.txt"] = _readme(report, language, list(entries)).encode("utf-8")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(entries):
            zf.writestr(zipfile.ZipInfo(name, date_time=FIXED_TIME), entries[name], zipfile.ZIP_DEFLATED)
    return out
