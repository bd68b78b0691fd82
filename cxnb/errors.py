"""The kit's own error types: one readable line for the user, exit code 2 on the command line."""

from __future__ import annotations


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


class Terminated(Exception):
    """The run received SIGTERM; temporary output is removed and the previous report is kept."""
