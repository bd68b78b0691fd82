"""The shape every report stage follows, and the one place values are made ready for ``metrics.json``.

A stage is a package ``cxnb/<stage>/`` whose ``__init__.py`` exposes:

- ``check(run) -> None`` — raises :class:`cxnb.errors.StageSkipped` with a reason when the inputs are absent;
- ``run_stage(run, config) -> <Stage>Result`` — computes everything once;
- ``<Stage>Result.metrics() -> <Stage>Metrics`` — a :class:`StageMetrics` (pydantic) model of the stage's
  ``metrics.json`` entry, the same class the index page reads back;
- tables and plots as functions of the result (plots take ``ax=None`` and return the axes).

Computation returns message keys and values; translation happens in tables, plots and notebooks only.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

METRIC_DIGITS = 6


def json_ready(value: Any, digits: int = METRIC_DIGITS) -> Any:
    """Plain JSON values, recursively: numpy scalars unwrapped, floats rounded to ``digits`` decimals (so
    metrics.json is byte-identical across runs when a threaded sum differs in its last bit), NaN and ±inf as
    None (they are not JSON), dates as ISO strings."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if isinstance(value, dict):
        return {str(k): json_ready(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v, digits) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "isoformat") and hasattr(value, "tz_localize"):  # pandas Timestamp
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, digits) + 0.0
    return value


class StageMetrics(BaseModel):
    """Base of every stage's typed ``metrics.json`` entry (unknown fields are errors)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=False)

    def as_json(self) -> dict:
        """The entry as plain, rounded JSON values."""
        return json_ready(self)


class Skipped(StageMetrics):
    """The entry of a stage that did not run: ``{"skipped": "<reason>"}``."""

    skipped: str


@runtime_checkable
class StageResult(Protocol):
    """What ``run_stage`` returns: computed once, read by tables, plots and ``metrics()``."""

    def metrics(self) -> StageMetrics: ...
