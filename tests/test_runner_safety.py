"""The runner on hostile and broken input: nothing a run does may destroy what it did not write, mix two runs,
or end in a traceback. One table of cases: each asserts the exit code, one line on stderr naming the file/key/
folder, no traceback, and that the previous report of the client (and every other file around it) is
byte-identical afterwards."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from cxnb import data as data_module
from cxnb import kernels, report
from cxnb.cli import main
from cxnb.demo import generate_demo
from cxnb.reportdir import MARKER, client_lock, read_marker
from tests.conftest import ROOT, write_params

CLIENT = "small"
PARAMS = """
    client: small
    data: {transactions: {source: data/orders.csv}}
    """


def _temporary(path: Path) -> bool:
    return any(".tmp-" in part or ".old-" in part for part in path.parts)


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``; lock files (they hold the pid of the last run) and temporary folders
    of runs (checked on their own) aside."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock") and not _temporary(p.relative_to(folder))}


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """A small client (parameter file, data) and its report of one earlier run (data quality only)."""
    base = tmp_path_factory.mktemp("previous")
    client = base / "client"
    (client / "data").mkdir(parents=True)
    generate_demo(n_customers=400, n_items=100).transactions.to_csv(client / "data" / "orders.csv", index=False)
    params = write_params(client, PARAMS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CXNB_SECRET", "test-secret")
        report.run_report(params, out=base / "reports" / CLIENT, only=["data_quality"])
    return base


@dataclass
class World:
    """A copy of the client and its previous report, and how to run the command line on it."""

    root: Path
    capsys: pytest.CaptureFixture
    monkeypatch: pytest.MonkeyPatch
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    expected_pid: int | None = None  # the run holding the lock
    expected_kept: list[Path] = field(default_factory=list)  # temporary folders of live runs: not removed

    @property
    def params(self) -> Path:
        return self.root / "client" / "client.yaml"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def report(self) -> Path:
        return self.reports / CLIENT

    def cli(self, *args: str | Path) -> tuple[int, str]:
        """Run ``cxnb`` in this process; returns the exit code and stderr."""
        self.capsys.readouterr()
        code = main([str(a) for a in args])
        return code, self.capsys.readouterr().err

    def run(self, *extra: str | Path, params: Path | None = None) -> tuple[int, str]:
        return self.cli("run", params or self.params, "--quiet", *extra)

    def subprocess_run(self, *extra: str | Path) -> subprocess.Popen:
        """Start ``cxnb run`` as its own process (in a new session, as a shell's job) with stderr piped."""
        cmd = [sys.executable, "-m", "cxnb.cli", "run", str(self.params), "--quiet", *map(str, extra)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        return subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env, start_new_session=True)


@pytest.fixture
def world(previous, tmp_path, capsys, monkeypatch) -> World:
    shutil.copytree(previous, tmp_path / "w", symlinks=True)
    w = World(tmp_path / "w", capsys, monkeypatch)
    yield w
    for undo in reversed(w.cleanup):
        undo()


def _as_owner_sees_it(w: World) -> None:
    """Tests may run as root, for whom permission bits do not apply: let ``os.access`` answer as their owner
    (the user a read-only folder is meant to stop)."""
    if os.geteuid() != 0:
        return
    real = os.access

    def access(path, mode, *args, **kwargs):
        bits = {os.R_OK: stat.S_IRUSR, os.W_OK: stat.S_IWUSR, os.X_OK: stat.S_IXUSR}
        st_mode = os.stat(path).st_mode
        return real(path, mode, *args, **kwargs) and all(st_mode & b for m, b in bits.items() if mode & m)

    w.monkeypatch.setattr(os, "access", access)


def _read_only(w: World, folder: Path) -> None:
    folder.chmod(0o555)
    w.cleanup.append(lambda: folder.chmod(0o755))
    _as_owner_sees_it(w)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _wait_for(condition: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while not condition():
        if time.time() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def _temp_folders(w: World) -> list[Path]:
    return [p for p in w.reports.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def _kernel_running(w: World) -> Callable[[], bool]:
    """True once a run's notebook kernel has started (its log exists in the run's temporary folder)."""
    return lambda: any((p / kernels.KERNEL_LOG).exists() for p in _temp_folders(w))


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    err = proc.stderr.read()
    return proc.wait(timeout=120), err


# --- the cases: each sets up its world and returns what to run -------------------------------------------------

def case_out_holds_data_one_level_down(w):
    """`--out .` in a folder whose client/ subfolder holds the data and the parameter file."""
    w.monkeypatch.chdir(w.root)
    return lambda: w.run("--out", ".")


def case_out_unrelated_folder(w):
    notes = w.root / "notes"
    notes.mkdir()
    (notes / "thesis.txt").write_text("years of work\n")
    return lambda: w.run("--out", notes)


def case_out_is_a_file(w):
    (w.root / "report.html").write_text("<p>not a folder</p>\n")
    return lambda: w.run("--out", w.root / "report.html")


def case_out_holds_another_clients_report(w):
    other = write_params(w.root / "client", PARAMS.replace("client: small", "client: other"), "other.yaml")
    return lambda: w.run("--out", w.report, params=other)


def case_default_folder_of_an_older_cxnb(w):
    (w.report / MARKER).unlink()
    w.monkeypatch.setattr(report, "repo_root", lambda: w.root)
    return lambda: w.run()


def case_only_after_parameters_changed(w):
    w.params.write_text(w.params.read_text() + "analysis: {horizon_days: 60}\n")
    return lambda: w.run("--out", w.report, "--only", "data_quality")


def case_only_after_data_changed(w):
    orders = w.root / "client" / "data" / "orders.csv"
    text = orders.read_text()
    orders.write_text(text + text.splitlines()[1] + "\n")  # one more line: another data set, same parameters
    return lambda: w.run("--out", w.report, "--only", "data_quality")


def case_second_run_while_one_is_running(w):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from cxnb.reportdir import client_lock\n"
         f"with client_lock(Path({str(w.report)!r}), 'small'):\n    print('locked', flush=True); time.sleep(120)"],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    w.cleanup.append(lambda: (holder.kill(), holder.wait()))
    assert holder.stdout.readline().strip() == "locked"
    w.expected_pid = holder.pid
    return lambda: w.run("--out", w.report, "--only", "data_quality")


def case_read_only_report_folder(w):
    _read_only(w, w.report)
    return lambda: w.run("--out", w.report)


def case_read_only_reports_folder(w):
    _read_only(w, w.reports)
    return lambda: w.run("--out", w.report)


def _raise_in_prepare(w, exc: BaseException) -> None:
    def prepare(params, run_dir, **kwargs):
        raise exc
    w.monkeypatch.setattr(data_module, "prepare", prepare)


def case_permission_denied_while_writing(w):
    _raise_in_prepare(w, PermissionError(errno.EACCES, "Permission denied", "/srv/reports/small/data/x.parquet"))
    return lambda: w.run("--out", w.report)


def case_disk_full_while_preparing(w):
    import duckdb

    _raise_in_prepare(w, duckdb.IOException('IO Error: Could not write file "/srv/reports/small/data/'
                                            'transactions.parquet": No space left on device'))
    return lambda: w.run("--out", w.report)


def case_disk_full_after_the_stages(w):
    """The stage ran; the disk fills while the marker is written, just before the swap."""
    def full(folder, *args):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / MARKER))
    w.monkeypatch.setattr(report, "write_marker", full)
    return lambda: w.run("--out", w.report, "--only", "data_quality")


def case_client_slug_too_long(w):
    long = write_params(w.root / "client", PARAMS.replace("client: small", "client: " + "a" * 300), "long.yaml")
    w.monkeypatch.setattr(report, "repo_root", lambda: w.root)
    return lambda: w.run(params=long)


def case_out_name_too_long(w):
    return lambda: w.run("--out", w.root / ("r" * 300))


def case_folder_as_parameter_file(w):
    return lambda: w.run(params=w.root / "client")


def case_folder_as_parameter_file_validate(w):
    return lambda: w.cli("validate", w.root / "client")


def _signal_during_a_notebook(w: World, signum: int) -> tuple[int, str]:
    """Send ``signum`` to the whole job (as a shell's Ctrl-C or kill does) while a notebook runs."""
    proc = w.subprocess_run("--out", w.report, "--only", "data_quality")
    _wait_for(_kernel_running(w))
    time.sleep(1.0)
    os.killpg(proc.pid, signum)
    return _finish(proc)


def case_sigterm(w):
    return lambda: _signal_during_a_notebook(w, signal.SIGTERM)


def case_sigint(w):
    return lambda: _signal_during_a_notebook(w, signal.SIGINT)


def case_stale_temp_folders_of_killed_runs(w):
    """Runs killed with kill -9 left temporary folders; the next run removes those whose process is gone (a live
    run's stays). The run itself then fails on bad data, so the previous report must survive too."""
    dead = w.reports / f".small.tmp-{_dead_pid()}-k9k9k9k9"
    (dead / "data").mkdir(parents=True)
    (dead / "data" / "transactions.parquet").write_bytes(b"half written")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    w.cleanup.append(lambda: (sleeper.kill(), sleeper.wait()))
    live = w.reports / f".small.tmp-{sleeper.pid}-livelive"
    live.mkdir()
    w.expected_kept = [live]
    (w.root / "client" / "data" / "orders.csv").write_text("customer_id,timestamp\nx,not a date\n")
    return lambda: w.run("--out", w.report)


def case_failed_notebook_kept_owner_only(w):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("params = ''\nrun_dir = ''", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("raise ValueError('planted failure')"),
    ], metadata={"kernelspec": {"name": "cxnb", "display_name": "cxnb", "language": "python"}})
    notebooks = w.root / "notebooks"
    notebooks.mkdir()
    nbformat.write(nb, notebooks / "01_data_quality.ipynb")
    w.monkeypatch.setattr(report, "notebooks_dir", lambda: notebooks)
    short = tempfile.mkdtemp(prefix="cx")  # kernel sockets live here too: keep the path short
    w.cleanup.append(lambda: shutil.rmtree(short))
    w.monkeypatch.setattr(tempfile, "tempdir", short)
    return lambda: w.run("--out", w.report, "--only", "data_quality")


# case -> (set-up, exit code, what the one line must say)
CASES = {
    "--out . holding the data one level down": (case_out_holds_data_one_level_down, 2, "holds the client's data"),
    "--out an unrelated folder with files": (case_out_unrelated_folder, 2, "notes: the folder is not empty and was "
                                             "not written by cxnb (it has no .cxnb-report file)"),
    "--out an existing file": (case_out_is_a_file, 2, "report.html is a file, not a folder"),
    "--out another client's report": (case_out_holds_another_clients_report, 2,
                                      "holds the report of client 'small', not 'other'"),
    "default folder of an older cxnb (no marker)": (case_default_folder_of_an_older_cxnb, 2,
                                                    "reports/small: the folder is not empty and was not written by "
                                                    "cxnb (it has no .cxnb-report file); refusing to replace it. If "
                                                    "it is a report of an older cxnb, move it away or delete it"),
    "--only after the parameters changed": (case_only_after_parameters_changed, 2,
                                            "was made with other parameters"),
    "--only after the data changed": (case_only_after_data_changed, 2, "the data changed since the report"),
    "second run while one is running": (case_second_run_while_one_is_running, 2, "another cxnb run (pid {pid}) is "
                                        "writing the report of client 'small'"),
    "read-only report folder": (case_read_only_report_folder, 2, "reports/small is read-only"),
    "read-only reports/": (case_read_only_reports_folder, 2, "cannot write into {reports}: permission denied"),
    "PermissionError while writing": (case_permission_denied_while_writing, 2,
                                      "permission denied: /srv/reports/small/data/x.parquet"),
    "disk full in DuckDB (ENOSPC)": (case_disk_full_while_preparing, 2, "no space left on the disk while writing "
                                     "/srv/reports/small/data/transactions.parquet"),
    "disk full before the swap (ENOSPC)": (case_disk_full_after_the_stages, 2,
                                           "no space left on the disk while writing"),
    "client slug too long (ENAMETOOLONG)": (case_client_slug_too_long, 2, "long.yaml: key 'client': the slug is "
                                            "300 characters long"),
    "--out name too long (ENAMETOOLONG)": (case_out_name_too_long, 2, "the folder name is 300 bytes long"),
    "folder as the parameter file (run)": (case_folder_as_parameter_file, 2, "client: is a folder; give the YAML file "
                                           "inside, e.g. "),
    "folder as the parameter file (validate)": (case_folder_as_parameter_file_validate, 2,
                                                "client: is a folder; give the YAML file inside"),
    "SIGTERM during a notebook": (case_sigterm, 143, "cxnb: terminated; the previous report is untouched"),
    "SIGINT (Ctrl-C) during a notebook": (case_sigint, 130, "cxnb: interrupted; the previous report is untouched"),
    "temp folders of killed runs": (case_stale_temp_folders_of_killed_runs, 2, "timestamp"),
    "failed notebook": (case_failed_notebook_kept_owner_only, 1, "01_data_quality.ipynb failed in cell 3: "
                        "ValueError: planted failure (executed notebook kept at "),
}


@pytest.mark.parametrize("case", list(CASES))
def test_runner_case(case, world):
    setup, code, expected = CASES[case]
    act = setup(world)
    before = checksums(world.root)
    got, err = act()
    expected = expected.format(pid=world.expected_pid, reports=world.reports)
    assert got == code, err
    assert err.strip().count("\n") == 0, err
    assert err.startswith("cxnb: "), err
    assert expected in err, err
    for noise in ("Traceback", "zmq", "IPKernelApp"):
        assert noise not in err, err
    assert checksums(world.root) == before, "a file changed"
    assert _temp_folders(world) == world.expected_kept
    if case == "failed notebook":
        _assert_kept_owner_only(err)


def _assert_kept_owner_only(err: str) -> None:
    kept = Path(re.search(r"kept at (\S+?\.ipynb)", err)[1])
    assert re.fullmatch(r"small-\d{8}-\d{6}-\d+-[0-9a-f]{6}", kept.parent.name), kept
    assert kept.parent.parent.name == "cxnb-failed"
    assert "planted failure" in kept.read_text()
    for path, mode in ((kept.parent.parent, 0o700), (kept.parent, 0o700), (kept, 0o600),
                       (kept.parent / "kernel.log", 0o600)):
        assert stat.S_IMODE(path.stat().st_mode) == mode, path


def test_runs_that_may_replace_the_folder(world):
    """The other side of the rule: a new folder, an empty one and the client's own marked report are written."""
    (world.root / "empty").mkdir()
    for out in (world.root / "new" / "deeper", world.root / "empty", world.report):
        code, err = world.run("--out", out, "--only", "data_quality")
        assert (code, err) == (0, ""), out
        marker = read_marker(out)
        assert marker["client"] == CLIENT and len(marker["params_hash"]) == 64 and marker["written_at"]
    assert not _temp_folders(world)


def test_successful_run_prints_nothing_from_the_kernel(world):
    """A quiet successful run writes nothing at all to the terminal: the kernel's own log lines (such as
    '[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.' at shutdown) go to its log, which is not kept."""
    code, err = _finish(world.subprocess_run("--out", world.report, "--only", "data_quality"))
    assert (code, err) == (0, "")
    assert not (world.report / kernels.KERNEL_LOG).exists()


def test_kernel_log_lines_go_to_the_log_file(tmp_path, capfd):
    """The kernel manager of a run sends the kernel's stdout/stderr (its IPKernelApp log) to the log file."""
    log = tmp_path / "kernel.log"

    async def run_kernel():
        km = kernels.ipc_kernel_manager(log)(kernel_name=kernels.ensure_kernel())
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            await kc.execute_interactive("get_ipython().kernel.log.error('cxnb-probe from the kernel')", timeout=60)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel()

    asyncio.run(run_kernel())
    assert "cxnb-probe from the kernel" in log.read_text()
    captured = capfd.readouterr()
    assert "cxnb-probe" not in captured.err + captured.out
    assert not kernels._KERNELS


@pytest.mark.slow
def test_kill_9_leaves_a_temp_folder_the_next_run_removes(world):
    proc = world.subprocess_run("--out", world.report, "--only", "data_quality")
    _wait_for(_kernel_running(world))
    _wait_for(lambda: len(_sockets_of(proc.pid)) == 5)  # the kernel has bound its five channels
    proc.kill()
    proc.wait()
    left = _temp_folders(world)
    assert [p.name.split("-")[1] for p in left] == [str(proc.pid)]
    _wait_for(lambda: not _kernels_of(proc.pid), timeout=60)  # the orphaned kernel stops by itself
    assert _sockets_of(proc.pid), "the killed run left its kernel's sockets"
    code, err = world.run("--out", world.report, "--only", "data_quality")
    assert (code, err) == (0, "")
    assert not _temp_folders(world)
    assert not _sockets_of(proc.pid)


def _sockets_of(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"{kernels.SOCKET_PREFIX}{pid}-*"))


def _kernels_of(parent: int) -> list[int]:
    """Kernel processes started by the process ``parent`` (jupyter_client records it in JPY_PARENT_PID)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"JPY_PARENT_PID={parent}".encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_lock_names_the_running_process(world):
    with client_lock(world.report, CLIENT):
        code, err = world.run("--out", world.report)
    assert code == 2 and f"(pid {os.getpid()})" in err
    code, _ = world.run("--out", world.report, "--only", "data_quality")
    assert code == 0
