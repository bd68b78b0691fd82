"""The report runner: prepare data, execute each stage notebook with papermill, render HTML, swap in atomically."""

from __future__ import annotations

import contextlib
import errno
import html
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import nbformat

from cxnb.config import Params, load_params, not_a_parameter_file
from cxnb.constants import STAGE_NEEDS, STAGE_PRIORITY, STAGES
from cxnb.context import EXPORTS_DIR, METRICS_DIR, repo_root
from cxnb.data import DATA_DIR, QUALITY_FILE
from cxnb.errors import CxnbError, OutputError, RunFailed, Terminated
from cxnb.kernels import (
    KERNEL_LOG,
    ensure_kernel,
    ipc_kernel_manager,
    quiet_libraries,
    remove_stale_sockets,
    stop_kernels,
)
from cxnb.manifest import git_commit, input_hashes, inputs_fingerprint, versions
from cxnb.pages import decorate_run, page_info
from cxnb.parallel import default_jobs, run_jobs
from cxnb.reportdir import (
    check_writable_parent,
    client_lock,
    make_temp_dir,
    max_name_bytes,
    remove_stale,
    replaceable_report,
    swap_in,
    write_marker,
)
from cxnb.summary import write_index
from cxnb.workbook import write_workbook

REMOVED_TAGS = {"injected-parameters", "parameters", "analyst-only"}


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


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


_ERRNO_TEXT = re.compile(r"\[Errno (\d+)\] ([^:']*)(?:: '(.*)')?")
_WRITE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG}


def _os_error_in_notebook(evalue: str) -> OSError | None:
    """The operating-system error a notebook raised (disk full, permission denied, ...), from its message."""
    match = _ERRNO_TEXT.search(evalue)
    if not match or int(match[1]) not in _WRITE_ERRNOS:
        return None
    return OSError(int(match[1]), match[2], match[3])


def execute_stage(stage: str, params_path: Path, run_dir: Path, kernel: str, keep_failed: Callable[[Path], Path]
                  ) -> str | None:
    """Run one stage notebook into ``run_dir``; returns a skip reason, None on success; raises RunFailed (the
    executed notebook is kept by ``keep_failed``) or a CxnbError for bad input or a folder that cannot be written."""
    import papermill as pm
    from nbclient.exceptions import DeadKernelError
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
                            kernel_manager_class=ipc_kernel_manager(run_dir / KERNEL_LOG))
    except PapermillExecutionError as exc:
        if exc.ename == "StageSkipped":
            return exc.evalue
        if exc.ename in ("CxnbError", "ConfigError", "DataError", "OutputError"):
            raise CxnbError(exc.evalue) from None
        os_error = _os_error_in_notebook(exc.evalue)
        if os_error is not None:
            raise os_error from None
        raise RunFailed(f"{stem}.ipynb failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} "
                        f"(executed notebook kept at {keep_failed(output)}).") from None
    except DeadKernelError:
        raise RunFailed(f"{stem}.ipynb: the notebook's kernel died (out of memory?); executed notebook and kernel "
                        f"log kept at {keep_failed(output)}.") from None
    return None


def failed_folder(client: str, run_id: str) -> Path:
    """A new owner-only folder for one run's failed notebook: ``$TMPDIR/cxnb-failed/<client>-<run id>/`` (or, when
    ``cxnb-failed`` belongs to someone else, ``$TMPDIR/cxnb-failed-<client>-<run id>-*/``)."""
    root = Path(tempfile.gettempdir()) / "cxnb-failed"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    info = root.lstat()
    if root.is_symlink() or not root.is_dir() or info.st_uid != os.getuid():
        return Path(tempfile.mkdtemp(prefix=f"cxnb-failed-{client}-{run_id}-"))
    if info.st_mode & 0o077:
        root.chmod(0o700)
    folder = root / f"{client}-{run_id}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    return folder


def keep_failed(output: Path, client: str, run_id: str) -> Path:
    """Keep the failing executed notebook (and the kernel's log) outside the report folder, readable by its owner
    only, under a name of its own run; returns the notebook's path."""
    folder = failed_folder(client, run_id)
    keep = folder / output.name
    for source, target in ((output, keep), (output.parent / KERNEL_LOG, folder / "kernel.log")):
        if source.exists():
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as fh, source.open("rb") as src:
                shutil.copyfileobj(src, fh)
    return keep


class _Signals:
    """SIGINT raises KeyboardInterrupt and SIGTERM Terminated, once: after the first, both are ignored while the
    run cleans up (and while the report is swapped in), so the clean-up itself is never interrupted."""

    def __init__(self):
        self.active = threading.current_thread() is threading.main_thread()
        self.previous: dict = {}

    def _raise(self, signum, frame):
        self.ignore()
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(f"signal {signum}")

    def ignore(self) -> None:
        if self.active:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_IGN)

    def __enter__(self) -> _Signals:
        if self.active:
            self.previous = {sig: signal.signal(sig, self._raise) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


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


def params_file(path: str | Path) -> Path:
    """The parameter file's absolute path; a folder given in its place is refused naming a YAML file inside."""
    path = Path(path)
    if path.is_dir():
        raise not_a_parameter_file(path)
    return path.resolve()


def _report_target(params: Params, out: str | Path | None) -> Path:
    """The report folder of a run, after checking that its name fits the file system."""
    target = Path(out).resolve() if out else (repo_root() / "reports").resolve() / params.client
    limit = max_name_bytes(target)
    size = len(os.fsencode(target.name))
    if size > limit:
        if out:
            raise OutputError(f"--out {target}: the folder name is {size} bytes long; at most {limit} fit on this "
                              "file system; choose a shorter name.")
        raise OutputError(f"{params.path}: key 'client': the slug is {size} characters long; at most {limit} fit "
                          "in a folder name on this file system; choose a shorter client.")
    return target


def _check_target(target: Path, params: Params, params_path: Path, out_given: bool, only: list[str] | None,
                  inputs_hash: str, id_map: str | Path | None) -> None:
    """Refuse, before anything is written, a report folder this run may not replace or may not combine with."""
    label = f"--out {target}" if out_given else str(target)
    for name, src in params.tables().items():
        if src.kind() != "file":
            continue
        data = params.source_path(name)
        if target.is_relative_to(data.parent):
            raise OutputError(f"{label}: refusing to write inside the client's data folder; choose another folder.")
        if data.is_relative_to(target):
            raise OutputError(f"{label} holds the client's data ({data}); refusing to replace it; choose another "
                              "folder.")
    if params_path.is_relative_to(target):
        raise OutputError(f"{label} holds the parameter file {params_path}; refusing to replace it; choose another "
                          "folder.")
    if id_map and Path(id_map).resolve().is_relative_to(target):
        raise CxnbError(f"--write-id-map {id_map}: the id map must be written outside the report folder {target}.")
    previous = replaceable_report(target, params.client, label)
    if only and previous is not None:
        if previous.get("params_hash") != params.params_hash():
            raise OutputError(f"--only: the report in {target} was made with other parameters (params hash "
                              f"{str(previous.get('params_hash'))[:12]}, now {params.params_hash()[:12]}); run all "
                              "stages (without --only) so that no figure of the old parameters is kept.")
        if previous.get("inputs_hash") != inputs_hash:
            raise OutputError(f"--only: the data changed since the report in {target} was made; run all stages "
                              "(without --only) so that no figure of the old data is kept.")


def _storage_error(exc: Exception) -> OutputError | None:
    """A one-line OutputError for a write the system refused (disk full, permission denied, name too long),
    whether it came as an OSError or as a DuckDB I/O error."""
    suffix = "; the previous report is untouched"
    if isinstance(exc, OSError):
        return OutputError.from_os_error(exc, suffix)
    text = str(exc)
    for code in sorted(_WRITE_ERRNOS):
        if os.strerror(code) in text:
            path = re.search(r'"([^"]+)"', text)
            return OutputError.from_os_error(OSError(code, os.strerror(code), path[1] if path else None), suffix)
    return None


def run_report(params_path: str | Path, out: str | Path | None = None, only: list[str] | None = None,
               with_code: bool = False, id_map: str | Path | None = None,
               progress: Callable[[str], None] | None = None, jobs: int | None = None) -> Path:
    """Run every stage (or ``only`` some) for a parameter file and swap the finished report into place.

    Only a new or empty folder, or a report folder an earlier cxnb run of the same client wrote (it holds the
    ``.cxnb-report`` marker), is replaced. The folder's lock is held for the whole run: a second run of the same
    folder fails at once. ``only`` is refused when the report there was made with other parameters or data.
    """
    import duckdb

    started = time.time()
    say = progress or (lambda msg: None)
    params_path = params_file(params_path)
    params = load_params(params_path)
    stages = list(only) if only else list(STAGES)
    jobs = jobs or default_jobs()  # a bad CXNB_JOBS fails here, before any work
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise CxnbError(f"--only: unknown stage '{unknown[0]}'; the stages are {', '.join(STAGES)}.")
    try:
        target = _report_target(params, out)
        inputs = input_hashes(params)
        inputs_hash = inputs_fingerprint(params, inputs)
        checks = (target, params, params_path, out is not None, only, inputs_hash, id_map)
        _check_target(*checks)
        check_writable_parent(target)
        kernel = ensure_kernel()
        target.parent.mkdir(parents=True, exist_ok=True)
        with _Signals() as signals, quiet_libraries(), client_lock(target, params.client):
            remove_stale_sockets()
            if remove_stale(target):
                say(f"removed temporary folders of '{params.client}' left by a run that was killed")
            _check_target(*checks)
            run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
            tmp = make_temp_dir(target)
            try:
                if only and target.exists():
                    shutil.copytree(target, tmp, dirs_exist_ok=True)
                _run_stages(params, params_path, tmp, stages, kernel, with_code, inputs, id_map,
                            lambda output: keep_failed(output, params.client, run_id), say, jobs)
                write_marker(tmp, params.client, params.params_hash(), inputs_hash, run_id)
                (tmp / KERNEL_LOG).unlink(missing_ok=True)
                signals.ignore()
                swap_in(tmp, target)
            finally:
                signals.ignore()
                stop_kernels()
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, duckdb.IOException) as exc:
        error = _storage_error(exc)
        if error is None:
            raise
        raise error from None
    say(f"report written to {target}/index.html ({time.time() - started:.0f} s)")
    return target


def _run_stages(params: Params, params_path: Path, tmp: Path, stages: list[str], kernel: str, with_code: bool,
                inputs: dict, id_map: str | Path | None, keep: Callable[[Path], Path],
                say: Callable[[str], None], jobs: int) -> None:
    """Prepare the data and run the stages into ``tmp``; write metrics, index and manifest there."""
    from cxnb.data import prepare

    started = time.time()
    timings: dict[str, float] = {}
    say(f"[prepare] loading and cleaning data for '{params.client}' ...")
    prepare(params, tmp, id_map_path=id_map)
    timings["prepare"] = round(time.time() - started, 2)
    say(f"[prepare] done in {timings['prepare']:.1f} s")

    def run_one(stage: str) -> str | None:
        t0 = time.time()
        say(f"[{stage}] started (elapsed {time.time() - started:.0f} s)")
        reason = execute_stage(stage, params_path, tmp, kernel, keep)
        html_path = tmp / f"{STAGES[stage]}.html"
        if reason:
            (tmp / f"{STAGES[stage]}.ipynb").unlink(missing_ok=True)
            html_path.write_text(_skipped_html(stage, reason, params), encoding="utf-8")
            say(f"[{stage}] skipped: {reason}")
        else:
            render_html(tmp / f"{STAGES[stage]}.ipynb", html_path, with_code, params.language)
            say(f"[{stage}] done in {time.time() - t0:.1f} s")
        timings[stage] = round(time.time() - t0, 2)
        return reason

    stages_started = time.time()
    reasons = run_jobs(stages, run_one, jobs, STAGE_NEEDS, STAGE_PRIORITY, stop=stop_kernels)
    finish_started = time.time()
    timings["stages_wall"] = round(finish_started - stages_started, 2)
    skipped = {s: reason for s in stages if (reason := reasons[s])}
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
        "params_hash": params.params_hash(), "inputs_sha256": inputs,
        "versions": versions(), "git_commit": git_commit(), "stages_run": stages,
        "seconds": {"prepare": timings["prepare"], **{s: timings[s] for s in stages},
                    "stages_wall": timings["stages_wall"], "finish": round(time.time() - finish_started, 2),
                    "total": round(time.time() - started, 2)},
        "jobs": jobs, "with_code": with_code,
    })
