"""What a notebook works with: a run opened on scratch data, never on a delivered report."""

from __future__ import annotations

import pytest

from cxnb.context import REPORT_MARKER, is_delivered_report, open_run
from cxnb.errors import CxnbError
from tests.conftest import ROOT


@pytest.mark.parametrize("marker", [REPORT_MARKER, "manifest.json"])
def test_a_notebook_run_refuses_a_finished_report_folder(tmp_path, marker):
    report = tmp_path / "acme"
    report.mkdir()
    (report / marker).write_text("{}", encoding="utf-8")
    (report / "metrics.json").write_text('{"kept": true}', encoding="utf-8")
    with pytest.raises(CxnbError, match="finished report"):
        open_run(ROOT / "params" / "demo.yaml", report)
    assert (report / "metrics.json").read_text(encoding="utf-8") == '{"kept": true}'
    assert sorted(p.name for p in report.iterdir()) == sorted([marker, "metrics.json"])


def test_the_runners_own_temporary_folder_is_not_a_delivered_report(tmp_path):
    tmp = tmp_path / ".acme.tmp-abc123"
    tmp.mkdir()
    (tmp / "manifest.json").write_text("{}", encoding="utf-8")
    assert not is_delivered_report(tmp)
    assert is_delivered_report(tmp.rename(tmp_path / "acme"))
