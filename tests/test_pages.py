"""Every page: title, navigation, contents, footer, and the methods moved into one collapsed section."""

from __future__ import annotations

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
