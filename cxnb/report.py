"""The report runner: prepare data, execute each stage notebook with papermill, render HTML, swap in atomically."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import nbformat

from cxnb.config import Params, load_params
from cxnb.constants import STAGES
from cxnb.context import EXPORTS_DIR, METRICS_DIR, repo_root
from cxnb.data import DATA_DIR, QUALITY_FILE
from cxnb.errors import CxnbError, RunFailed, Terminated
from cxnb.pages import decorate_run, page_info
from cxnb.summary import write_index
from cxnb.workbook import write_workbook

KERNEL_NAME = "cxnb"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
REMOVED_TAGS = {"injected-parameters", "parameters", "analyst-only"}
MANIFEST_PACKAGES = ("cxnb", "pandas", "numpy", "duckdb", "scikit-learn", "statsmodels", "scipy", "matplotlib",
                     "seaborn", "papermill", "nbconvert", "pyarrow", "pydantic")


def _ipc_kernel_manager():
    """A kernel manager using local IPC sockets (no TCP ports, no plain-text-over-TCP warning)."""
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            # A unique socket path per kernel: runs at the same time must never share sockets.
            ip = str(Path(tempfile.gettempdir()) / f"cxnb-kernel-{uuid.uuid4().hex}")
            super().__init__(transport="ipc", ip=ip, **kwargs)

        async def start_kernel(self, **kw):
            # Charts go into the notebook even where the shell sets another backend (MPLBACKEND=Agg on CI).
            env = dict(kw.pop("env", None) or os.environ)
            env["MPLBACKEND"] = INLINE_BACKEND
            return await super().start_kernel(env=env, **kw)

    return IpcKernelManager


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def ensure_kernel() -> str:
    """Install (or repair) the ``cxnb`` Jupyter kernel so notebooks run on this very Python; returns its name."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve():
            return KERNEL_NAME
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    install(kernel_name=KERNEL_NAME, display_name="cxnb (.venv)", prefix=sys.prefix)
    return KERNEL_NAME


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo_root()), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _input_hashes(params: Params) -> dict:
    from cxnb.data import mask_url

    hashes = {}
    for name, cfg in params.tables().items():
        kind = cfg.kind()
        if kind == "file":
            path = params.source_path(name)
            files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
            hashes[name] = {str(p): _sha256(p) for p in files}
        elif kind == "sql":
            hashes[name] = {"source": mask_url(cfg.source), "table": cfg.table, "query": cfg.query}
        else:
            hashes[name] = {"source": cfg.source}
    return hashes


def _versions() -> dict:
    out = {"python": sys.version.split()[0]}
    for pkg in MANIFEST_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return out


def render_html(executed: Path, target: Path, with_code: bool, language: str = "en") -> None:
    """Render an executed notebook to self-contained HTML; the client version has no code or diagnostics, and
    every version keeps only the narrative cells of its language (tagged ``lang-<language>``)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    from cxnb.i18n import LANGUAGES

    nb = nbformat.read(executed, as_version=4)
    if not with_code:
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    cfg = Config()
    cfg.TagRemovePreprocessor.enabled = True
    other_languages = {f"lang-{lang}" for lang in LANGUAGES if lang != language}
    cfg.TagRemovePreprocessor.remove_cell_tags = (REMOVED_TAGS if not with_code else {"injected-parameters"}) | other_languages
    exporter = HTMLExporter(config=cfg, template_name="lab", exclude_input=not with_code,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(config=cfg), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")


def _skipped_html(stage: str, reason: str, params: Params) -> str:
    from cxnb.i18n import t

    name = t(f"stage.{stage}", params.language)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(params.title)} — {name}</title>"
            f"</head><body style='font-family:sans-serif;max-width:50em;margin:3em auto'><h1>{html.escape(name)}</h1>"
            f"<p>{html.escape(t('common.skipped', params.language, reason=reason))}</p></body></html>")


def execute_stage(stage: str, params_path: Path, run_dir: Path, kernel: str) -> str | None:
    """Run one stage notebook into ``run_dir``; returns a skip reason, None on success; raises RunFailed."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    stem = STAGES[stage]
    source = notebooks_dir() / f"{stem}.ipynb"
    output = run_dir / f"{stem}.ipynb"
    declared = {p for p in pm.inspect_notebook(str(source))}
    wanted = {"params", "run_dir"}
    if not wanted <= declared:
        raise RunFailed(f"{source}: the parameters cell must define {sorted(wanted)}; it defines {sorted(declared)}.")
    try:
        pm.execute_notebook(str(source), str(output), parameters={"params": str(params_path), "run_dir": str(run_dir)},
                            kernel_name=kernel, cwd=str(notebooks_dir()), progress_bar=False, log_output=False,
                            kernel_manager_class=_ipc_kernel_manager())
    except PapermillExecutionError as exc:
        if exc.ename == "StageSkipped":
            return exc.evalue
        if exc.ename in ("CxnbError", "ConfigError", "DataError"):
            raise CxnbError(exc.evalue) from None
        failed = _keep_failed(output, params_path)
        raise RunFailed(f"{stem}.ipynb failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                        f"(executed notebook kept at {failed}).") from None
    return None


def _keep_failed(output: Path, params_path: Path) -> Path:
    """Keep the failing executed notebook for the analyst outside the report folder."""
    keep = Path(tempfile.gettempdir()) / "cxnb-failed" / f"{params_path.stem}-{output.name}"
    keep.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        shutil.copyfile(output, keep)
    return keep


@contextlib.contextmanager
def _interruptible():
    """Turn SIGTERM into an exception so temporary output is cleaned up like on Ctrl-C."""
    def handler(signum, frame):
        raise Terminated(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, handler) if threading.current_thread() is threading.main_thread() else None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def _client_lock(target: Path):
    """An exclusive lock per report folder, held while the finished run is swapped in."""
    lock_path = target.parent / f".{target.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _swap_in(tmp: Path, target: Path) -> None:
    """Replace ``target`` by ``tmp`` with two renames (the old report survives until the new one is complete)."""
    with _client_lock(target):
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        if target.exists():
            os.rename(target, old)
        os.rename(tmp, target)
        if old.exists():
            shutil.rmtree(old)


def _collect_metrics(run_dir: Path, skipped: dict[str, str]) -> dict:
    metrics = {}
    for stage in STAGES:
        path = run_dir / METRICS_DIR / f"{stage}.json"
        if stage in skipped:
            metrics[stage] = {"skipped": skipped[stage]}
        elif path.exists():
            metrics[stage] = json.loads(path.read_text(encoding="utf-8"))
    return metrics


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def run_report(params_path: str | Path, out: str | Path | None = None, only: list[str] | None = None,
               with_code: bool = False, id_map: str | Path | None = None,
               progress: Callable[[str], None] | None = None) -> Path:
    """Run every stage (or ``only`` some) for a parameter file and swap the finished report into place."""
    from cxnb.data import prepare

    say = progress or (lambda msg: None)
    params_path = Path(params_path).resolve()
    params = load_params(params_path)
    target = Path(out).resolve() if out else repo_root() / "reports" / params.client
    stages = list(only) if only else list(STAGES)
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise CxnbError(f"--only: unknown stage '{unknown[0]}'; the stages are {', '.join(STAGES)}.")
    for src in params.tables().values():
        if src.kind() == "file" and target.resolve().is_relative_to((params.base_dir / src.source).resolve().parent):
            raise CxnbError(f"--out {target}: refusing to write inside the client's data folder; choose another folder.")
    kernel = ensure_kernel()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    timings: dict[str, float] = {}
    skipped: dict[str, str] = {}
    started = time.time()
    try:
        with _interruptible():
            if only and target.exists():
                shutil.copytree(target, tmp, dirs_exist_ok=True)
            t0 = time.time()
            say(f"[prepare] loading and cleaning data for '{params.client}' ...")
            if id_map and Path(id_map).resolve().is_relative_to(target):
                raise CxnbError(f"--write-id-map {id_map}: the id map must be written outside the report folder {target}.")
            prepare(params, tmp, id_map_path=id_map)
            timings["prepare"] = round(time.time() - t0, 2)
            say(f"[prepare] done in {timings['prepare']:.1f} s")
            for i, stage in enumerate(stages, 1):
                t0 = time.time()
                say(f"[{i}/{len(stages)}] {stage} ... (elapsed {time.time() - started:.0f} s)")
                reason = execute_stage(stage, params_path, tmp, kernel)
                html_path = tmp / f"{STAGES[stage]}.html"
                if reason:
                    skipped[stage] = reason
                    (tmp / f"{STAGES[stage]}.ipynb").unlink(missing_ok=True)
                    html_path.write_text(_skipped_html(stage, reason, params), encoding="utf-8")
                    say(f"[{i}/{len(stages)}] {stage} skipped: {reason}")
                else:
                    render_html(tmp / f"{STAGES[stage]}.ipynb", html_path, with_code, params.language)
                timings[stage] = round(time.time() - t0, 2)
                if not reason:
                    say(f"[{i}/{len(stages)}] {stage} done in {timings[stage]:.1f} s")
            metrics = _collect_metrics(tmp, skipped)
            _write_json(tmp / "metrics.json", metrics)
            write_index(tmp, params, metrics)
            present = {s: stem for s, stem in STAGES.items() if (tmp / f"{stem}.html").exists()}
            quality = json.loads((tmp / DATA_DIR / QUALITY_FILE).read_text(encoding="utf-8"))
            decorate_run(tmp, page_info(params, quality, present, time.strftime("%Y-%m-%d")))
            (tmp / EXPORTS_DIR).mkdir(exist_ok=True)
            write_workbook(tmp / EXPORTS_DIR)
            _write_json(tmp / "manifest.json", {
                "client": params.client, "params_file": str(params_path), "params": params.model_dump(mode="json"),
                "params_hash": params.params_hash(), "inputs_sha256": _input_hashes(params),
                "versions": _versions(), "git_commit": _git_commit(), "stages_run": stages,
                "seconds": {**timings, "total": round(time.time() - started, 2)}, "with_code": with_code,
            })
            _swap_in(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    say(f"report written to {target}/index.html ({time.time() - started:.0f} s)")
    return target
