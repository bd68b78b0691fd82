"""Every page: title, navigation, contents, footer, and the methods moved into one collapsed section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, get_args, get_origin

import pytest
from bs4 import BeautifulSoup

from cxnb.pages import PageInfo, decorate

PAGE = """<html><head><title>Notebook</title></head><body><main>
<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedMarkdown celltag_lang-en"><h2>Findings</h2></div></div>
<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedMarkdown celltag_methods"><h2>Methods</h2>
<p>BG/NBD by maximum likelihood.</p></div></div>
<div class="jp-Cell jp-CodeCell celltag_methods"><table><tr><td>r</td><td>0.24</td></tr></table></div>
<div class="jp-Cell jp-MarkdownCell"><div class="jp-RenderedMarkdown"><h2>What to do</h2></div></div>
</main></body></html>"""
INFO = PageInfo("Demo <Retail>", "en", {"customer_value": "07_customer_value"}, "2026-12-03", "2023-01-01 – 2024-12-31",
                "abc123")


def test_methods_cells_move_in_order_into_one_collapsed_section_at_the_end():
    soup = BeautifulSoup(decorate(PAGE, INFO, "customer_value"), "html.parser")
    details = soup.select("details.cxnb-methods")
    assert len(details) == 1 and details[0].summary.get_text() == "How this was computed"
    assert [c.get_text(" ", strip=True)[:7] for c in details[0].select(".jp-Cell")] == ["Methods", "r 0.24"]
    main = soup.find("main")
    assert main.find_all(recursive=False)[-1] is details[0]  # after "What to do"
    toc = soup.select_one(".cxnb-toc").get_text(" ")
    assert "Findings" in toc and "What to do" in toc and "Methods" not in toc
    assert soup.title.get_text() == "Demo <Retail> — Customer value" and "&lt;Retail&gt;" in str(soup.title)


def test_decorating_twice_keeps_one_methods_section():
    once = decorate(PAGE, INFO, "customer_value")
    twice = BeautifulSoup(decorate(once, INFO, "customer_value"), "html.parser")
    assert len(twice.select("details.cxnb-methods")) == 1 and len(twice.select(".cxnb-methods .jp-Cell")) == 2
    assert len(twice.select(".cxnb-nav")) == 1 and len(twice.select(".cxnb-footer")) == 1


# ------------------------------------------------------------------------- what a client reads: no parameter keys

DOTTED_KEY = re.compile(r"\b(?:data|analysis|privacy|report)\.[a-z_]+")
FILE_PATH = re.compile(r"^[\w./-]+\.(csv|xlsx|html|json|parquet)$")


def parameter_words() -> set[str]:
    """The snake_case keys of the parameter file (min_group_size, mmr_lambda, ...) and the snake_case values
    they take (item_cf, bg_nbd): words of the file, not of a client's report."""
    from pydantic import BaseModel

    from cxnb.config import Params

    words: set[str] = set()

    def walk(model: type[BaseModel]) -> None:
        for name, info in model.model_fields.items():
            words.add(name)
            stack = [info.annotation]
            while stack:
                kind = stack.pop()
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    walk(kind)
                elif get_origin(kind) is Literal:
                    words.update(v for v in get_args(kind) if isinstance(v, str))
                else:
                    stack.extend(get_args(kind))

    walk(Params)
    return {w for w in words if "_" in w}


def client_text(page: Path) -> tuple[str, list[str]]:
    """The text a client reads on ``page`` (the collapsed methods section left out) and its ``<code>`` spans."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    for tag in soup.select("details.cxnb-methods, style, script, title"):
        tag.decompose()
    return soup.get_text(" "), [c.get_text() for c in soup.find_all("code")]


def parameter_leaks(report: Path) -> dict[str, list[str]]:
    """Per page, the parameter keys, code names and code spans (other than file names) a client would read."""
    words = parameter_words()
    leaks = {}
    for page in sorted(report.glob("*.html")):
        text, codes = client_text(page)
        found = DOTTED_KEY.findall(text) + sorted(w for w in words if re.search(rf"\b{w}\b", text))
        found += [f"<code>{c}</code>" for c in codes if not FILE_PATH.match(c.strip())]
        found += ["a backtick"] if "`" in text else []
        if found:
            leaks[page.name] = sorted(set(found))
    return leaks


def test_the_parameter_words_are_the_ones_a_client_cannot_read():
    words = parameter_words()
    assert {"min_group_size", "mmr_lambda", "top_n", "k_range", "pseudonymize_ids", "item_cf"} <= words
    assert not words & {"customer_id", "item_id", "label", "seed"}  # column names and plain words stay readable


@pytest.mark.slow
def test_no_page_of_the_demo_report_shows_a_parameter_key(demo_report, zh_demo_report):
    leaks = {f"{report.name}/{page}": found for report in (demo_report, zh_demo_report)
             for page, found in parameter_leaks(report).items()}
    assert not leaks, leaks
