"""Figure and table numbers, and `@fig-name` references in the prose, as Quarto writes them.

A block with a `caption` or a `label` is numbered in page order, figures and tables
apart ("Figure 2", "Table 1"); its label's prefix (`fig-`, `tbl-`) decides which, else
the kind does (a table is a table). `@fig-name` in the prose becomes a link to the
block reading "Figure 2"; a reference to no label is an error at its line and column.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence

from ..blocks.page import Number
from ..errors import ReportError
from ..escaping import code_spans
from .parse import BlockFence, Prose, Segment

# `@fig-x` not inside a word or an e-mail address; a trailing dot or dash ends the sentence.
_REF = re.compile(r"(?<![\w.@/\\])@((?:fig|tbl)-[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)")


def number_blocks(
    segments: Sequence[Segment], figure_kind_of: Callable[[str], str | None]
) -> tuple[dict[int, Number], dict[str, Number]]:
    """Gives each numbered block's number (by block index) and each label's.

    `figure_kind_of(kind)` gives "fig" or "tbl" for a block kind, None for an unknown one.
    """
    numbers: dict[int, Number] = {}
    labels: dict[str, Number] = {}
    counters = {"fig": 0, "tbl": 0}
    index = 0
    for segment in segments:
        if not isinstance(segment, BlockFence):
            continue
        data = segment.data
        if isinstance(data, dict) and data and segment.error is None:
            label = data.get("label")
            label = label if isinstance(label, str) else None
            if data.get("caption") is not None or label is not None:
                kind = label[:3] if label and label[:4] in ("fig-", "tbl-") else None
                kind = kind or figure_kind_of(str(next(iter(data))))
                if kind in counters:
                    counters[kind] += 1
                    number = Number(kind, counters[kind], f"labbook-block-{index}")
                    numbers[index] = number
                    if label is not None:
                        labels.setdefault(label, number)
        index += 1
    return numbers, labels


def reference_errors(prose: Prose, labels: dict[str, Number], file: str) -> list[ReportError]:
    """Gives an error for every `@fig-x` / `@tbl-x` in the prose that names no label."""
    errors: list[ReportError] = []
    for match in _references(prose.text):
        name = match.group(1)
        if name in labels:
            continue
        before = prose.text[: match.start()]
        line = prose.line + before.count("\n")
        column = match.start() - (before.rfind("\n") + 1) + 1
        known = ", ".join(f"@{k}" for k in sorted(labels)) or "none: give a block `label: fig-NAME`"
        errors.append(
            ReportError(
                f"@{name} refers to no figure or table of this report",
                file=file,
                line=line,
                column=column,
                hint=f"labels here: {known}",
            )
        )
    return errors


def link_references(text: str, labels: dict[str, Number]) -> str:
    """Gives the prose with each known `@fig-x` replaced by a link reading "Figure N"."""
    out: list[str] = []
    last = 0
    for match in _references(text):
        number = labels.get(match.group(1))
        if number is None:
            continue
        out.append(text[last : match.start()])
        out.append(f"[{number.text}](#{number.anchor})")
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _references(text: str) -> list[re.Match[str]]:
    """Gives the `@fig-x` matches outside code spans."""
    if "@" not in text:
        return []
    spans = [(span[0], span[3]) for span in code_spans(text)] if "`" in text else []
    starts = [start for start, _ in spans]
    found = []
    for match in _REF.finditer(text):
        i = bisect.bisect_right(starts, match.start()) - 1
        if i < 0 or match.start() >= spans[i][1]:
            found.append(match)
    return found
