"""The report folder of a run: which folders a run may replace, the lock held for the whole run, temporary
folders (named after the process that owns them) and the swap that puts a finished report in place."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from cxnb.errors import OutputError

MARKER = ".cxnb-report"
# Bytes a temporary folder name adds to the report folder's name: ".<name>.tmp-<pid up to 7 digits>-<8 chars>".
TEMP_NAME_OVERHEAD = len(".") + len(".tmp-") + 7 + len("-") + 8


def read_marker(folder: Path) -> dict | None:
    """The marker a cxnb run wrote into ``folder`` (client, params_hash, ...), or None when there is none."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("client"), str) else None


def write_marker(folder: Path, client: str, params_hash: str, inputs_hash: str, run_id: str) -> None:
    """Mark ``folder`` as a report a cxnb run wrote: only such folders may be replaced by a later run."""
    marker = {"client": client, "params_hash": params_hash, "inputs_hash": inputs_hash, "run_id": run_id,
              "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (folder / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def replaceable_report(target: Path, client: str, label: str) -> dict | None:
    """Refuse a ``target`` a run may not replace; returns the marker of the report it holds (None: no report).

    A run replaces only a folder that does not exist, is empty, or holds a report of the same client written by
    cxnb (it has the marker). Anything else, a file, or a read-only folder, is an OutputError naming it.
    """
    if target.exists() and not target.is_dir():
        raise OutputError(f"{label} is a file, not a folder; give a new folder, an empty one or the report folder "
                          "of an earlier cxnb run.")
    if not target.exists():
        return None
    marker = read_marker(target)
    if marker is None:
        if not any(target.iterdir()):
            return None
        raise OutputError(f"{label}: the folder is not empty and was not written by cxnb (it has no {MARKER} "
                          "file); refusing to replace it. If it is a report of an older cxnb, move it away or delete "
                          "it; otherwise give another folder with --out.")
    if marker["client"] != client:
        raise OutputError(f"{label} holds the report of client '{marker['client']}', not '{client}'; give "
                          "another folder with --out.")
    if not os.access(target, os.W_OK | os.X_OK):
        raise OutputError(f"{label} is read-only; make it writable (chmod u+w) or give another folder with --out.")
    return marker


def existing_ancestor(path: Path) -> Path:
    """The nearest folder of ``path`` (or ``path`` itself) that exists."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable_parent(target: Path) -> None:
    """The folder that will hold the report (and its lock and temporary folders) can be written."""
    parent = existing_ancestor(target.parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {parent}: permission denied; make it writable or give another "
                          "folder with --out.")


def max_name_bytes(target: Path) -> int:
    """The longest report folder name (in bytes) whose temporary folders still fit this file system."""
    try:
        limit = os.pathconf(existing_ancestor(target.parent), "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    return limit - TEMP_NAME_OVERHEAD


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


@contextlib.contextmanager
def client_lock(target: Path, client: str) -> Iterator[None]:
    """Hold the lock of a report folder for the whole run; a second run of it fails at once, naming the first."""
    fd = os.open(_lock_path(target), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            raise OutputError(f"another cxnb run (pid {other}) is writing the report of client '{client}' in "
                              f"{target}; wait for it to finish (or stop it) and run again.") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def make_temp_dir(target: Path) -> Path:
    """A new temporary folder beside ``target`` whose name holds this process's id."""
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))


def _old_dir(target: Path) -> Path:
    return target.parent / f".{target.name}.old-{os.getpid()}"


def alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Remove what runs of ``target`` killed with ``kill -9`` left (their process is gone); a swap killed between
    its two renames has its previous report put back. Call while holding the lock; returns what was removed."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:tmp-(\d+)-[A-Za-z0-9_]+|old-(\d+))")
    removed = []
    for path in sorted(target.parent.iterdir()):
        match = pattern.fullmatch(path.name)
        if not match or path.is_symlink() or not path.is_dir():
            continue
        pid = int(match[1] or match[2])
        if pid == os.getpid() or alive(pid):
            continue
        if match[2] and not target.exists():
            os.rename(path, target)
            continue
        shutil.rmtree(path)
        removed.append(path)
    return removed


def swap_in(tmp: Path, target: Path) -> None:
    """Replace ``target`` by ``tmp`` with two renames; if the second fails the previous report is put back."""
    old = _old_dir(target)
    had_report = target.exists()
    if had_report:
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        if had_report:
            os.rename(old, target)
        raise
    if had_report:
        shutil.rmtree(old, ignore_errors=True)
