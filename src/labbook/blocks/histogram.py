"""The `histogram` block: how a value is distributed across runs, overlaid per group.

The bins are computed here, with numpy, not by Plotly in the browser: the counts the
page shows (and its CSV gives) are the counts of `numpy.histogram` over the same edges,
and every group shares one set of edges so overlaid bars line up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..charts import color_for
from ..errors import LabbookError
from ..escaping import plotly_text
from ..model import RunSet
from .base import CHART, Block, BlockContext, Option, RenderedBlock, human_label, opt_int
from .columns import (
    canonical_column,
    check_column,
    column_option,
    grouped,
    metric_keys_of,
    numeric_values,
)
from .plot import axis, layout

GROUP_OPACITY = 0.55


class HistogramBlock(Block):
    """Counts of runs per bin of a value; with `group_by`, one semi-transparent set per group."""

    kind = "histogram"
    summary = "The distribution of a value across runs; overlaid per group."
    example = "histogram: val/acc\nbins: 8"
    declared = (
        Option(
            "histogram", "column", "the value counted (a summary metric, a param...)", required=True
        ),
        Option(
            "bins",
            "whole number ≥ 1",
            "how many equal-width bins between the lowest and highest value",
            "numpy's `auto` rule",
        ),
        Option("group_by", "column", "one overlaid, semi-transparent histogram per value"),
        *CHART,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        self.value = canonical_column(check_column(spec.get("histogram"), "histogram", ctx))
        self.bins: int | None = (
            opt_int(spec, "bins", ctx, default=10, minimum=1)
            if spec.get("bins") is not None
            else None
        )
        self.group_by = column_option(spec, "group_by", ctx)
        self.height = opt_int(spec, "height", ctx, default=400, minimum=50)

    def metric_keys(self) -> list[str]:
        return metric_keys_of(self.value, self.group_by)

    def render(self, runs: RunSet) -> RenderedBlock:
        warnings: list[LabbookError] = []
        values = numeric_values(
            runs,
            self.value,
            self.ctx,
            "histogram",
            hint="a histogram counts numbers; for text values use `bar` over a group or a table",
        )
        present = np.asarray([v for v in values if v is not None], dtype=np.float64)
        if not len(present):
            raise self.ctx.error(
                f"nothing to draw: no run has a finite {human_label(self.value)!r}", "histogram"
            )
        if len(present) < len(values):
            warnings.append(
                self.ctx.error(
                    f"{len(values) - len(present)} of {len(values)} runs have no finite "
                    f"{human_label(self.value)!r} and are not counted",
                    "histogram",
                )
            )
        edges = np.histogram_bin_edges(present, bins=self.bins if self.bins else "auto")
        groups: list[tuple[str, np.ndarray]] = []
        if self.group_by is None:
            groups.append(("runs", present))
        else:
            for label, members in grouped(runs, self.group_by, values, self.ctx):
                groups.append((label, np.asarray(members, dtype=np.float64)))
        centers = ((edges[:-1] + edges[1:]) / 2).tolist()
        widths = np.diff(edges).tolist()
        traces = []
        for index, (label, in_group) in enumerate(groups):
            counts, _ = np.histogram(in_group, bins=edges)
            ranges = [
                [plotly_text(f"{lo:.4g}"), plotly_text(f"{hi:.4g}")]
                for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True)
            ]
            traces.append(
                {
                    "type": "bar",
                    "name": plotly_text(label),
                    "x": centers,
                    "y": counts.tolist(),
                    "width": widths,
                    "marker": {
                        "color": color_for(index),
                        "line": {"width": 0.5, "color": "rgba(0,0,0,0.3)"},
                    },
                    "opacity": GROUP_OPACITY if self.group_by else 0.85,
                    "customdata": ranges,
                    "hovertemplate": (
                        f"<b>{plotly_text(label)}</b><br>{plotly_text(human_label(self.value))} "
                        "%{customdata[0]} to %{customdata[1]}<br>%{y} run(s)<extra></extra>"
                    ),
                    "meta": {"edges": edges.tolist()},
                }
            )
        figure = {
            "data": traces,
            "layout": layout(
                self.height,
                barmode="overlay",
                bargap=0,
                showlegend=self.group_by is not None,
                xaxis=axis(self.value),
                yaxis={"title": {"text": "runs"}, "type": "linear", "rangemode": "tozero"},
                meta={"csv_note": f"runs per bin; {len(edges) - 1} bins of equal width"},
            ),
        }
        return RenderedBlock(self.chart(figure, self.height), figure=figure, warnings=warnings)
