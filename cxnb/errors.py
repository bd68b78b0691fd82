"""The kit's own error types: one readable line for the user, and the exit code of the command line."""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable


def did_you_mean(name: object, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``name``, or an empty string."""
    near = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=cutoff)
    return f" (did you mean '{near[0]}'?)" if near else ""


class CxnbError(Exception):
    """A problem with the user's input: the message names the file, key or column and the fix."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class ConfigError(CxnbError):
    """The parameter file is invalid."""


class DataError(CxnbError):
    """The client's data cannot be loaded, mapped or cleaned."""


class StageSkipped(CxnbError):
    """A stage cannot run on this data; the reason is shown in the report and the rest of the run goes on."""

    exit_code = 0


class RunFailed(CxnbError):
    """A notebook failed while running a report."""

    exit_code = 1


class OutputError(CxnbError):
    """The report cannot be written where asked: not a report folder, in use, not writable, disk full."""

    @classmethod
    def from_os_error(cls, exc: OSError, suffix: str = "") -> OutputError:
        """One line saying what the operating system refused, on which path, and what to do."""
        return cls(os_error_message(exc) + suffix)


_OS_ERROR_FIXES = {
    errno.EACCES: "permission denied: {path}; make the folder writable or choose another report folder with --out",
    errno.EPERM: "operation not permitted: {path}; make the folder writable or choose another report folder with --out",
    errno.EROFS: "read-only file system: {path}; choose another report folder with --out",
    errno.ENOSPC: "no space left on the disk while writing {path}; free some space and run again",
    errno.EDQUOT: "disk quota exceeded while writing {path}; free some space and run again",
    errno.ENAMETOOLONG: "the path {path} is too long for the file system; choose a shorter client slug "
                        "(key 'client') or a shorter --out folder",
}


def os_error_message(exc: OSError) -> str:
    """A one-line description of an operating-system error with its path and the fix."""
    path = exc.filename if exc.filename is not None else "(unknown path)"
    template = _OS_ERROR_FIXES.get(exc.errno)
    if template:
        return template.format(path=path)
    return f"{exc.strerror or exc}: {path}"


class Terminated(BaseException):
    """The run received SIGTERM; temporary output is removed and the previous report is kept. A BaseException,
    like KeyboardInterrupt, so that no ``except Exception`` inside a library swallows it."""
