"""The `scatter` block: one point per run, any column against any other."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import numpy as np

from ..charts import color_for
from ..errors import LabbookError
from ..escaping import plotly_text
from ..goals import goal_of
from ..model import Run, RunSet, sort_key
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
from .columns import canonical_column, check_column, column_option, metric_keys_of, run_values
from .plot import axis, category, hover_text, is_numeric, layout, numbers

WEBGL_ABOVE = 1000  # runs: more points than this draw with WebGL (scattergl) to stay fluid
MARKER_SIZES = (6.0, 22.0)  # px of the smallest and largest value of `size`


class ScatterBlock(Block):
    """One point per run: x and y are columns (a param, a summary metric, an attribute)."""

    kind = "scatter"
    summary = "One point per run, a column against a column; colour, size, trendline."
    example = (
        "scatter: {x: params.lr, y: val/acc}\ncolor: params.seed\nlog_x: true\ntrendline: true"
    )
    declared = (
        Option(
            "scatter",
            "{x: column, y: column}",
            "the two columns, e.g. `{x: params.lr, y: val/acc}`",
            required=True,
        ),
        Option(
            "color",
            "column",
            "colour the points: a colour bar for a number, a legend entry per value for text",
        ),
        Option("size", "column", "scale the markers by a numeric column"),
        Option("log_x", "true/false", "a logarithmic x axis", "false"),
        Option("log_y", "true/false", "a logarithmic y axis", "false"),
        Option(
            "trendline",
            "true/false",
            "a least-squares line, its equation and R² in the legend",
            "false",
        ),
        Option(
            "best_so_far",
            "true/false",
            "a step line through the best y up to each x (the metric's goal decides best),"
            " the runs that set a new best marked",
            "false",
        ),
        *CHART,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        pair = spec.get("scatter")
        if not isinstance(pair, Mapping) or set(pair) != {"x", "y"}:
            raise ctx.error(
                f"'scatter' must map x and y to columns, not {pair!r}",
                "scatter",
                hint="write e.g. `scatter: {x: params.lr, y: val/acc}`",
            )
        self.x = canonical_column(check_column(pair["x"], "scatter", ctx))
        self.y = canonical_column(check_column(pair["y"], "scatter", ctx))
        self.color = column_option(spec, "color", ctx)
        self.size = column_option(spec, "size", ctx)
        self.log_x = opt_bool(spec, "log_x", ctx)
        self.log_y = opt_bool(spec, "log_y", ctx)
        self.trendline = opt_bool(spec, "trendline", ctx)
        self.best_so_far = opt_bool(spec, "best_so_far", ctx)
        self.height = opt_int(spec, "height", ctx, default=400, minimum=50)

    def metric_keys(self) -> list[str]:
        return metric_keys_of(self.x, self.y, self.color, self.size)

    def render(self, runs: RunSet) -> RenderedBlock:
        warnings: list[LabbookError] = []
        xs = run_values(runs, self.x, self.ctx, "scatter")
        ys = run_values(runs, self.y, self.ctx, "scatter")
        colors = run_values(runs, self.color, self.ctx, "color") if self.color else None
        sizes = run_values(runs, self.size, self.ctx, "size") if self.size else None
        x_numeric, y_numeric = is_numeric(xs), is_numeric(ys)
        # Times (`start_time`) go on a date axis, in time order, not as category labels.
        x_dates = not x_numeric and _all_datetimes(xs)
        for option, flag, numeric, column in (
            ("log_x", self.log_x, x_numeric, self.x),
            ("log_y", self.log_y, y_numeric, self.y),
        ):
            if flag and not numeric:
                raise self.ctx.error(
                    f"{option!r}: {human_label(column)!r} is not a number for every run",
                    option,
                    hint="a log axis needs numbers; remove the option",
                )
        if x_dates:
            x_plot: list[Any] = [None if v is None else v.isoformat() for v in xs]
        else:
            x_plot = numbers(xs) if x_numeric else [None if v is None else category(v) for v in xs]
        y_plot = numbers(ys) if y_numeric else [None if v is None else category(v) for v in ys]
        keep = [i for i in range(len(runs)) if x_plot[i] is not None and y_plot[i] is not None]
        if self.log_x:
            keep = [i for i in keep if (x_plot[i] or 0) > 0]
        if self.log_y:
            keep = [i for i in keep if (y_plot[i] or 0) > 0]  # type: ignore[operator]
        dropped = len(runs) - len(keep)
        if not keep:
            raise self.ctx.error(
                f"nothing to draw: no run has both {human_label(self.x)!r} and "
                f"{human_label(self.y)!r}"
                + (" as positive numbers" if self.log_x or self.log_y else ""),
                "scatter",
            )
        if dropped:
            warnings.append(
                self.ctx.error(
                    f"{dropped} of {len(runs)} runs have no value (or no positive value on a log "
                    f"axis) for x or y and are not drawn",
                    "scatter",
                )
            )
        run_list = list(runs)
        chosen = [run_list[i] for i in keep]
        trace_type = "scattergl" if len(chosen) > WEBGL_ABOVE else "scatter"
        hover = (
            "<b>%{customdata[0]}</b><br>"
            f"{plotly_text(human_label(self.x))} %{{customdata[1]}}<br>"
            f"{plotly_text(human_label(self.y))} %{{customdata[2]}}"
        )
        extra_cols = [c for c in (self.color, self.size) if c and c not in (self.x, self.y)]
        for n, column in enumerate(extra_cols, start=3):
            hover += f"<br>{plotly_text(human_label(column))} %{{customdata[{n}]}}"
        hover += "<extra></extra>"

        def custom(i: int) -> list[str]:
            run = run_list[i]
            row = [plotly_text(run.name), hover_text(xs[i]), hover_text(ys[i])]
            for column in extra_cols:
                row.append(hover_text(_value(run, column, colors, sizes, self, i)))
            return row

        marker_sizes = self._sizes(sizes, keep) if sizes is not None else None
        traces: list[dict[str, Any]] = []
        if colors is not None and not is_numeric(colors):
            groups: dict[tuple[str, str], list[int]] = {}
            for i in keep:
                label = "(none)" if colors[i] is None else category(colors[i])
                groups.setdefault((str(sort_key(colors[i])), label), []).append(i)
            ordered = sorted(groups.items(), key=lambda kv: kv[0][0])
            for index, ((_, label), members) in enumerate(ordered):
                traces.append(
                    self._trace(
                        trace_type,
                        members,
                        x_plot,
                        y_plot,
                        custom,
                        hover,
                        label,
                        {"color": color_for(index)},
                        marker_sizes,
                        keep,
                    )
                )
        else:
            marker: dict[str, Any] = {}
            if colors is not None:
                values = numbers(colors)
                marker = {
                    "color": [values[i] for i in keep],
                    "colorscale": "Viridis",
                    "showscale": True,
                    "colorbar": {"title": {"text": plotly_text(human_label(self.color or ""))}},
                }
            else:
                marker = {"color": [self.ctx.page.color(run_list[i]) for i in keep]}
            traces.append(
                self._trace(
                    trace_type,
                    keep,
                    x_plot,
                    y_plot,
                    custom,
                    hover,
                    "runs",
                    marker,
                    marker_sizes,
                    keep,
                    legend=False,
                )
            )
        if self.trendline:
            traces.append(self._trendline(keep, x_plot, y_plot, x_numeric and y_numeric))
        if self.best_so_far:
            traces.append(self._best_so_far(keep, xs, y_plot, x_plot, x_numeric or x_dates))
        show_legend = len(traces) > 1
        figure = {
            "data": traces,
            "layout": layout(
                self.height,
                showlegend=show_legend,
                # Above the plot: at the side the legend would lie over a colour bar.
                legend={
                    "orientation": "h",
                    "x": 0,
                    "xanchor": "left",
                    "y": 1.02,
                    "yanchor": "bottom",
                },
                xaxis=axis(
                    self.x,
                    log=self.log_x,
                    kind=None if x_numeric else "date" if x_dates else "category",
                ),
                yaxis=axis(self.y, log=self.log_y, kind=None if y_numeric else "category"),
                meta={"csv_note": f"one point per run; {len(keep)} of {len(runs)} runs drawn"},
            ),
        }
        return RenderedBlock(self.chart(figure, self.height), figure=figure, warnings=warnings)

    def _trace(
        self,
        trace_type: str,
        members: list[int],
        x_plot: list[Any],
        y_plot: list[Any],
        custom: Any,
        hover: str,
        name: str,
        marker: dict[str, Any],
        sizes: dict[int, float] | None,
        keep: list[int],
        legend: bool = True,
    ) -> dict[str, Any]:
        marker = dict(marker)
        if sizes is not None:
            marker["size"] = [sizes[i] for i in members]
        return {
            "type": trace_type,
            "mode": "markers",
            "name": name,
            "showlegend": legend,
            "x": [x_plot[i] for i in members],
            "y": [y_plot[i] for i in members],
            "customdata": [custom(i) for i in members],
            "hovertemplate": hover,
            "marker": {"size": 9, "line": {"width": 0.5, "color": "rgba(0,0,0,0.3)"}, **marker},
        }

    def _sizes(self, sizes: list[Any], keep: list[int]) -> dict[int, float]:
        values = numbers(sizes)
        present = [v for i in keep if (v := values[i]) is not None]
        if not present:
            raise self.ctx.error(
                f"'size': {human_label(self.size or '')!r} is not a number", "size"
            )
        lo, hi = min(present), max(present)
        small, large = MARKER_SIZES
        out: dict[int, float] = {}
        for i in keep:
            v = values[i]
            if v is None:
                out[i] = small
            elif hi == lo:
                out[i] = (small + large) / 2
            else:
                out[i] = small + (large - small) * (v - lo) / (hi - lo)
        return out

    def _best_so_far(
        self, keep: list[int], xs: list[Any], y_plot: list[Any], x_plot: list[Any], ordered: bool
    ) -> dict[str, Any]:
        """Gives the step line of the best y so far, in x order, through the runs that set it."""
        if not ordered:
            raise self.ctx.error(
                "'best_so_far' needs numbers or times on the x axis",
                "best_so_far",
                hint="use e.g. `x: start_time`, or remove `best_so_far`",
            )
        if not all(isinstance(y_plot[i], float | int) for i in keep):
            raise self.ctx.error(
                "'best_so_far' needs numbers on the y axis", "best_so_far", hint="remove it"
            )
        if self.ctx.goals is not None:
            mode = self.ctx.goals.mode(self.y, "best_so_far", self.ctx.line_of("best_so_far"))
        else:
            mode = goal_of(self.y)[0]

        def better(a: float, b: float) -> bool:
            return a > b if mode == "max" else a < b

        order = sorted(keep, key=lambda i: xs[i])
        record_x: list[Any] = []
        record_y: list[float] = []
        for i in order:
            if not record_y or better(y_plot[i], record_y[-1]):
                record_x.append(x_plot[i])
                record_y.append(y_plot[i])
        last = x_plot[order[-1]]
        return {
            "type": "scatter",
            "mode": "lines+markers",
            "name": plotly_text(f"best so far ({mode})"),
            # The last record holds until the last run: the line runs on to its x.
            "x": [*record_x, last],
            "y": [*record_y, record_y[-1]],
            "line": {"shape": "hv", "color": "#e45756", "width": 2},
            "marker": {
                "size": [13] * len(record_x) + [0],
                "symbol": "star",
                "color": "#e45756",
            },
            "hoverinfo": "skip",
            "meta": {"role": "best_so_far", "mode": mode, "records": len(record_x)},
        }

    def _trendline(
        self, keep: list[int], x_plot: list[Any], y_plot: list[Any], numeric: bool
    ) -> dict[str, Any]:
        if not numeric:
            raise self.ctx.error(
                "'trendline' needs numbers on both axes", "trendline", hint="remove `trendline`"
            )
        x = np.asarray([x_plot[i] for i in keep], dtype=np.float64)
        y = np.asarray([y_plot[i] for i in keep], dtype=np.float64)
        # On a log axis the line is fitted where it is drawn straight: in log space.
        fx = np.log10(x) if self.log_x else x
        fy = np.log10(y) if self.log_y else y
        if len(keep) < 2 or np.ptp(fx) == 0:
            raise self.ctx.error(
                "'trendline' needs at least two runs with different x values", "trendline"
            )
        slope, intercept = np.polyfit(fx, fy, 1)
        predicted = slope * fx + intercept
        total = float(np.sum((fy - fy.mean()) ** 2))
        r2 = 1.0 - float(np.sum((fy - predicted) ** 2)) / total if total > 0 else 1.0
        line_x = np.linspace(fx.min(), fx.max(), 50)
        line_y = slope * line_x + intercept
        xv = 10**line_x if self.log_x else line_x
        yv = 10**line_y if self.log_y else line_y
        xs_name = f"log₁₀ {human_label(self.x)}" if self.log_x else human_label(self.x)
        ys_name = f"log₁₀ {human_label(self.y)}" if self.log_y else human_label(self.y)
        sign = "+" if intercept >= 0 else "−"
        equation = f"{ys_name} = {slope:.4g} · {xs_name} {sign} {abs(intercept):.4g}, R² = {r2:.3f}"
        return {
            "type": "scatter",
            "mode": "lines",
            "name": plotly_text(equation),
            "x": xv.tolist(),
            "y": yv.tolist(),
            "line": {"color": "#7f7f7f", "dash": "dash", "width": 2},
            "hoverinfo": "skip",
            "meta": {
                "role": "trendline",
                "slope": float(slope),
                "intercept": float(intercept),
                "r2": r2,
            },
        }


def _all_datetimes(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, datetime) for v in present)


def _value(run: Run, column: str, colors: Any, sizes: Any, block: ScatterBlock, i: int) -> Any:
    if column == block.color and colors is not None:
        return colors[i]
    if column == block.size and sizes is not None:
        return sizes[i]
    return None
