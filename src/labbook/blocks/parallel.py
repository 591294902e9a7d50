"""The `parallel` block: parallel coordinates over params and metrics, one line per run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import LabbookError
from ..escaping import plotly_text
from ..model import RunSet, sort_key
from .base import (
    CHART,
    Block,
    BlockContext,
    Option,
    RenderedBlock,
    display_value,
    human_label,
    opt_int,
)
from .columns import canonical_column, check_column, column_option, metric_keys_of, run_values
from .plot import is_numeric, layout, numbers


class ParallelBlock(Block):
    """A vertical axis per column and a line per run across them (Plotly's parcoords)."""

    kind = "parallel"
    summary = "Parallel coordinates over params and metrics; text params become labelled ticks."
    example = "parallel: [params.lr, params.seed, val/loss, val/acc]"
    declared = (
        Option(
            "parallel",
            "list of columns",
            "the axes, left to right: params, summary metrics, attributes",
            required=True,
        ),
        Option("color", "column", "colour the lines by this column (a number)", "the last column"),
        *CHART,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        value = spec.get("parallel")
        if not isinstance(value, list) or len(value) < 2:
            raise ctx.error(
                f"'parallel' must list two or more columns, not {value!r}",
                "parallel",
                hint="write e.g. `parallel: [params.lr, params.batch, val/acc]`",
            )
        self.columns = [canonical_column(check_column(v, "parallel", ctx)) for v in value]
        self.color = column_option(spec, "color", ctx) or self.columns[-1]
        self.height = opt_int(spec, "height", ctx, default=400, minimum=50)

    def metric_keys(self) -> list[str]:
        return metric_keys_of(*self.columns, self.color)

    def render(self, runs: RunSet) -> RenderedBlock:
        warnings: list[LabbookError] = []
        columns = list(dict.fromkeys(self.columns))
        raw = {c: run_values(runs, c, self.ctx, "parallel") for c in columns}
        if self.color not in raw:
            raw[self.color] = run_values(runs, self.color, self.ctx, "color")
        if not is_numeric(raw[self.color]):
            raise self.ctx.error(
                f"'color': {human_label(self.color)!r} is not a number for every run",
                "color" if "color" in self.spec else "parallel",
                hint="colour by a numeric column with `color: metrics.K`",
            )
        # A run missing any axis has no line: parcoords would draw it at an edge otherwise.
        keep = [i for i in range(len(runs)) if all(raw[c][i] is not None for c in raw)]
        if not keep:
            raise self.ctx.error("nothing to draw: no run has a value for every column", "parallel")
        if len(keep) < len(runs):
            lacking = sorted(
                {human_label(c) for c in raw for i in range(len(runs)) if raw[c][i] is None}
            )
            warnings.append(
                self.ctx.error(
                    f"{len(runs) - len(keep)} of {len(runs)} runs lack a value for "
                    f"{', '.join(lacking)} and have no line",
                    "parallel",
                )
            )
        dimensions = [self._dimension(c, [raw[c][i] for i in keep]) for c in columns]
        colors = numbers([raw[self.color][i] for i in keep])
        trace = {
            "type": "parcoords",
            "dimensions": dimensions,
            "line": {
                "color": colors,
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"title": {"text": plotly_text(human_label(self.color))}},
            },
            "meta": {"run_ids": [list(runs)[i].id for i in keep]},
        }
        figure = {
            "data": [trace],
            "layout": layout(
                self.height,
                margin={"l": 60, "r": 60, "t": 50, "b": 30},
                meta={"csv_note": f"one line per run; {len(keep)} of {len(runs)} runs"},
            ),
        }
        return RenderedBlock(self.chart(figure, self.height), figure=figure, warnings=warnings)

    def _dimension(self, column: str, values: list[Any]) -> dict[str, Any]:
        label = plotly_text(human_label(column))
        if is_numeric(values):
            return {"label": label, "values": numbers(values)}
        # Text (or mixed) values: each distinct value gets a tick, in a stable order. Parcoords
        # draws tick labels as plain text (not markup, unlike titles), so they are not
        # escaped: `<i>` would show as `&lt;i&gt;`, and cannot become an element either.
        distinct = sorted(
            {display_value(v): v for v in values}.items(), key=lambda kv: sort_key(kv[1])
        )
        index = {text: i for i, (text, _) in enumerate(distinct)}
        return {
            "label": label,
            "values": [index[display_value(v)] for v in values],
            "tickvals": list(range(len(distinct))),
            "ticktext": [text for text, _ in distinct],
            "range": [-0.5, len(distinct) - 0.5] if len(distinct) == 1 else [0, len(distinct) - 1],
        }
