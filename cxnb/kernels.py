"""The Jupyter kernels a run starts: local IPC sockets, their own log file, the libraries' log lines kept off the
terminal, and nothing left behind after an interrupted run."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from cxnb.reportdir import alive

KERNEL_NAME = "cxnb"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


KERNEL_LOG = ".kernel.log"
SOCKET_PREFIX = "cxnb-kernel-"
_KERNELS: dict[subprocess.Popen, str] = {}  # kernels this process started and has not shut down -> socket prefix


QUIETED_LOGGERS = ("papermill", "nbclient", "traitlets", "asyncio")


@contextlib.contextmanager
def quiet_libraries():
    """The libraries' own log lines (nbclient's "Kernel died while waiting for execute reply." when Ctrl-C reaches
    the kernel too, asyncio's "Task exception was never retrieved") stay off the terminal during a run: the
    runner reports every failure itself, in one line."""
    import logging

    loggers = [logging.getLogger(name) for name in QUIETED_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def ipc_kernel_manager(log_path: Path):
    """A kernel manager using local IPC sockets (no TCP ports, no plain-text-over-TCP warning) whose kernel writes
    its own messages (e.g. ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.``, which jupyter_client's
    shutdown provokes by interrupting the kernel before asking it to stop) to ``log_path``, not the terminal."""
    from jupyter_client.manager import AsyncKernelManager

    class IpcKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            # A unique socket path per kernel: runs at the same time must never share sockets.
            # The owner's pid is in the name, so the next run can remove what a run killed with kill -9 left.
            ip = str(Path(tempfile.gettempdir()) / f"{SOCKET_PREFIX}{os.getpid()}-{uuid.uuid4().hex}")
            super().__init__(transport="ipc", ip=ip, **kwargs)

        async def start_kernel(self, **kw):
            # Charts go into the notebook even where the shell sets another backend (MPLBACKEND=Agg on CI).
            env = dict(kw.pop("env", None) or os.environ)
            env["MPLBACKEND"] = INLINE_BACKEND
            with log_path.open("ab") as log:
                await super().start_kernel(env=env, stdout=log, stderr=log, **kw)
            process = getattr(self.provisioner, "process", None)
            if process is not None:
                _KERNELS[process] = self.ip

        async def shutdown_kernel(self, now: bool = False, restart: bool = False):
            process = getattr(self.provisioner, "process", None)
            try:
                await super().shutdown_kernel(now=now, restart=restart)
            finally:
                _KERNELS.pop(process, None)

    return IpcKernelManager


def stop_kernels() -> None:
    """Kill the kernels an interrupted run left behind, so none writes into a folder being removed, and remove
    their sockets."""
    for process, sockets in list(_KERNELS.items()):
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        for socket in Path(sockets).parent.glob(f"{Path(sockets).name}-*"):
            socket.unlink(missing_ok=True)
        _KERNELS.pop(process, None)


def remove_stale_sockets() -> None:
    """Remove the kernel sockets of runs whose process is gone (killed with kill -9)."""
    for socket in Path(tempfile.gettempdir()).glob(f"{SOCKET_PREFIX}*-*-[0-9]"):
        pid = socket.name.removeprefix(SOCKET_PREFIX).split("-")[0]
        if pid.isdigit() and socket.is_socket() and socket.lstat().st_uid == os.getuid() and not alive(int(pid)):
            socket.unlink(missing_ok=True)


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
