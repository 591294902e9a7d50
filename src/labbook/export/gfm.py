"""A compiled report as GitHub-flavoured Markdown, with its charts as image files beside it.

For a pull-request comment or a wiki: the prose as written with its expressions
evaluated, each table as a GFM table, each chart as an SVG (and a PNG with `--png`)
next to the Markdown, referenced by a relative path with its caption under it. Math
stays `$…$`, which GitHub renders itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..report.compile import CompiledPage
from .figures import FigureExporter, print_figure
from .files import FILES_DIR, write_atomically

_BLOCK_START = ('<div class="labbook-block', '<div class="admonition failure labbook-error"')


@dataclass
class GfmResult:
    markdown: Path
    images: list[Path] = field(default_factory=list)
    exported: int = 0
    cached: int = 0


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find_all(self, predicate: Callable[[_Node], bool]) -> list[_Node]:
        out = [self] if predicate(self) else []
        for child in self.children:
            if isinstance(child, _Node):
                out.extend(child.find_all(predicate))
        return out


_VOID = {"br", "img", "hr", "input", "meta", "link", "col", "source", "wbr"}


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def _parse(html: str) -> _Node:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree.root


def _cell(text: str) -> str:
    """Gives text safe in a GFM table cell: one line, pipes and markup escaped."""
    text = " ".join(text.split())
    return _inline(text).replace("|", "\\|")


def _inline(text: str) -> str:
    """Gives run-derived text inert in Markdown: no HTML, no emphasis, no links."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]#!])", r"\\\1", text)


def _table(node: _Node) -> str:
    head = [_cell(th.text()) for th in node.find_all(lambda n: n.tag == "th")]
    rows = []
    for tr in node.find_all(lambda n: n.tag == "tr"):
        cells = [c for c in tr.children if isinstance(c, _Node) and c.tag == "td"]
        if cells:
            rows.append([_cell(td.text()) for td in cells])
    if not head and rows:
        head = [""] * len(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class _Converter:
    """Turns a block's HTML into GFM; charts and images become files beside the Markdown."""

    def __init__(
        self, stem: str, out_dir: Path, base_dir: Path, chart: Callable[[dict[str, Any], str], str]
    ) -> None:
        self.stem = stem
        self.out_dir = out_dir
        self.base_dir = base_dir
        self.chart = chart
        self.images: list[Path] = []
        self.figures = 0
        self.alt = ""

    def block(self, html: str) -> str:
        root = _parse(html)
        top = next((c for c in root.children if isinstance(c, _Node)), None)
        if top is None:
            return ""
        if "labbook-error" in top.classes():
            paragraphs = [p.text().strip() for p in top.find_all(lambda n: n.tag == "p")]
            return "\n".join(
                f"> {_inline(p)}" if i else f"> **{_inline(p)}**" for i, p in enumerate(paragraphs)
            )
        out: list[str] = []
        titles = top.find_all(lambda n: "labbook-title" in n.classes())
        self.alt = titles[0].text().strip() if titles else ""
        anchor = top.attrs.get("id")
        if anchor:
            out.append(f'<a id="{anchor}"></a>')
        self._walk(top, out)
        return "\n\n".join(out)

    def _walk(self, node: _Node, out: list[str]) -> None:
        scripts = {
            s.attrs.get("id"): s.text()
            for s in node.find_all(
                lambda n: n.tag == "script" and n.attrs.get("type") == "application/json"
            )
        }
        for child in node.children:
            if not isinstance(child, _Node):
                if child.strip():
                    out.append(_inline(child.strip()))
                continue
            classes = child.classes()
            if child.tag in ("script", "style", "button", "input", "label"):
                continue
            if "labbook-title" in classes:
                out.append(f"**{_inline(child.text().strip())}**")
            elif "labbook-caption" in classes:
                out.append(f"*{_inline(child.text().strip())}*")
            elif "labbook-plot" in classes:
                figure_id = child.attrs.get("data-labbook-figure")
                if figure_id in scripts:
                    self.figures += 1
                    name = f"{self.stem}-fig-{self.figures}"
                    alt = _inline(self.alt or _title(json.loads(scripts[figure_id])) or name)
                    out.append(f"![{alt}]({self.chart(json.loads(scripts[figure_id]), name)})")
            elif child.tag == "table":
                out.append(_table(child))
            elif child.tag == "img":
                out.append(self._image(child))
            elif child.tag in ("pre", "code"):
                out.append("```\n" + child.text().strip("\n") + "\n```")
            else:
                self._walk(child, out)

    def _image(self, node: _Node) -> str:
        src = node.attrs.get("src", "")
        alt = _inline(node.attrs.get("alt", ""))
        if FILES_DIR not in src:
            return ""
        source = (self.base_dir / src[src.index(FILES_DIR) :]).resolve()
        if not source.is_file():
            return ""
        target = self.out_dir / f"{self.stem}-files" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
        self.images.append(target)
        return f"![{alt}]({target.relative_to(self.out_dir).as_posix()})"


def to_gfm(
    page: CompiledPage,
    stem: str,
    out_dir: Path,
    chart: Callable[[dict[str, Any], str], str],
    base_dir: Path,
) -> tuple[str, list[Path]]:
    """Gives the page as GFM text and the image files it references."""
    converter = _Converter(stem, out_dir, base_dir, chart)
    lines = page.markdown.split("\n")
    out: list[str] = []
    for line in lines:
        if line.startswith(_BLOCK_START):
            out.append(converter.block(line))
        elif line.startswith('<p class="labbook-byline">'):
            out.append("*" + _inline(_parse(line).text().strip()) + "*")
        else:
            out.append(line)
    text = admonitions_to_alerts("\n".join(out))
    # Cross-references point at the anchors placed before each block.
    return text.rstrip() + "\n", converter.images


# Python-Markdown's admonitions (`!!! warning "Title"` and an indented body) as GitHub's
# alerts, the nearest thing GitHub renders.
_ADMONITION = re.compile(r'^(?:!!!|\?\?\?\+?) *([\w-]+)(?: +"([^"]*)")? *$')
_ALERTS = {
    "tip": "TIP",
    "hint": "TIP",
    "success": "TIP",
    "check": "TIP",
    "done": "TIP",
    "important": "IMPORTANT",
    "warning": "WARNING",
    "caution": "CAUTION",
    "attention": "WARNING",
    "danger": "CAUTION",
    "error": "CAUTION",
    "failure": "CAUTION",
    "bug": "CAUTION",
}


def admonitions_to_alerts(text: str) -> str:
    """Gives the Markdown with each admonition as a GitHub alert (`> [!WARNING]`)."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    fence: str | None = None
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
        match = _ADMONITION.match(line) if fence is None else None
        if not match:
            out.append(line)
            i += 1
            continue
        kind, title = match.group(1).lower(), match.group(2)
        out.append(f"> [!{_ALERTS.get(kind, 'NOTE')}]")
        if title:
            out.append(f"> **{title}**")
            out.append(">")
        i += 1
        while i < len(lines) and (lines[i].startswith(("    ", "\t")) or not lines[i].strip()):
            if not lines[i].strip() and (
                i + 1 >= len(lines) or not lines[i + 1].startswith("    ")
            ):
                break
            out.append("> " + lines[i][4:] if lines[i].strip() else ">")
            i += 1
    return "\n".join(out)


def write_gfm(
    project: Any, page: CompiledPage, out_dir: Path, *, png: bool = False, base_dir: Path
) -> GfmResult:
    """Writes the report's Markdown and its chart images into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = page.path.stem
    exporter = FigureExporter(project.root / ".labbook" / "cache" / "figures")
    wanted: list[tuple[dict[str, Any], str]] = []

    def chart(figure: dict[str, Any], name: str) -> str:
        wanted.append((print_figure(figure), name))
        return f"{name}.svg"

    text, images = to_gfm(page, stem, out_dir, chart, base_dir)
    result = GfmResult(out_dir / f"{stem}.md", images=list(images))
    if wanted:
        figures = [f for f, _ in wanted]
        for fmt in ("svg", "png") if png else ("svg",):
            for (_, name), data in zip(wanted, exporter.images(figures, fmt), strict=True):
                path = out_dir / f"{name}.{fmt}"
                write_atomically(path, data)
                result.images.append(path)
        result.exported, result.cached = exporter.exported, exporter.cached
    write_atomically(result.markdown, text.encode("utf-8"))
    return result


def _title(figure: dict[str, Any]) -> str:
    title = (figure.get("layout") or {}).get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return str(title or "")
