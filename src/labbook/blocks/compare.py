"""The `compare` block: 2-4 runs side by side, what differs marked, their metrics overlaid."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from ..errors import LabbookError
from ..escaping import safe_link
from ..model import Run, RunSet, flatten, is_number
from .base import (
    COMMON,
    Block,
    BlockContext,
    Option,
    RenderedBlock,
    display_value,
    expand_keys,
    opt_int,
    opt_str_list,
)
from .columns import differs
from .registry import load_block

MAX_METRICS = 6  # shared metric histories drawn when `metrics` does not pick


class CompareBlock(Block):
    """Two to four runs: params, tags and summary in one table, then their histories."""

    kind = "compare"
    summary = "Two to four runs side by side: what differs marked, their metrics overlaid."
    example = "compare: [r18-lr0.1-s2, r18-lr0.3-s2]\nmetrics: [val/loss]"
    figure_kind = "tbl"
    runs_option = "compare"
    declared = (
        Option(
            "compare",
            "list of 2-4 run refs",
            "the runs: IDs, ID prefixes, names, or `source:ID`",
            required=True,
        ),
        Option(
            "metrics",
            "metric key, glob or list",
            "the histories overlaid under the table",
            f"the metrics all the runs logged (at most {MAX_METRICS})",
        ),
        Option("height", "whole number ≥ 50", "the chart's height in pixels", "350"),
        *[o for o in COMMON if o.name != "runs"],
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        refs = spec.get("compare")
        if (
            not isinstance(refs, list)
            or not 2 <= len(refs) <= 4
            or not all(isinstance(r, str | int) and str(r).strip() for r in refs)
        ):
            raise ctx.error(
                f"'compare' must list 2 to 4 runs, not {refs!r}",
                "compare",
                hint="write e.g. `compare: [a1b2c3d4, e5f6a7b8]` (run IDs or names)",
            )
        # The block names its runs itself; compile resolves them like a `runs:` list.
        self.runs_spec = [str(r).strip() for r in refs]
        self.metrics = (
            opt_str_list(spec, "metrics", ctx) if spec.get("metrics") is not None else None
        )
        self.height = opt_int(spec, "height", ctx, default=350, minimum=50)

    def metric_keys(self) -> list[str]:
        return list(self.metrics or [])

    def render(self, runs: RunSet) -> RenderedBlock:
        warnings: list[LabbookError] = []
        run_list = list(runs)
        ids = [(r.source, r.id) for r in run_list]
        if len(set(ids)) < len(ids) or len(run_list) < len(self.runs_spec):
            raise self.ctx.error(
                "'compare' names the same run twice",
                "compare",
                hint="two refs (an ID and a name, say) found one run: name another",
            )
        sections = [
            self._section(
                "Run",
                {
                    "status": _attr(run_list, "status"),
                    "start_time": _attr(run_list, "start_time"),
                    "duration": _attr(run_list, "duration"),
                },
            ),
            self._section("Params", _merged(run_list, lambda r: flatten(r.params))),
            self._section(
                "Tags",
                _merged(
                    run_list, lambda r: {k: v for k, v in r.tags.items() if k not in r.hidden_tags}
                ),
            ),
            self._section("Summary", _merged(run_list, lambda r: dict(r.summary))),
        ]
        sections = [s for s in sections if s["rows"]]
        rows = [row for s in sections for row in s["rows"]]
        chart, figure = self._chart(runs, warnings)
        html = self.frame(
            "",
            "labbook-compare",
            "compare.html",
            runs=[
                {"name": r.name or r.id, "href": safe_link(self.ctx.run_link(r))} for r in run_list
            ],
            sections=sections,
            differing=sum(r["differs"] for r in rows),
            total=len(rows),
            chart=Markup(chart),
        )
        return RenderedBlock(html, figure=figure, warnings=warnings)

    def _section(self, title: str, values: dict[str, list[Any]]) -> dict[str, Any]:
        rows = []
        for key in sorted(values) if title != "Run" else values:
            cells = values[key]
            if all(v is None for v in cells):
                continue
            rows.append(
                {
                    "key": key,
                    "label": key,
                    "differs": differs(cells),
                    "cells": [{"text": _shown(key, v), "number": is_number(v)} for v in cells],
                }
            )
        return {"title": title, "rows": rows}

    def _chart(
        self, runs: RunSet, warnings: list[LabbookError]
    ) -> tuple[str, dict[str, Any] | None]:
        if self.metrics is not None:
            keys = self.metrics
        else:
            shared = set.intersection(*(set(r.metric_keys()) for r in runs)) if len(runs) else set()
            if not shared:
                return "", None
            keys = sorted(shared)[:MAX_METRICS]
            if len(shared) > MAX_METRICS:
                warnings.append(
                    self.ctx.error(
                        f"the runs share {len(shared)} metrics; drawing the first {MAX_METRICS} "
                        f"({', '.join(keys)})",
                        "compare",
                        hint="choose with `metrics: [...]`",
                    )
                )
        keys = expand_keys(keys, runs)
        line_cls = load_block("line")
        inner = dataclasses.replace(
            self.ctx, id_suffix="-chart", key_lines={"line": self.ctx.line_of("metrics")}
        )
        chart = line_cls({"line": keys, "height": self.height}, inner)
        drawn = chart.check(runs) if self.checking else chart.render(runs)
        warnings.extend(drawn.warnings)
        return drawn.html, drawn.figure


def _attr(runs: list[Run], name: str) -> list[Any]:
    return [getattr(r, name) for r in runs]


def _merged(runs: list[Run], get: Any) -> dict[str, list[Any]]:
    maps = [get(r) for r in runs]
    keys = sorted({k for m in maps for k in m})
    return {k: [m.get(k) for m in maps] for k in keys}


def _shown(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key == "duration" and isinstance(value, int | float):
        from ..model import format_seconds

        return format_seconds(float(value))
    return display_value(value)
