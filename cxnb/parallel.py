"""Stage notebooks run side by side: a few at a time, each only after the stages it reads, the longest first."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from cxnb.errors import CxnbError

T = TypeVar("T")

JOBS_ENV = "CXNB_JOBS"
DEFAULT_JOBS = 2


def default_jobs() -> int:
    """How many stage notebooks run at once: ``CXNB_JOBS``, else 2, never more than the machine's cores."""
    raw = os.environ.get(JOBS_ENV, "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise CxnbError(f"{JOBS_ENV}={raw!r}: give a whole number of stage notebooks to run at once, e.g. 2.")
        return int(raw)
    return max(1, min(DEFAULT_JOBS, os.cpu_count() or 1))


def ready_order(jobs: Iterable[str], priority: Iterable[str]) -> list[str]:
    """``jobs`` in ``priority`` order (jobs not named there last, in their own order)."""
    jobs = list(jobs)
    rank = {name: i for i, name in enumerate(priority)}
    return sorted(jobs, key=lambda j: (rank.get(j, len(rank)), jobs.index(j)))


def run_jobs(jobs: Iterable[str], work: Callable[[str], T], workers: int, needs: dict[str, tuple[str, ...]],
             priority: Iterable[str] = (), stop: Callable[[], None] = lambda: None) -> dict[str, T]:
    """``work(job)`` for every job on up to ``workers`` threads, a job only after those of its ``needs`` that are
    among ``jobs``; returns the results by job. The first failure (or an interrupt) starts nothing new, calls
    ``stop`` until the running jobs have ended, and is raised then."""
    pending = ready_order(jobs, priority)
    wanted = set(pending)
    done: set[str] = set()
    results: dict[str, T] = {}
    running: dict[Future, str] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="cxnb-stage")
    try:
        while pending or running:
            for job in [j for j in pending if all(n in done or n not in wanted for n in needs.get(j, ()))]:
                if len(running) >= max(1, workers):
                    break
                pending.remove(job)
                running[pool.submit(work, job)] = job
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                results[job] = future.result()
                done.add(job)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        while running:
            stop()
            finished, _ = wait(running, timeout=1)
            for future in finished:
                running.pop(future)
        raise
    pool.shutdown(wait=True)
    return results
