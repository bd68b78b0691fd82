"""Message catalogues (cxnb.i18n): every key in every language, and every key the code uses exists."""

from __future__ import annotations

import re
import string

import pytest

from cxnb.i18n import LANGUAGES, catalogue, t
from tests.conftest import ROOT


def test_every_language_has_every_key():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        missing = keys["en"] - keys[lang]
        extra = keys[lang] - keys["en"]
        assert not missing, f"missing in messages/{lang}/: {sorted(missing)}"
        assert not extra, f"only in messages/{lang}/: {sorted(extra)}"


def test_placeholders_agree_between_languages():
    def fields(text):
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    en = catalogue("en")
    for lang in LANGUAGES:
        for key, text in catalogue(lang).items():
            assert fields(text) == fields(en[key]), (lang, key)


def test_every_key_used_in_code_and_notebooks_exists():
    pattern = re.compile(r"""(?:\bt|T|T\.md|_t)\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""")
    used = set()
    for path in [*ROOT.glob("cxnb/**/*.py"), *ROOT.glob("notebooks/*.ipynb")]:
        used |= set(pattern.findall(path.read_text(encoding="utf-8")))
    assert used, "no message keys found: the pattern is wrong"
    for lang in LANGUAGES:
        missing = used - set(catalogue(lang))
        assert not missing, f"used but missing from messages/{lang}/: {sorted(missing)}"


def test_missing_key_is_a_clear_error():
    with pytest.raises(KeyError, match="missing from cxnb/messages/zh/"):
        t("no.such.key", "zh")


def test_chinese_text_is_chinese():
    assert t("stage.segmentation", "zh") == "客户细分"
    assert t("summary.seg_k", "zh", k=4, silhouette="0.41").startswith("客户可分为 4 个细分")
