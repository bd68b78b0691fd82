"""What a run records about itself in manifest.json: input hashes, package versions, the code's commit."""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from cxnb.config import Params
from cxnb.context import repo_root

MANIFEST_PACKAGES = ("cxnb", "pandas", "numpy", "duckdb", "scikit-learn", "statsmodels", "scipy", "matplotlib",
                     "seaborn", "papermill", "nbconvert", "pyarrow", "pydantic")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo_root()), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def input_hashes(params: Params) -> dict:
    from cxnb.urls import mask_url

    hashes = {}
    for name, cfg in params.tables().items():
        kind = cfg.kind()
        if kind == "file":
            path = params.source_path(name)
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            hashes[name] = {str(p): sha256(p) for p in files}
        elif kind == "sql":
            hashes[name] = {"source": mask_url(cfg.source), "table": cfg.table, "query": cfg.query}
        else:
            hashes[name] = {"source": cfg.source}
    return hashes


def versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for pkg in MANIFEST_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def inputs_fingerprint(params: Params, hashes: dict) -> str:
    """sha256 over the content hashes of the inputs (not their paths: a moved folder is the same data)."""
    tables = params.tables()
    content = {name: sorted(found.values()) if tables[name].kind() == "file" else found
               for name, found in hashes.items()}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
