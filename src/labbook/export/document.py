"""One compiled report as a standalone HTML document for print: cover, contents, body.

The body is the report's Markdown rendered with the site's own extensions, then made
fit for paper: each chart becomes the SVG its Plotly figure exports to, math becomes
SVG (WeasyPrint reads no MathML), footnotes become real footnotes, and the headings
give a table of contents with page numbers.
"""

from __future__ import annotations

import base64
import dataclasses
import html as html_lib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from ..git import BuildInfo
from ..pagecache import CachedPage
from ..site.assets import MARKDOWN_EXTENSIONS

if TYPE_CHECKING:
    from ..report.compile import CompiledPage

# What labbook's compile writes for a chart (see templates/blocks/chart.html).
_PLOT = re.compile(
    r'<div class="labbook-plot" data-labbook-figure="(?P<id>[^"]+)"[^>]*></div>'
    r"(?P<between>(?:(?!<script).)*?)"
    r'<script type="application/json" id="(?P=id)">(?P<json>.*?)</script>',
    re.S,
)
_MATH = re.compile(r"<math\b[^>]*>.*?</math>", re.S)
_HEADING = re.compile(r'<h([23])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
_FOOTNOTES = re.compile(r'<div class="footnote">.*?<ol>(?P<items>.*?)</ol>\s*</div>', re.S)
_FOOTNOTE_ITEM = re.compile(r'<li id="(?P<id>fn:[^"]+)">(?P<body>.*?)</li>', re.S)
_BACKREF = re.compile(r'\s*<a class="footnote-backref"[^>]*>.*?</a>', re.S)
_TAGS = re.compile(r"<[^>]+>")
_BYLINE = re.compile(r'<p class="labbook-byline">.*?</p>\n?', re.S)
# An empty block right after the cover: the page that holds it is the first after the cover.
AFTER_COVER = "labbook-after-cover"
_NO_TIME = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass
class Cover:
    """What the cover says about the report."""

    title: str
    authors: list[str] = field(default_factory=list)
    date: datetime = field(default_factory=lambda: datetime.now(UTC))
    version: str | None = None
    commit: str | None = None  # the report's newest commit, short
    commit_date: datetime | None = None
    dirty: bool = False  # the work tree differed from that commit
    read_at: datetime | None = None  # when its run data was read
    frozen: bool = False  # some of it came from a snapshot (`labbook freeze`)

    def without_clock(self) -> Cover:
        """Gives this cover with its readings of the clock (date, data read) fixed.

        They are all that changes between two prints of an unchanged report.
        """
        read_at = _NO_TIME if self.read_at else None
        return dataclasses.replace(self, date=_NO_TIME, read_at=read_at)


def cover_for(
    page: CompiledPage | CachedPage, build: BuildInfo, version: str | None = None
) -> Cover:
    """Gives the cover of a report (compiled, or kept by the page cache): title, authors,
    git commit, when data was read."""
    commit = page.last_commit
    return Cover(
        title=page.title or page.path.stem,
        authors=list(page.authors),
        version=version,
        commit=commit[0] if commit else None,
        commit_date=commit[1] if commit else None,
        dirty=build.dirty,
        read_at=page.read_at,
        frozen=page.frozen,
    )


def markdown_extensions(config: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Gives the Markdown extensions (and their options) the site renders reports with."""
    names: list[str] = []
    options: dict[str, Any] = {}
    for item in config.get("markdown_extensions") or []:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, Mapping):
            for name, value in item.items():
                names.append(str(name))
                if isinstance(value, Mapping):
                    options[str(name)] = dict(value)
    for name in (*MARKDOWN_EXTENSIONS, "toc", "md_in_html"):
        if name not in names:
            names.append(name)
    # Material's own extensions need MkDocs' context; paper needs none of them.
    names = [n for n in names if not n.startswith("material.")]
    return names, options


def render_markdown(text: str, config: Mapping[str, Any]) -> str:
    """Gives the report's Markdown as HTML, with the site's extensions where they load."""
    import markdown

    names, options = markdown_extensions(config)
    try:
        md = markdown.Markdown(
            extensions=names, extension_configs={n: options[n] for n in names if n in options}
        )
    except Exception:  # an extension this environment cannot load: paper goes without it
        kept: list[str] = []
        for name in names:
            try:
                markdown.Markdown(
                    extensions=[name], extension_configs={name: options.get(name, {})}
                )
            except Exception:
                continue
            kept.append(name)
        md = markdown.Markdown(
            extensions=kept, extension_configs={n: options[n] for n in kept if n in options}
        )
    html: str = md.convert(text)
    return html


def charts_to_images(body: str, images: Sequence[tuple[str, str]]) -> str:
    """Gives the body with its charts' plots and figure JSON replaced, in order, by `<img>`s.

    `images` holds each chart's (src, alt), in the order `figures_of` gives the figures.
    """
    found = iter(images)

    def one(match: re.Match[str]) -> str:
        src, alt = next(found)
        tag = f'<img class="labbook-chart-image" src="{escape(src)}" alt="{escape(alt)}">'
        return tag + match.group("between")

    out = _PLOT.sub(one, body)
    if next(found, None) is not None:
        raise ValueError("more images than charts")
    return out


def figures_of(body: str) -> list[dict[str, Any]]:
    """Gives the Plotly figures a rendered body embeds, in page order."""
    return [json.loads(m.group("json")) for m in _PLOT.finditer(body)]


def math_to_svg(body: str, size: float = 13.0) -> str:
    """Gives the body with its MathML as SVG images (WeasyPrint draws no MathML)."""
    if "<math" not in body:
        return body
    import ziamath

    def one(match: re.Match[str]) -> str:
        svg = ziamath.Math(match.group(0), size=size).svg()  # type: ignore[attr-defined]
        data = base64.b64encode(svg.encode()).decode()
        return f'<img class="labbook-math-image" alt="math" src="data:image/svg+xml;base64,{data}">'

    return _MATH.sub(one, body)


def without_byline(body: str) -> str:
    """Gives the body without the site's byline (authors, data read, PDF link): the cover says it."""
    return _BYLINE.sub("", body, count=1)


def real_footnotes(body: str) -> str:
    """Gives the body with Markdown's end notes moved to where they are called, as footnotes."""
    found = _FOOTNOTES.search(body)
    if not found:
        return body
    notes: dict[str, str] = {}
    for item in _FOOTNOTE_ITEM.finditer(found.group("items")):
        text = _BACKREF.sub("", item.group("body")).strip()
        text = re.sub(r"^<p>(.*)</p>$", r"\1", text, flags=re.S)
        notes[item.group("id")] = text
    body = body[: found.start()] + body[found.end() :]

    def call(match: re.Match[str]) -> str:
        note = notes.get(match.group(1))
        return f'<span class="labbook-footnote">{note}</span>' if note else match.group(0)

    return re.sub(
        r'<sup id="fnref\d*:[^"]+"><a class="footnote-ref" href="#(fn:[^"]+)"[^>]*>[^<]*</a></sup>',
        call,
        body,
    )


def contents(body: str) -> str:
    """Gives the table of contents: each h2 and h3 with its page number."""
    entries = [
        (int(level), anchor, _TAGS.sub("", text)) for level, anchor, text in _HEADING.findall(body)
    ]
    if not entries:
        return ""
    out = ['<nav class="labbook-toc"><h2>Contents</h2><ol>']
    depth = 2
    for level, anchor, text in entries:
        title = html_lib.unescape(text).replace("¶", "").strip()
        if level > depth:
            out.append("<ol>")
        elif level < depth:
            out.append("</ol>")
        depth = level
        out.append(f'<li><a href="#{escape(anchor)}">{escape(title)}</a></li>')
    if depth == 3:
        out.append("</ol>")
    out.append("</ol></nav>")
    return "".join(out)


def cover_html(cover: Cover) -> str:
    rows: list[tuple[str, str]] = [("Date", cover.date.strftime("%Y-%m-%d"))]
    if cover.version:
        rows.append(("Version", cover.version))
    if cover.commit:
        when = f" ({cover.commit_date.date().isoformat()})" if cover.commit_date else ""
        dirty = ", with uncommitted changes" if cover.dirty else ""
        rows.append(("Report commit", f"{cover.commit}{when}{dirty}"))
    else:
        rows.append(("Report commit", "not committed to git"))
    if cover.read_at:
        label = "Run data frozen (snapshot)" if cover.frozen else "Run data read"
        rows.append((label, cover.read_at.strftime("%Y-%m-%d %H:%M UTC")))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    version = (
        f'<span class="labbook-cover-version">{escape(cover.version)}</span>'
        if cover.version
        else ""
    )
    authors = ", ".join(cover.authors)
    return (
        f'<section class="labbook-cover"><h1>{escape(cover.title)}</h1>'
        f'<div class="labbook-cover-authors">{escape(authors)}</div>'
        f"<dl>{items}</dl>{version}</section>"
    )


def document(body: str, cover: Cover, stylesheets: Sequence[str], toc: bool = True) -> str:
    """Gives the whole print document: cover, contents, body."""
    return (
        _head(cover, stylesheets)
        + cover_html(cover)
        + f'<div id="{AFTER_COVER}"></div>'
        + (contents(body) if toc else "")
        + f'<main class="labbook-body">{body}</main></body></html>'
    )


def cover_document(cover: Cover, stylesheets: Sequence[str]) -> str:
    """Gives a print document of the cover alone, styled as in `document`."""
    return _head(cover, stylesheets) + cover_html(cover) + "</body></html>"


def _head(cover: Cover, stylesheets: Sequence[str]) -> str:
    styles = "".join(f"<style>{css}</style>" for css in stylesheets)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(cover.title)}</title>{styles}</head><body>"
    )


def figure_title(figure: Mapping[str, Any]) -> str:
    """Gives a figure's title, or \"chart\" (an image's alt text)."""
    layout = figure.get("layout") or {}
    title = layout.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    return str(title or "chart")


def print_stylesheets(project_root: Path, themes: Path, page_size: str | None) -> list[str]:
    """Gives the print CSS: the project's themes/print/report.css, else labbook's; code colours."""
    own = project_root / "themes" / "print" / "report.css"
    css = (own if own.is_file() else themes / "print" / "report.css").read_text(encoding="utf-8")
    sheets = [css]
    try:
        from pygments.formatters import HtmlFormatter

        sheets.append(HtmlFormatter(style="default").get_style_defs(".highlight"))
    except ImportError:  # pragma: no cover - Pygments comes with pymdown-extensions
        pass
    if page_size:
        sheets.append(f"@page {{ size: {page_size}; }}")
    return sheets
