"""What makes a rendered stage notebook a page a client can navigate: a real title, a top bar linking the index
and every stage, a table of contents of its sections, a footer (run date, data window, parameter hash), and alt
text on every chart. Applied to the HTML nbconvert writes; every value shown is escaped."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from bs4 import BeautifulSoup

from cxnb.i18n import t

# The embedded CJK face comes first in every font list. Behind system-ui it was only a fallback, and Chromium
# drew the text it laid out while the face was still loading (top bar, contents, title, first headings) with the
# system font's empty boxes, and kept them once it had loaded. Its unicode-range (CJK only) leaves Latin letters
# and digits to the system font.
SANS = ('"cxnb CJK", system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", '
        'sans-serif')
MONO = '"cxnb CJK", menlo, consolas, "DejaVu Sans Mono", monospace'
NAV_STYLE = f"""
.cxnb-nav {{ position: sticky; top: 0; z-index: 10; background: #1f3b57; padding: 0.45em 1em; display: flex;
            flex-wrap: wrap; gap: 0.3em 1.2em; font-family: {SANS}; }}
.cxnb-nav a {{ color: #fff; text-decoration: none; font-size: 0.95em; }}
.cxnb-nav a[aria-current="page"] {{ font-weight: bold; border-bottom: 2px solid #fff; }}
.cxnb-toc {{ margin: 1em auto; max-width: 70em; padding: 0.6em 1.2em; border: 1px solid #ddd; border-radius: 6px;
            font-family: {SANS}; }}
.cxnb-toc ol {{ margin: 0.3em 0; }} .cxnb-toc a {{ text-decoration: none; }}
.cxnb-footer {{ margin: 2em auto 1em; max-width: 70em; padding: 0.8em 1.2em; border-top: 1px solid #ccc;
               color: #555; font-size: 0.9em; font-family: {SANS}; }}
body, table, th, td {{ font-family: {SANS}; }}
:root {{ --jp-content-font-family: {SANS}; --jp-ui-font-family: {SANS}; --jp-code-font-family: {MONO}; }}
img {{ max-width: 100%; height: auto; }}
.cxnb-methods {{ margin: 2em 0 1em; padding: 0.4em 1em; border: 1px solid #ddd; border-radius: 6px; }}
.cxnb-methods > summary {{ cursor: pointer; font-weight: bold; font-size: 1.1em; padding: 0.3em 0; }}
.jp-OutputArea-output {{ overflow-x: auto; }}
"""


@dataclass
class PageInfo:
    """The run-level facts every page shows."""

    client_title: str
    language: str
    stages: dict[str, str]  # stage name -> file stem, in reading order, only stages with a page
    run_date: str
    data_window: str = ""
    params_hash: str = ""
    extra_links: list[tuple[str, str]] = field(default_factory=list)


def page_title(info: PageInfo, stage: str | None) -> str:
    """'Demo Retail — Behaviour prediction' (the index page: the client's title alone)."""
    return info.client_title if stage is None else f"{info.client_title} — {t(f'stage.{stage}', info.language)}"


def nav_html(info: PageInfo, current: str | None) -> str:
    """The top bar: the index page, then every stage page, the current one marked."""
    links = [("index.html", t("pages.index", info.language), current is None)]
    links += [(f"{stem}.html", t(f"stage.{stage}", info.language), stage == current)
              for stage, stem in info.stages.items()]
    current_attr = " aria-current='page'"
    items = "".join(f"<a href='{html.escape(href)}'{current_attr if here else ''}>{html.escape(label)}</a>"
                    for href, label, here in links)
    return f"<nav class='cxnb-nav' aria-label='{html.escape(t('pages.nav_label', info.language))}'>{items}</nav>"


def footer_html(info: PageInfo) -> str:
    """Run date, data window and parameter hash, in the report language."""
    text = t("pages.footer", info.language, date=info.run_date, window=info.data_window or "–",
             hash=info.params_hash[:12] or "–")
    return f"<footer class='cxnb-footer'>{html.escape(text)}</footer>"


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^\w-]+", "-", text.strip().lower()).strip("-") or "section"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def _toc(soup: BeautifulSoup, language: str) -> str | None:
    """An ordered list linking every h2 of the page (ids added where missing)."""
    taken: set[str] = {tag["id"] for tag in soup.find_all(id=True)}
    items = []
    for h in soup.find_all(["h1", "h2", "h3", "h4"]):
        if h.get("id"):  # nbconvert percent-encodes non-ASCII ids, which a fragment link never matches
            h["id"] = unquote(h["id"])
    for h in soup.find_all("h2"):
        if h.find_parent("details", class_="cxnb-methods"):
            continue
        for anchor in h.select("a.anchor-link"):
            anchor.decompose()
        label = h.get_text(" ", strip=True)
        if not label:
            continue
        if not h.get("id"):
            h["id"] = _slug(label, taken)
        items.append(f"<li><a href='#{html.escape(h['id'])}'>{html.escape(label)}</a></li>")
    if len(items) < 2:
        return None
    return (f"<nav class='cxnb-toc' aria-label='{html.escape(t('pages.toc', language))}'>"
            f"<strong>{html.escape(t('pages.toc', language))}</strong><ol>{''.join(items)}</ol></nav>")


def _methods_section(soup: BeautifulSoup, language: str) -> None:
    """Cells tagged ``methods`` (formulas, diagnostics, references) moved, in order, into one collapsed
    "How this was computed" section at the end of the page."""
    if soup.select_one("details.cxnb-methods") is not None:
        return
    cells, seen = [], set()
    for tagged in soup.select(".celltag_methods"):
        cell = tagged if "jp-Cell" in tagged.get("class", []) else tagged.find_parent(class_="jp-Cell") or tagged
        if id(cell) not in seen:
            seen.add(id(cell))
            cells.append(cell)
    if not cells:
        return
    details = soup.new_tag("details", attrs={"class": "cxnb-methods"})
    summary = soup.new_tag("summary")
    summary.string = t("pages.methods", language)
    details.append(summary)
    parent = cells[-1].parent
    for cell in cells:
        details.append(cell.extract())
    parent.append(details)


NBCONVERT_DEFAULT_ALT = "No description has been provided for this image"


def _alt_text(soup: BeautifulSoup, language: str) -> None:
    """Alt text on every chart: the heading of the section it is in (nbconvert's placeholder replaced)."""
    for img in soup.find_all("img"):
        if img.get("alt") and img["alt"] != NBCONVERT_DEFAULT_ALT:
            continue
        heading = img.find_previous(["h1", "h2", "h3"])
        section = heading.get_text(" ", strip=True).rstrip("¶").strip() if heading else ""
        img["alt"] = t("pages.chart_in", language, section=section) if section else t("pages.chart", language)


CJK_FAMILY = "cxnb CJK"
CJK_FIRST = 0x2E80  # CJK radicals onwards: ideographs, kana, hangul, full-width punctuation
CJK_RANGE = f"U+{CJK_FIRST:X}-10FFFF"


def cjk_font_face(text: str) -> str:
    """A CSS @font-face embedding Noto Sans CJK SC (shipped by ``mplfonts``) cut down to the characters of
    ``text``, so Chinese renders on machines without CJK fonts, at a few kilobytes per page."""
    import base64
    import io
    from importlib.resources import files

    from fontTools import subset

    from cxnb.viz import CJK_FONT_FILE

    chars = "".join(sorted({c for c in text if ord(c) >= CJK_FIRST}))
    if not chars:
        return ""
    options = subset.Options()
    font = subset.load_font(str(files("mplfonts") / "fonts" / CJK_FONT_FILE), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f"@font-face {{ font-family: '{CJK_FAMILY}'; src: url(data:font/otf;base64,{data}) format('opentype'); "
            f"unicode-range: {CJK_RANGE}; }}")


def decorate(page: str, info: PageInfo, stage: str | None) -> str:
    """The nbconvert HTML of ``stage`` with title, top bar, contents, footer and the page language set."""
    soup = BeautifulSoup(page, features="html.parser")
    for old in soup.select(".cxnb-nav, .cxnb-toc, .cxnb-footer, style#cxnb-style"):
        old.decompose()  # decorating again (a later --only run) replaces what an earlier run added
    if soup.title is None and soup.head is not None:
        soup.head.append(soup.new_tag("title"))
    if soup.title is not None:
        soup.title.string = page_title(info, stage)
    if soup.html is not None:
        soup.html["lang"] = "zh-CN" if info.language == "zh" else "en"
    for script in soup.find_all("script", src=re.compile(r"^(https?:)?//")):
        script.decompose()  # require.js and MathJax from a CDN: a report must open offline, and "$5" is no formula
    _alt_text(soup, info.language)
    _methods_section(soup, info.language)
    toc = _toc(soup, info.language)
    body = soup.body
    if body is not None:
        body.insert(0, BeautifulSoup(nav_html(info, stage) + (toc or ""), features="html.parser"))
        body.append(BeautifulSoup(footer_html(info), features="html.parser"))
    if soup.head is not None:
        style = soup.new_tag("style", id="cxnb-style")
        text = soup.get_text() + " ".join(img.get("alt", "") for img in soup.find_all("img"))
        style.string = (cjk_font_face(text) if info.language == "zh" else "") + NAV_STYLE
        soup.head.append(style)
    return str(soup)


def page_info(params, quality: dict, stages: dict[str, str], run_date: str) -> PageInfo:
    """The facts of a run every page shows, from the parameters and what preparing the data found."""
    summary = quality.get("tables", {}).get("transactions", {}).get("summary", {})
    window = f"{summary['first'][:10]} – {summary['last'][:10]}" if summary.get("first") else ""
    return PageInfo(params.title or params.client, params.language, stages, run_date, window, params.params_hash())


def decorate_run(run_dir, info: PageInfo) -> None:
    """Decorate index.html and every stage page of a run folder in place."""
    from pathlib import Path

    run_dir = Path(run_dir)
    pages = {None: run_dir / "index.html", **{stage: run_dir / f"{stem}.html" for stage, stem in info.stages.items()}}
    for stage, path in pages.items():
        if path.exists():
            path.write_text(decorate(path.read_text(encoding="utf-8"), info, stage), encoding="utf-8")
