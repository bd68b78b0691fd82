"""Tables look the same in every report."""

from __future__ import annotations

import pandas as pd


def test_a_column_format_keeps_the_others_rounded():
    from cxnb.viz import table

    html = table(pd.DataFrame({"spend": [10861.332], "share": [0.15]}), formats={"share": "{:.1%}"}).to_html()
    assert "10,861.33" in html and "15.0%" in html and "10861.332" not in html
