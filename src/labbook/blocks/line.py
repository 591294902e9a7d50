"""The `line` block: metric histories per run (or per group of runs) as an interactive chart."""

from __future__ import annotations

import difflib
import fnmatch
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import numpy as np

from ..charts import FloatArray, IntArray, color_for, downsample, group_mean, rgba, smooth_ema
from ..errors import LabbookError, ReportErrors
from ..escaping import plotly_text
from ..model import (
    ATTRIBUTES,
    Run,
    RunSet,
    as_number,
    column_value,
    load_series,
    missing_key_hint,
    sort_key,
)
from .base import (
    CHART,
    Block,
    BlockContext,
    Option,
    RenderedBlock,
    display_value,
    expand_keys,
    human_label,
    known_keys_hint,
    opt_bool,
    opt_choice,
    opt_int,
    opt_str_list,
)

X_MODES = ("step", "time", "relative")
LAYOUTS = ("overlay", "grid")
GRID_PANEL_HEIGHT = 240  # px per subplot of `layout: grid` when `height` is not given
BANDS = ("std", "minmax", "none")
# Several keys per run share the run's colour; the dash tells them apart.
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
RAW_OPACITY = 0.25
BAND_OPACITY = 0.2
_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class _Points:
    """One run's drawable points of one key: numeric x (Unix seconds for dates), y, steps."""

    x: FloatArray
    y: FloatArray
    steps: IntArray

    def __len__(self) -> int:
        return len(self.x)


class LineBlock(Block):
    """Metric history per run: one line per run and key, or one mean line per group."""

    kind = "line"
    summary = "Metric histories per run, or one mean line per group with a band."
    example = "line: val/acc\nsmoothing: 0.6\ngroup_by: params.lr"
    declared = (
        Option("line", "metric key, glob or list of them", "the metrics drawn", required=True),
        Option(
            "x",
            "step, time, relative or a metric key",
            "the x axis: the step, the wall-clock time, seconds since the run's start, or "
            "another metric paired with y by step",
            "step",
        ),
        Option(
            "smoothing",
            "number 0..1",
            "TensorBoard's debiased exponential moving average; the raw line stays, faint",
            "0",
        ),
        Option("group_by", "column", "one mean line per value of this column, with a band"),
        Option("band", "std, minmax or none", "the band around a group's mean", "std"),
        Option("log_x", "true/false", "a logarithmic x axis", "false"),
        Option("log_y", "true/false", "a logarithmic y axis", "false"),
        Option("xrange", "[low, high]", "the x axis range (dates with `x: time`)"),
        Option("yrange", "[low, high]", "the y axis range"),
        Option(
            "legend",
            "text with {column} fields",
            "each line's legend entry, e.g. '{name} lr={params.lr}'",
            "the run's name",
        ),
        Option(
            "layout",
            "overlay or grid",
            "several keys on one chart (told apart by dash), or one subplot per key, x shared",
            "overlay",
        ),
        Option(
            "max_points",
            "whole number ≥ 4",
            "points per line before shape-keeping (min-max) downsampling",
            "the site's max_points (1500)",
        ),
        *CHART,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        self.patterns = opt_str_list(spec, "line", ctx)
        self.height = opt_int(spec, "height", ctx, default=400, minimum=50)
        self.x = _x_option(spec, ctx)
        self.smoothing = _smoothing_option(spec, ctx)
        self.group_by = _column_option(spec, "group_by", ctx)
        self.band = opt_choice(spec, "band", ctx, BANDS, default="std")
        if spec.get("band") is not None and self.group_by is None:
            raise ctx.error(
                "'band' only applies to a grouped chart",
                "band",
                hint="add `group_by: params.K`, or remove `band`",
            )
        self.log_x = opt_bool(spec, "log_x", ctx)
        self.log_y = opt_bool(spec, "log_y", ctx)
        if self.log_x and self.x == "time":
            raise ctx.error(
                "'log_x' cannot be used with `x: time` (a date axis)",
                "log_x",
                hint="use `x: relative` for seconds since the start, which can be logarithmic",
            )
        self.xrange = _range_option(spec, "xrange", ctx, log=self.log_x, dates=self.x == "time")
        self.yrange = _range_option(spec, "yrange", ctx, log=self.log_y, dates=False)
        self.legend = _template_option(spec, ctx)
        self.layout = opt_choice(spec, "layout", ctx, LAYOUTS, default="overlay")
        self.max_points = opt_int(
            spec, "max_points", ctx, default=max(4, ctx.max_points), minimum=4
        )
        # Per-render caches: a run's x lookup and start time are shared by all its keys.
        self._x_lookup: dict[str, tuple[IntArray, FloatArray]] = {}
        self._start: dict[str, float] = {}

    def metric_keys(self) -> list[str]:
        """Gives the metric keys and globs drawn, and the x metric when x is one."""
        keys = list(self.patterns)
        if self.x not in X_MODES and self.x not in keys:
            keys.append(self.x)
        return keys

    def render(self, runs: RunSet) -> RenderedBlock:
        """Gives the chart's HTML with its Plotly figure embedded as JSON."""
        self._x_lookup.clear()
        self._start.clear()
        warnings: list[LabbookError] = []
        keys = expand_keys(self.patterns, runs)
        warnings.extend(self._unmatched_globs(runs, keys))
        self._check_legend(runs)
        self._check_x_metric(runs)
        # Every series the chart draws, asked of each source in one call (bulk where it can).
        load_series(runs, keys if self.x in X_MODES else [*keys, self.x])
        if self.group_by is None:
            traces, drawn = self._run_traces(runs, keys)
        else:
            traces, drawn = self._group_traces(runs, keys, warnings)
            if runs and all(column_value(r, self.group_by) is None for r in runs):
                warnings.append(
                    self.ctx.error(
                        f"no run has a value for {self.group_by!r}",
                        "group_by",
                        hint=missing_key_hint(self.group_by, list(runs)),
                    )
                )
        for key in keys:
            if key not in drawn:
                warnings.append(
                    self.ctx.error(
                        f"no run has any point of {key!r} (runs: {_names(runs)})",
                        "line",
                        hint=self._missing_hint(key, runs),
                    )
                )
        if not runs:
            raise self.ctx.error(
                "nothing to draw: the block's runs are none",
                "runs",
                hint="check the run set's experiment and filter, or the block's `runs`",
            )
        if not traces:
            # An empty chart reads as "nothing happened": say what is missing instead.
            missing = [w for w in warnings if w.message.startswith("no run has any point")]
            raise (
                ReportErrors(missing or warnings)
                if (missing or warnings)
                else self.ctx.error(
                    f"nothing to draw: no run has any point of {', '.join(self.patterns)}",
                    "line",
                )
            )
        self._check_history(traces, keys)
        layout = self._layout(keys)
        if self.layout == "grid":
            layout = self._grid(traces, [k for k in keys if k in drawn], layout)
        layout["meta"] = {"csv_note": self._csv_note(traces)}
        figure: dict[str, Any] = {"data": traces, "layout": layout}
        html = self.chart(figure, int(layout["height"]))
        return RenderedBlock(html=html, figure=figure, warnings=warnings)

    def check(self, runs: RunSet) -> RenderedBlock:
        """Gives the block's problems from the runs' metric keys and summaries alone.

        `labbook check` reads no history: a key no run logged, a glob matching nothing, a
        group column or legend field no run has are found from what the runs list. (Runs
        that logged a single value each are only seen by a build, which reads the points.)
        """
        warnings: list[LabbookError] = []
        if not runs:
            raise self.ctx.error(
                "nothing to draw: the block's runs are none",
                "runs",
                hint="check the run set's experiment and filter, or the block's `runs`",
            )
        self._check_legend(runs)
        self._check_x_metric(runs)
        keys = expand_keys(self.patterns, runs)
        logged = {k for r in runs for k in r.metric_keys()}
        warnings.extend(self._unmatched_globs(runs, keys))
        wanted = keys if self.x in X_MODES else [*keys, self.x]
        missing: list[LabbookError] = [
            self.ctx.error(
                f"no run has any point of {key!r} (runs: {_names(runs)})",
                "line" if key != self.x or key in keys else "x",
                hint=self._missing_hint(key, runs),
            )
            for key in wanted
            if key not in logged
        ]
        if self.group_by is not None and all(column_value(r, self.group_by) is None for r in runs):
            warnings.append(
                self.ctx.error(
                    f"no run has a value for {self.group_by!r}",
                    "group_by",
                    hint=missing_key_hint(self.group_by, list(runs)),
                )
            )
        if missing and len(missing) == len(wanted):
            raise ReportErrors(list(missing))
        warnings.extend(missing)
        return RenderedBlock(html="", warnings=warnings)

    def _unmatched_globs(self, runs: RunSet, keys: list[str]) -> list[LabbookError]:
        """Gives a warning for each glob that matches no metric of the runs."""
        return [
            self.ctx.error(
                f"no metric of {_names(runs)} matches {pattern!r}",
                "line",
                hint="check the pattern against `labbook runs --keys`",
            )
            for pattern in self.patterns
            if _is_glob(pattern) and not any(_glob_match(k, pattern) for k in keys)
        ]

    def _check_legend(self, runs: RunSet) -> None:
        """Raises for a legend field no run has: it would leave every entry blank there."""
        if self.legend is None or not runs:
            return
        for field in (f.strip() for f in _TEMPLATE_FIELD.findall(self.legend)):
            if field in ATTRIBUTES or any(column_value(r, field) is not None for r in runs):
                continue
            raise self.ctx.error(
                f"'legend': no run of this block has {field!r}",
                "legend",
                hint=missing_key_hint(field, list(runs)),
            )

    def _check_x_metric(self, runs: RunSet) -> None:
        """Raises for an x metric no run logged: every line would silently vanish."""
        if self.x in X_MODES or not runs or any(self.x in r.metric_keys() for r in runs):
            return
        logged = sorted({k for r in runs for k in r.metric_keys()})
        hint = known_keys_hint(self.x, logged, "metrics these runs logged")
        if not hint.startswith("did you mean"):
            mode = difflib.get_close_matches(self.x, X_MODES, n=1, cutoff=0.6)
            hint = (f"did you mean {mode[0]!r}? " if mode else "") + hint
        raise self.ctx.error(
            f"'x': no run of this block logged the metric {self.x!r} (runs: {_names(runs)})",
            "x",
            hint=hint + "; x also takes step, time or relative",
        )

    def _check_history(self, traces: list[dict[str, Any]], keys: list[str]) -> None:
        """Raises when every line is a single point: the runs logged one value, not a history."""
        lines = [t for t in traces if t["meta"].get("role") in ("line", "smoothed", "mean")]
        if lines and all(len(t["x"]) <= 1 for t in lines):
            key = keys[0]
            raise self.ctx.error(
                f"every run logged at most one value of {', '.join(keys)}: a line needs a "
                "history, and this would draw lone dots at one step",
                "line",
                hint=f"to compare one value per run, write `bar: {key}` or "
                f"`scatter: {{x: params.K, y: {key}}}`",
            )

    def _grid(
        self, traces: list[dict[str, Any]], keys: list[str], layout: dict[str, Any]
    ) -> dict[str, Any]:
        """Gives the layout of one subplot per key, one column, x shared; places each trace."""
        n = max(1, len(keys))
        seen: set[str] = set()
        for trace in traces:
            i = keys.index(trace["meta"]["key"]) + 1 if trace["meta"]["key"] in keys else 1
            trace["xaxis"], trace["yaxis"] = ("x", "y") if i == 1 else (f"x{i}", f"y{i}")
            group = trace.get("legendgroup")
            if trace.get("showlegend", True) and group is not None:
                trace["showlegend"] = group not in seen
                seen.add(group)
        x_axis = layout.pop("xaxis")
        y_axis = layout.pop("yaxis")
        for i, key in enumerate(keys, start=1):
            suffix = "" if i == 1 else str(i)
            x = {**x_axis, "title": {"text": x_axis["title"]["text"] if i == n else ""}}
            if i > 1:
                x["matches"] = "x"  # zooming one subplot zooms them all
            if i < n:
                x["showticklabels"] = False
            layout[f"xaxis{suffix}"] = x
            layout[f"yaxis{suffix}"] = {**y_axis, "title": {"text": plotly_text(human_label(key))}}
        layout["grid"] = {"rows": n, "columns": 1, "pattern": "independent", "ygap": 0.12}
        if "height" not in self.spec:
            layout["height"] = max(self.height, GRID_PANEL_HEIGHT * n)
        return layout

    def _csv_note(self, traces: list[dict[str, Any]]) -> str:
        note = "one row per point drawn"
        if self.smoothing:
            note += f"; smoothed with weight {self.smoothing:g} (raw rows too)"
        if self.group_by:
            note += f"; group means by {human_label(self.group_by)}"
        return note + f"; each line at most {self.max_points} points (min-max downsampled)"

    # --- one line per run -------------------------------------------------------------

    def _run_traces(self, runs: RunSet, keys: list[str]) -> tuple[list[dict[str, Any]], set[str]]:
        traces: list[dict[str, Any]] = []
        drawn: set[str] = set()
        several = len(keys) > 1 and self.layout == "overlay"
        for run_index, run in enumerate(runs):
            color = self.ctx.page.color(run)
            for key_index, key in enumerate(keys):
                points = self._points(run, key)
                if not len(points):
                    continue
                drawn.add(key)
                label = (
                    _fill_template(self.legend, partial(column_value, run))
                    if self.legend is not None
                    else run.name
                )
                if several:
                    label = f"{label} · {key}"
                dash = DASHES[key_index % len(DASHES)] if several else "solid"
                style = {"color": color, "width": 2, "dash": dash}
                hover = self._hover(run.name, key)
                meta = {"run_id": run.id, "key": key}
                # One legend entry per run across a grid's subplots; per run and key overlaid.
                group = f"run-{run_index}-{key_index}" if several else f"run-{run_index}"
                if self.smoothing > 0:
                    traces.append(
                        self._trace(
                            points.x,
                            points.y,
                            points.steps,
                            label,
                            hover,
                            style,
                            group,
                            {**meta, "role": "raw"},
                            raw=True,
                        )
                    )
                    smoothed = smooth_ema(points.y, self.smoothing)
                    traces.append(
                        self._trace(
                            points.x,
                            smoothed,
                            points.steps,
                            label,
                            hover,
                            style,
                            group,
                            {**meta, "role": "smoothed"},
                        )
                    )
                else:
                    traces.append(
                        self._trace(
                            points.x,
                            points.y,
                            points.steps,
                            label,
                            hover,
                            style,
                            group,
                            {**meta, "role": "line"},
                        )
                    )
        return traces, drawn

    # --- one mean line per group ------------------------------------------------------

    def _group_traces(
        self, runs: RunSet, keys: list[str], warnings: list[LabbookError]
    ) -> tuple[list[dict[str, Any]], set[str]]:
        assert self.group_by is not None
        column = self.group_by
        # A group keeps the value of its first run, as that run spells it, for its label.
        groups: dict[tuple[str, object], tuple[Any, list[Run]]] = {}
        for run in runs:
            value = column_value(run, column)
            groups.setdefault(_group_key(value), (value, []))[1].append(run)
        ordered = sorted(groups.values(), key=lambda item: sort_key(item[0]))
        traces: list[dict[str, Any]] = []
        drawn: set[str] = set()
        several = len(keys) > 1 and self.layout == "overlay"
        for group_index, (value, members) in enumerate(ordered):
            color = color_for(group_index)
            for key_index, key in enumerate(keys):
                with_points = [(r, p) for r in members if len(p := self._points(r, key))]
                if not with_points:
                    continue
                drawn.add(key)
                xs = [p.x for _, p in with_points]
                raw_ys = [p.y for _, p in with_points]
                ys = [smooth_ema(y, self.smoothing) for y in raw_ys] if self.smoothing else raw_ys
                grid, mean, std, lo, hi = group_mean(xs, ys)
                group_runs = [r for r, _ in with_points]
                label = self._group_label(value, group_runs)
                if not len(grid):
                    # Averaging outside the range every run covers would extrapolate.
                    warnings.append(
                        self.ctx.error(
                            f"the runs of group {label} share no range of x for {key!r},"
                            f" so they have no mean (runs: {_names(RunSet(group_runs))})",
                            "group_by",
                        )
                    )
                    continue
                if several:
                    label = f"{label} · {key}"
                hover = self._group_hover(label, key)
                dash = DASHES[key_index % len(DASHES)] if several else "solid"
                style = {"color": color, "width": 2, "dash": dash}
                legendgroup = (
                    f"group-{group_index}-{key_index}" if several else f"group-{group_index}"
                )
                meta = {
                    "group": value,
                    "key": key,
                    "run_ids": [r.id for r in group_runs],
                    "n": len(group_runs),
                }
                keep = downsample(grid, mean, self.max_points)
                if self.band != "none":
                    upper, lower = (mean + std, mean - std) if self.band == "std" else (hi, lo)
                    traces.append(
                        {
                            "type": "scatter",
                            "mode": "lines",
                            "x": self._x_out(np.concatenate([grid[keep], grid[keep][::-1]])),
                            "y": np.concatenate([upper[keep], lower[keep][::-1]]).tolist(),
                            "fill": "toself",
                            "fillcolor": rgba(color, BAND_OPACITY),
                            "line": {"width": 0, "color": color},
                            "hoverinfo": "skip",
                            "showlegend": False,
                            "legendgroup": legendgroup,
                            "meta": {**meta, "role": "band", "band": self.band},
                        }
                    )
                if self.smoothing > 0:
                    raw_grid, raw_mean, *_ = group_mean(xs, raw_ys)
                    traces.append(
                        self._trace(
                            raw_grid,
                            raw_mean,
                            None,
                            label,
                            hover,
                            style,
                            legendgroup,
                            {**meta, "role": "raw"},
                            raw=True,
                        )
                    )
                traces.append(
                    self._trace(
                        grid,
                        mean,
                        None,
                        label,
                        hover,
                        style,
                        legendgroup,
                        {**meta, "role": "mean"},
                        keep=keep,
                    )
                )
        return traces, drawn

    def _group_label(self, value: Any, members: list[Run]) -> str:
        assert self.group_by is not None
        n = f"(n={len(members)})"
        if self.legend is not None:
            text = _fill_template(self.legend, lambda col: _shared(members, col)).strip()
            return f"{text} {n}"
        prefix, dot, rest = self.group_by.partition(".")
        short = rest if dot and prefix in _COLUMN_PREFIXES else self.group_by
        shown = "(none)" if value is None else display_value(value)
        return f"{short}={shown} {n}"

    # --- points, traces and layout ------------------------------------------------------

    def _points(self, run: Run, key: str) -> _Points:
        """Gives a run's finite points of a key on this chart's x (empty when none)."""
        series = run.series(key).finite()
        steps = series.steps
        values = series.values
        if self.x == "step":
            return _Points(steps.astype(np.float64), values, steps)
        if self.x in ("time", "relative"):
            mask = np.isfinite(series.times)
            x = series.times[mask]
            if self.x == "relative":
                x = x - self._start_of(run)
            return _Points(x, values[mask], steps[mask])
        lookup_steps, lookup_values = self._x_values(run)
        pos = np.searchsorted(lookup_steps, steps)
        found = pos < len(lookup_steps)
        found[found] = lookup_steps[pos[found]] == steps[found]
        return _Points(lookup_values[pos[found]], values[found], steps[found])

    def _start_of(self, run: Run) -> float:
        """Gives the time of the run's first logged point over the keys drawn (for `relative`)."""
        if run.ref not in self._start:
            firsts = []
            for key in expand_keys(self.patterns, RunSet([run])):
                times = run.series(key).times
                finite = times[np.isfinite(times)]
                if len(finite):
                    firsts.append(float(finite.min()))
            self._start[run.ref] = min(firsts) if firsts else 0.0
        return self._start[run.ref]

    def _x_values(self, run: Run) -> tuple[IntArray, FloatArray]:
        """Gives the x metric's steps (unique, sorted) and values, the last logged per step."""
        if run.ref not in self._x_lookup:
            series = run.series(self.x).finite()
            reversed_steps = series.steps[::-1]
            unique, first_in_reversed = np.unique(reversed_steps, return_index=True)
            last = len(series.steps) - 1 - first_in_reversed
            self._x_lookup[run.ref] = (unique.astype(np.int64), series.values[last])
        return self._x_lookup[run.ref]

    def _trace(
        self,
        x: FloatArray,
        y: FloatArray,
        steps: IntArray | None,
        label: str,
        hover: str,
        style: dict[str, Any],
        legendgroup: str,
        meta: dict[str, Any],
        *,
        raw: bool = False,
        keep: IntArray | None = None,
    ) -> dict[str, Any]:
        if keep is None:
            keep = downsample(x, y, self.max_points)
        trace: dict[str, Any] = {
            "type": "scatter",
            # A single point draws no line; show it as a marker instead of nothing.
            "mode": "lines" if len(keep) > 1 else "markers",
            "x": self._x_out(x[keep]),
            "y": y[keep].tolist(),
            "name": plotly_text(label),
            "legendgroup": legendgroup,
            "line": style,
            "marker": {"color": style["color"]},
            "hovertemplate": hover,
            "meta": meta,
        }
        if steps is not None and self.x != "step":
            trace["customdata"] = steps[keep].tolist()
        if raw:
            trace["opacity"] = RAW_OPACITY
            trace["showlegend"] = False
            trace["line"] = {**style, "width": 1}
        return trace

    def _x_out(self, x: FloatArray) -> list[Any]:
        if self.x == "step":
            return [int(v) for v in np.rint(x).tolist()]
        if self.x == "time":
            return _iso(x)
        return list(x.tolist())

    def _x_hover(self, with_step: bool = True) -> str:
        if self.x == "step":
            return "step %{x:d}"
        if self.x == "time":
            x = "%{x|%Y-%m-%d %H:%M:%S} UTC"
        elif self.x == "relative":
            x = "%{x:.6~g} s"
        else:
            x = f"{plotly_text(self.x)} %{{x:.6~g}}"
        # Off the step axis, each point's step rides along in customdata.
        return f"{x}<br>step %{{customdata:d}}" if with_step else x

    def _hover(self, run_name: str, key: str) -> str:
        return (
            f"<b>{plotly_text(run_name)}</b><br>{self._x_hover()}"
            f"<br>{plotly_text(key)} %{{y:.6~g}}<extra></extra>"
        )

    def _group_hover(self, label: str, key: str) -> str:
        return (
            f"<b>{plotly_text(label)}</b><br>{self._x_hover(with_step=False)}"
            f"<br>mean {plotly_text(key)} %{{y:.6~g}}<extra></extra>"
        )

    def _layout(self, keys: list[str]) -> dict[str, Any]:
        x_title = {"step": "step", "time": "time (UTC)", "relative": "seconds since start"}.get(
            self.x, self.x
        )
        y_title = keys[0] if len(keys) == 1 else ""
        xaxis: dict[str, Any] = {
            "title": {"text": plotly_text(x_title)},
            "type": "date" if self.x == "time" else "log" if self.log_x else "linear",
        }
        yaxis: dict[str, Any] = {
            "title": {"text": plotly_text(y_title)},
            "type": "log" if self.log_y else "linear",
        }
        for axis in (xaxis, yaxis):
            if axis["type"] == "log":
                # Plotly labels the ticks between powers of ten with a bare leading digit
                # ("2" for 0.2), which reads as a different number; label each in full.
                axis["minorloglabels"] = "complete"
        if self.xrange is not None:
            xaxis["range"] = self.xrange
        if self.yrange is not None:
            yaxis["range"] = self.yrange
        return {
            "height": self.height,
            "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
            "hovermode": "closest",
            "uirevision": "labbook",
            "showlegend": True,
            "xaxis": xaxis,
            "yaxis": yaxis,
        }

    def _missing_hint(self, key: str, runs: RunSet) -> str:
        logged = sorted({k for run in runs for k in run.metric_keys()})
        if self.x in ("time", "relative") and key in logged:
            return (
                f"`x: {self.x}` needs the wall-clock time of each point; check the key and the runs"
            )
        if self.x not in X_MODES and key in logged:
            return f"`x: {self.x}` needs {self.x!r} logged at the same steps; check both keys"
        return known_keys_hint(key, logged, "metrics these runs logged")


# --- option checks ----------------------------------------------------------------------

_COLUMN_PREFIXES = ("params", "param", "tags", "tag", "metrics", "metric", "summary", "attributes")


def _x_option(spec: Mapping[str, Any], ctx: BlockContext) -> str:
    value = spec.get("x", "step")
    if not isinstance(value, str) or not value.strip():
        raise ctx.error(
            f"'x' must be step, time, relative or a metric key, not {value!r}",
            "x",
            hint="write e.g. `x: step` or `x: epoch`",
        )
    prefix, dot, rest = value.strip().partition(".")
    if dot and prefix in ("params", "param", "tags", "tag", "attributes"):
        kind = {"params": "param", "param": "param", "tags": "tag", "tag": "tag"}.get(
            prefix, "run attribute"
        )
        raise ctx.error(
            f"'x: {value.strip()}' is a {kind}: one value per run, not a series a line is "
            "drawn along",
            "x",
            hint=f"x takes step, time, relative or a metric key; to compare runs by {rest!r}, "
            f"draw one line per value with `group_by: {value.strip()}`",
        )
    if dot and prefix in ("metrics", "metric"):
        return rest.strip()  # the metric itself: `metrics.epoch` is `epoch`
    return value.strip()


def _smoothing_option(spec: Mapping[str, Any], ctx: BlockContext) -> float:
    value = spec.get("smoothing")
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ctx.error(
            f"'smoothing' must be a number from 0 up to (not including) 1, not {value!r}",
            "smoothing",
            hint="0 draws the raw line; TensorBoard's usual 0.6 is a good start",
        )
    return float(value)


def _column_option(spec: Mapping[str, Any], key: str, ctx: BlockContext) -> str | None:
    value = spec.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ctx.error(
            f"{key!r} must be a column such as params.lr, not {value!r}",
            key,
            hint="columns: name, status, params.K, tags.K, metrics.K",
        )
    return value.strip()


def _template_option(spec: Mapping[str, Any], ctx: BlockContext) -> str | None:
    value = spec.get("legend")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ctx.error(
            f"'legend' must be a text template, not {value!r}",
            "legend",
            hint='write e.g. `legend: "{name} lr={params.lr}"`',
        )
    if value.count("{") != value.count("}"):
        raise ctx.error(
            f"'legend' has unbalanced braces: {value!r}",
            "legend",
            hint='each column goes in braces: `"{name} lr={params.lr}"`',
        )
    return value


def _range_option(
    spec: Mapping[str, Any], key: str, ctx: BlockContext, *, log: bool, dates: bool
) -> list[Any] | None:
    """Gives an axis range as Plotly wants it (log10 on a log axis, date text on a date axis)."""
    value = spec.get(key)
    if value is None:
        return None
    example = "[2026-01-01, 2026-02-01]" if dates else "[0, 1000]"
    if not isinstance(value, list) or len(value) != 2:
        raise ctx.error(
            f"{key!r} must be a list of two values [low, high], not {value!r}",
            key,
            hint=f"write e.g. `{key}: {example}`",
        )
    if dates:
        try:
            moments = [_as_datetime(v) for v in value]
        except (TypeError, ValueError):
            raise ctx.error(
                f"{key!r} on a time axis takes two dates, not {value!r}",
                key,
                hint=f"write e.g. `{key}: {example}`",
            ) from None
        if moments[0] >= moments[1]:
            raise ctx.error(f"{key!r} must go from low to high, not {value!r}", key)
        return [m.strftime("%Y-%m-%d %H:%M:%S") for m in moments]
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in value) or not all(
        math.isfinite(v) for v in value
    ):
        raise ctx.error(
            f"{key!r} must be two numbers [low, high], not {value!r}",
            key,
            hint=f"write e.g. `{key}: {example}`",
        )
    lo, hi = float(value[0]), float(value[1])
    if lo >= hi:
        raise ctx.error(f"{key!r} must go from low to high, not {value!r}", key)
    if log:
        if lo <= 0:
            raise ctx.error(
                f"{key!r} on a log axis must be above 0, not {value!r}",
                key,
                hint="a logarithmic axis cannot show 0 or negative values",
            )
        return [math.log10(lo), math.log10(hi)]
    return [lo, hi]


def _as_datetime(value: object) -> datetime:
    """Gives a UTC wall-clock datetime (naive) from a YAML date, datetime, ISO text or Unix seconds."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = datetime.fromtimestamp(float(value), tz=UTC)
    else:
        raise TypeError(f"not a date: {value!r}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


# --- small pieces -----------------------------------------------------------------------


def _fill_template(template: str, lookup: Callable[[str], Any]) -> str:
    """Gives the template with each {column} replaced by its value (unknown columns: empty)."""
    return _TEMPLATE_FIELD.sub(lambda m: display_value(lookup(m.group(1).strip())), template)


def _shared(runs: list[Run], column: str) -> Any:
    """Gives a column's value when every run agrees on it, else None."""
    values = {_group_key(column_value(r, column)) for r in runs}
    return column_value(runs[0], column) if len(values) == 1 else None


def _iso(seconds: FloatArray) -> list[str]:
    """Gives Unix seconds as UTC date text Plotly's date axis reads."""
    millis = np.rint(seconds * 1000.0).astype(np.int64).astype("datetime64[ms]")
    return [s.replace("T", " ") for s in np.datetime_as_string(millis).tolist()]


def _group_key(value: Any) -> tuple[str, object]:
    """Gives what runs of one group share: the number a value reads as, else the value itself.

    So a local run's `lr: 0.1` and an MLflow run's `lr: "0.1"` (MLflow keeps params as
    text) are one group.
    """
    number = as_number(value)
    return ("number", number) if number is not None else ("value", repr(value))


def _is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def _glob_match(key: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(key, pattern)


def _names(runs: RunSet, limit: int = 5) -> str:
    """Gives the runs' names for a message, the first few and a count of the rest."""
    names = [r.name for r in runs]
    if not names:
        return "no runs"
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown
