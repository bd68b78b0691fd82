"""Stage notebooks side by side (cxnb.parallel): the order of needs, the cap on workers, the first failure."""

from __future__ import annotations

import threading
import time

import pytest

from cxnb.constants import STAGE_NEEDS, STAGE_PRIORITY, STAGES
from cxnb.errors import CxnbError
from cxnb.parallel import default_jobs, ready_order, run_jobs


def _recorder(seconds: dict[str, float] | None = None, fail: str | None = None):
    lock, log, live = threading.Lock(), [], [0, 0]  # events; [running now, most at once]

    def work(job: str) -> str:
        with lock:
            log.append(("start", job))
            live[0] += 1
            live[1] = max(live[1], live[0])
        time.sleep((seconds or {}).get(job, 0.05))
        with lock:
            live[0] -= 1
            log.append(("end", job))
        if job == fail:
            raise ValueError(f"{job} failed")
        return job.upper()

    return work, log, live


def test_every_job_runs_once_and_returns_its_result():
    work, log, live = _recorder()
    out = run_jobs(list(STAGES), work, 2, STAGE_NEEDS, STAGE_PRIORITY)
    assert out == {s: s.upper() for s in STAGES}
    assert sorted(j for e, j in log if e == "start") == sorted(STAGES)
    assert live[1] == 2


def test_a_stage_starts_only_after_the_stages_it_reads():
    work, log, _ = _recorder({"segmentation": 0.3})
    run_jobs(list(STAGES), work, 3, STAGE_NEEDS, STAGE_PRIORITY)
    assert log.index(("start", "customer_value")) > log.index(("end", "segmentation"))


def test_a_need_outside_the_jobs_does_not_hold_a_stage_back():
    work, log, _ = _recorder()
    assert run_jobs(["customer_value"], work, 2, STAGE_NEEDS) == {"customer_value": "CUSTOMER_VALUE"}


def test_one_worker_runs_in_priority_order():
    work, log, live = _recorder()
    run_jobs(list(STAGES), work, 1, STAGE_NEEDS, STAGE_PRIORITY)
    assert [j for e, j in log if e == "start"] == list(STAGE_PRIORITY)
    assert live[1] == 1


def test_the_first_failure_starts_nothing_new_stops_the_running_and_is_raised():
    stops = []
    work, log, _ = _recorder({"behavior_prediction": 0.4, "segmentation": 0.05}, fail="segmentation")
    with pytest.raises(ValueError, match="segmentation failed"):
        run_jobs(list(STAGES), work, 2, STAGE_NEEDS, STAGE_PRIORITY, stop=lambda: stops.append(1))
    started = [j for e, j in log if e == "start"]
    assert "customer_value" not in started and len(started) <= 3
    assert ("end", "behavior_prediction") in log, "the running job was not waited for"
    assert stops, "stop was not called while a job was still running"


def test_ready_order_puts_unknown_jobs_last():
    assert ready_order(["b", "x", "a"], ["a", "b"]) == ["a", "b", "x"]


def test_jobs_from_the_environment(monkeypatch):
    monkeypatch.setenv("CXNB_JOBS", "3")
    assert default_jobs() == 3
    monkeypatch.setenv("CXNB_JOBS", "two")
    with pytest.raises(CxnbError, match="CXNB_JOBS='two'"):
        default_jobs()
    monkeypatch.delenv("CXNB_JOBS")
    assert 1 <= default_jobs() <= 2
