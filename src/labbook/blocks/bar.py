"""The `bar` block: one bar per run, or per group with its mean and standard error."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..charts import color_for
from ..errors import LabbookError
from ..escaping import plotly_text
from ..goals import goal_of
from ..model import RunSet
from .base import (
    CHART,
    Block,
    BlockContext,
    Option,
    RenderedBlock,
    human_label,
    opt_bool,
    opt_int,
)
from .columns import (
    canonical_column,
    check_column,
    column_option,
    grouped,
    metric_keys_of,
    numeric_values,
)
from .plot import axis, hover_text, layout

SORTS = ("goal", "asc", "desc", "none")


class BarBlock(Block):
    """A value per run, or its mean per group with standard-error bars (n in the hover)."""

    kind = "bar"
    summary = "One bar per run, or per group: the mean with standard-error bars."
    example = "bar: val/acc\ngroup_by: params.lr"
    declared = (
        Option(
            "bar",
            "column",
            "the value each bar shows (a summary metric, a param...)",
            required=True,
        ),
        Option(
            "group_by",
            "column",
            "one bar per value of this column: the runs' mean, ± one standard error",
        ),
        Option(
            "sort",
            "goal, asc, desc or none",
            "the bars' order; `goal` puts the best first, by the metric's goal",
            "goal",
        ),
        Option("horizontal", "true/false", "bars across instead of up", "false"),
        *CHART,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        self.value = canonical_column(check_column(spec.get("bar"), "bar", ctx))
        self.group_by = column_option(spec, "group_by", ctx)
        sort = spec.get("sort", "goal")
        if sort is True:
            sort = "goal"
        if sort is False:
            sort = "none"
        if sort not in SORTS:
            raise ctx.error(
                f"'sort' must be one of {', '.join(SORTS)}, not {sort!r}",
                "sort",
                hint="`goal` puts the best bar first; `asc`/`desc` order by value",
            )
        self.sort = str(sort)
        self.horizontal = opt_bool(spec, "horizontal", ctx)
        self.height = opt_int(spec, "height", ctx, default=400, minimum=50)

    def metric_keys(self) -> list[str]:
        return metric_keys_of(self.value, self.group_by)

    def render(self, runs: RunSet) -> RenderedBlock:
        warnings: list[LabbookError] = []
        values = numeric_values(
            runs,
            self.value,
            self.ctx,
            "bar",
            hint="a bar chart shows numbers; for text values use a table or `histogram`",
        )
        run_list = list(runs)
        missing = [r for r, v in zip(run_list, values, strict=True) if v is None]
        if len(missing) == len(run_list):
            raise self.ctx.error(
                f"nothing to draw: no run has a finite {human_label(self.value)!r}", "bar"
            )
        if missing:
            warnings.append(
                self.ctx.error(
                    f"{len(missing)} of {len(run_list)} runs have no finite "
                    f"{human_label(self.value)!r} and have no bar",
                    "bar",
                )
            )
        mode = self._goal() if self.sort == "goal" else None
        bars: list[tuple[str, float, float | None, int, str, str | None]]
        if self.group_by is None:
            # Two runs of one name would share one bar on the category axis: tell them apart.
            names = [r.name or r.id for r in run_list]
            twice = {n for n in names if names.count(n) > 1}
            bars = [
                (
                    f"{n} ({run.id[:8]})" if n in twice else n,
                    v,
                    None,
                    1,
                    self.ctx.page.color(run),
                    run.id,
                )
                for run, n, v in zip(run_list, names, values, strict=True)
                if v is not None
            ]
            hover = (
                "<b>%{customdata[0]}</b><br>"
                f"{plotly_text(human_label(self.value))} %{{customdata[1]}}<extra></extra>"
            )
        else:
            bars = []
            for index, (label, members) in enumerate(
                grouped(runs, self.group_by, values, self.ctx)
            ):
                array = np.asarray(members, dtype=np.float64)
                mean = float(array.mean())
                sem = float(array.std(ddof=1) / math.sqrt(len(array))) if len(array) > 1 else None
                bars.append((label, mean, sem, len(array), color_for(index), None))
            hover = (
                "<b>%{customdata[0]}</b><br>"
                f"mean {plotly_text(human_label(self.value))} %{{customdata[1]}}"
                "<br>± %{customdata[2]} (standard error)<br>n = %{customdata[3]}<extra></extra>"
            )
        if self.sort == "goal":
            bars.sort(key=lambda b: b[1], reverse=mode == "max")
        elif self.sort in ("asc", "desc"):
            bars.sort(key=lambda b: b[1], reverse=self.sort == "desc")
        labels = [plotly_text(b[0]) for b in bars]
        heights = [b[1] for b in bars]
        trace: dict[str, Any] = {
            "type": "bar",
            "name": plotly_text(human_label(self.value)),
            "orientation": "h" if self.horizontal else "v",
            "marker": {"color": [b[4] for b in bars]},
            "customdata": [
                [
                    plotly_text(b[0]),
                    hover_text(b[1]),
                    "—" if b[2] is None else hover_text(b[2]),
                    b[3],
                ]
                for b in bars
            ],
            "hovertemplate": hover,
            "meta": {"run_ids": [b[5] for b in bars], "n": [b[3] for b in bars]},
        }
        if self.horizontal:
            trace["x"], trace["y"] = heights, labels
        else:
            trace["x"], trace["y"] = labels, heights
        if self.group_by is not None:
            errors = {"type": "data", "array": [b[2] or 0.0 for b in bars], "visible": True}
            trace["error_x" if self.horizontal else "error_y"] = errors
        value_axis = axis(self.value)
        label_axis = {
            "type": "category",
            "title": {"text": plotly_text(human_label(self.group_by) if self.group_by else "run")},
            "automargin": True,
        }
        if self.horizontal:
            label_axis["autorange"] = "reversed"  # the first (best) bar on top
        note = "mean ± standard error per group" if self.group_by else "one bar per run"
        figure = {
            "data": [trace],
            "layout": layout(
                self.height,
                showlegend=False,
                xaxis=value_axis if self.horizontal else label_axis,
                yaxis=label_axis if self.horizontal else value_axis,
                meta={"csv_note": note},
            ),
        }
        return RenderedBlock(self.chart(figure, self.height), figure=figure, warnings=warnings)

    def _goal(self) -> str:
        if self.ctx.goals is not None:
            return self.ctx.goals.mode(
                self.value,
                f"bar: {self.value}",
                self.ctx.line_of("sort" if "sort" in self.spec else "bar"),
            )
        return goal_of(self.value)[0]
