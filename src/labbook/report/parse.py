"""Gives a report's parts: front matter, prose, code fences and `labbook` blocks, with lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..errors import ReportError
from ..yamlfiles import BoundedLoader

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
# Block structure is all labbook needs from it (fences, lists, quotes): no inline parse.
_MD = MarkdownIt("commonmark").disable("inline")
_MAX_NESTING: int = _MD.options["maxNesting"]


@dataclass
class Prose:
    """Markdown text where expressions are rendered."""

    text: str
    line: int  # 1-based line in the report file of the first line


@dataclass
class Verbatim:
    """A fenced code block: passed through untouched."""

    text: str
    line: int


@dataclass
class BlockFence:
    """A ```labbook fence: one block in YAML."""

    source: str  # the YAML inside the fence
    line: int  # 1-based line of the opening fence
    data: Any = None
    key_lines: dict[str, int] = field(default_factory=dict)
    # Option name -> 1-based column of the key in the report file (where an editor points).
    key_columns: dict[str, int] = field(default_factory=dict)
    error: ReportError | None = None


Segment = Prose | Verbatim | BlockFence


@dataclass
class ParsedReport:
    path: Path
    front_matter: dict[str, Any]
    # Dotted front-matter key ("runs.sweep") -> 1-based line in the file.
    front_matter_lines: dict[str, int]
    segments: list[Segment]
    body_line: int  # 1-based line where the body starts
    # Problems that do not stop the report, e.g. a `labbook` block nested where it is ignored.
    warnings: list[ReportError] = field(default_factory=list)

    @property
    def blocks(self) -> list[BlockFence]:
        return [s for s in self.segments if isinstance(s, BlockFence)]


def _key_places(
    node: yaml.Node, first_line: int, first_column: int, prefix: str = ""
) -> dict[str, tuple[int, int]]:
    """Gives dotted key -> (file line, 1-based file column) for every mapping key of a node.

    `first_column` is the file column of the YAML text's column 0 (a fence indented by
    up to three spaces has its content unindented by as many).
    """
    out: dict[str, tuple[int, int]] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            dotted = f"{prefix}{key_node.value}"
            mark = key_node.start_mark
            out[dotted] = (first_line + mark.line, first_column + mark.column)
            out.update(_key_places(value_node, first_line, first_column, dotted + "."))
    return out


def yaml_error(
    exc: Exception, text: str, first_line: int, path: Path, first_column: int = 1
) -> ReportError:
    """Gives a YAML syntax error as a ReportError at the line where the mistake starts.

    PyYAML marks where it noticed the problem; for an unclosed quote or bracket that is
    the end of the text (the closing fence), while the mistake is where the quote or
    bracket opened, which PyYAML keeps as the error's context.
    """
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    mark = problem_mark
    at_end = problem_mark is not None and problem_mark.index >= len(text.rstrip())
    opened = (context or "").startswith(("while parsing a flow", "while scanning a quoted"))
    if context_mark is not None and (
        mark is None or at_end or opened or "end of stream" in problem
    ):
        mark = context_mark
    line = first_line + mark.line if mark is not None else first_line
    column = first_column + mark.column if mark is not None else first_column
    message = (
        f"bad YAML: {context}: {problem}"
        if context and mark is context_mark
        else (f"bad YAML: {problem}")
    )
    return ReportError(message, file=path, line=line, column=column)


def load_yaml_with_lines(text: str, first_line: int, path: Path) -> tuple[Any, dict[str, int]]:
    """Gives YAML data and its keys' file lines; a syntax error is a ReportError at its line."""
    data, places = load_yaml_with_places(text, first_line, path)
    return data, {key: line for key, (line, _) in places.items()}


def load_yaml_with_places(
    text: str, first_line: int, path: Path, first_column: int = 1
) -> tuple[Any, dict[str, tuple[int, int]]]:
    """Gives YAML data and its keys' file (line, column); a syntax error is a ReportError there."""
    try:
        # One parse: the node graph gives the places, and the data is built from it.
        loader = BoundedLoader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except (yaml.YAMLError, ValueError) as exc:
        raise yaml_error(exc, text, first_line, path, first_column) from exc
    places = _key_places(node, first_line, first_column) if node is not None else {}
    return data, places


def parse_report(path: Path, text: str) -> ParsedReport:
    """Gives the report split into front matter and segments; YAML errors are kept per block."""
    front: dict[str, Any] = {}
    front_lines: dict[str, int] = {}
    body = text
    body_line = 1
    match = _FRONT_MATTER.match(text)
    if match:
        data, front_lines = load_yaml_with_lines(match.group(1), 2, path)
        if data is not None and not isinstance(data, dict):
            raise ReportError("front matter must be a YAML mapping", file=path, line=2)
        front = data or {}
        body = text[match.end() :]
        body_line = text[: match.end()].count("\n") + 1

    lines = body.splitlines(keepends=True)
    segments: list[Segment] = []
    cursor = 0

    def add_prose(upto: int) -> None:
        if upto > cursor:
            segments.append(Prose("".join(lines[cursor:upto]), body_line + cursor))

    warnings: list[ReportError] = []
    too_deep = False
    for token in _MD.parse(body):
        if token.level == _MAX_NESTING - 1 and token.map is not None and not too_deep:
            # markdown-it stops reading structure at this depth: what follows, blocks too,
            # would be read as the text of the innermost list item.
            too_deep = True
            warnings.append(
                ReportError(
                    f"lists or quotes nest more than {_MAX_NESTING - 1} levels deep here;"
                    " labbook reads no block after this line",
                    file=path,
                    line=body_line + token.map[0],
                    hint="nest less deeply",
                )
            )
        nested = _nested_block_line(token)
        if nested is not None:
            warnings.append(
                ReportError(
                    "this labbook block is ignored: blocks must be at the top level of the "
                    "report (not inside lists, quotes or admonitions)",
                    file=path,
                    line=body_line + nested,
                    hint="move the ```labbook fence out to the start of a line, unindented",
                )
            )
        if token.type != "fence" or token.map is None or token.level != 0:
            continue
        start, end = token.map
        add_prose(start)
        info = token.info.strip().split(maxsplit=1)
        if info and info[0] == "labbook":
            fence = BlockFence(token.content, body_line + start)
            # markdown-it takes a fence's indentation (up to 3 spaces) off its content lines.
            indent = len(lines[start]) - len(lines[start].lstrip(" "))
            try:
                fence.data, places = load_yaml_with_places(
                    token.content, fence.line + 1, path, first_column=1 + indent
                )
                fence.key_lines = {key: line for key, (line, _) in places.items()}
                fence.key_columns = {key: column for key, (_, column) in places.items()}
            except ReportError as exc:
                fence.error = exc
            segments.append(fence)
        else:
            segments.append(Verbatim("".join(lines[start:end]), body_line + start))
        cursor = end
    add_prose(len(lines))
    return ParsedReport(path, front, front_lines, segments, body_line, warnings)


_NESTED_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*labbook(?:\s|$)", re.M)


def _nested_block_line(token: Token) -> int | None:
    """Gives the body line (0-based) of a `labbook` block that is not a top-level fence.

    Such a block (in a list, a quote, or an admonition's indented body, which CommonMark
    reads as an indented code block) is not drawn.
    """
    if token.map is None:
        return None
    if token.type == "fence" and token.level > 0:
        info = token.info.strip().split(maxsplit=1)
        return token.map[0] if info and info[0] == "labbook" else None
    if token.type == "code_block":
        found = _NESTED_FENCE.search(token.content)
        if found is not None:
            return token.map[0] + token.content.count("\n", 0, found.start())
    return None
