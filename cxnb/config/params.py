"""The whole parameter file as one validated model."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr

from cxnb.config.analysis import AnalysisConfig, PrivacyConfig, ReportConfig
from cxnb.config.sources import DataConfig, StrictModel, TableConfig


class Params(StrictModel):
    """A client's parameter file."""

    client: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    language: Literal["en", "zh"] = "en"
    data: DataConfig
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The parameter file this was read from (None when built in code)."""
        return self._path

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in the file are resolved against."""
        return self.path.parent if self.path else Path.cwd()

    def csv_bom(self) -> bool:
        """Whether CSV exports carry a byte-order mark: ``report.csv_bom``, by default only for ``language: zh``."""
        return self.language == "zh" if self.report.csv_bom is None else self.report.csv_bom

    def tables(self) -> dict[str, TableConfig]:
        """The configured tables by name."""
        return {n: t for n, t in (("transactions", self.data.transactions), ("customers", self.data.customers),
                                  ("items", self.data.items)) if t is not None}

    def source_path(self, table: str) -> Path:
        """Absolute path of a file source."""
        return (self.base_dir / self.tables()[table].source).resolve()

    def params_hash(self) -> str:
        """sha256 of the validated parameters (stable across key order and formatting)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()


