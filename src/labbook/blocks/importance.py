"""The `importance` block: which params matter for a metric, as W&B's parameter importance.

For each param that varies, two numbers:

- its correlation with the metric: Pearson's r for a numeric param; for a text param
  the correlation ratio η (from 0 to 1: how much of the metric's variance the param's
  groups explain), which has no sign;
- its importance: with scikit-learn installed (`pip install 'labbook[importance]'`), a
  random forest's impurity importances (200 trees, a fixed seed, so the page is the
  same at every build), as W&B computes them; without it, the dependency-free method:
  each param's |r| (or η), scaled so the importances sum to 1. `method` chooses.

scikit-learn's import is the forest's cost: 1.6 s on this machine with a bytecode
cache, 5 s without. `method: correlation` never imports it.

Fewer runs than `min_runs` (default 8) that have the metric and every param is an
error box: a forest or a correlation over a handful of runs ranks noise.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..escaping import plotly_text
from ..model import RunSet, sort_key
from .base import (
    CHART,
    Block,
    BlockContext,
    Option,
    RenderedBlock,
    human_label,
    opt_choice,
    opt_int,
)
from .columns import canonical_column, check_column, run_values
from .plot import is_numeric, layout, numbers

METHODS = ("auto", "forest", "correlation")
MIN_RUNS = 8
TREES = 200


class ImportanceBlock(Block):
    """Each varying param's correlation with a metric and its importance, as sorted bars."""

    kind = "importance"
    summary = "Each param's correlation with a metric and its importance (a random forest)."
    example = "importance: val/acc\nparams: [params.lr, params.seed]\nmethod: correlation"
    declared = (
        Option("importance", "column", "the metric explained", required=True),
        Option("params", "list of columns", "the params weighed", "every param that varies"),
        Option(
            "method",
            "auto, forest or correlation",
            "a random forest (needs scikit-learn) or the dependency-free |correlation|; "
            "`auto` takes the forest when scikit-learn is installed",
            "auto",
        ),
        Option("min_runs", "whole number ≥ 3", "refuse with fewer runs than this", str(MIN_RUNS)),
        *CHART,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        self.metric = canonical_column(check_column(spec.get("importance"), "importance", ctx))
        params = spec.get("params")
        self.params: list[str] | None = None
        if params is not None:
            if not isinstance(params, list) or not params:
                raise ctx.error(
                    f"'params' must list columns, not {params!r}",
                    "params",
                    hint="write e.g. `params: [params.lr, params.batch]`",
                )
            self.params = [canonical_column(check_column(p, "params", ctx)) for p in params]
        self.method = opt_choice(spec, "method", ctx, METHODS, default="auto")
        self.min_runs = opt_int(spec, "min_runs", ctx, default=MIN_RUNS, minimum=3)
        self.height = opt_int(spec, "height", ctx, default=400, minimum=50)

    def metric_keys(self) -> list[str]:
        return [self.metric.removeprefix("metrics.")] if self.metric.startswith("metrics.") else []

    def render(self, runs: RunSet) -> RenderedBlock:
        target_raw = run_values(runs, self.metric, self.ctx, "importance")
        if not is_numeric(target_raw):
            raise self.ctx.error(
                f"'importance': {human_label(self.metric)!r} is not a number", "importance"
            )
        columns = self.params or _varying_params(runs)
        if not columns:
            raise self.ctx.error(
                "no param varies across these runs: there is nothing to weigh",
                "importance",
                hint="name the params with `params: [...]`, or widen the runs",
            )
        raw = {c: run_values(runs, c, self.ctx, "params") for c in columns}
        target = numbers(target_raw)
        keep = [
            i
            for i in range(len(runs))
            if target[i] is not None and all(raw[c][i] is not None for c in columns)
        ]
        if len(keep) < self.min_runs:
            raise self.ctx.error(
                f"importance needs at least {self.min_runs} runs with {human_label(self.metric)!r} "
                f"and every param weighed; {len(keep)} of {len(runs)} have them",
                "importance",
                hint="add runs, weigh fewer params, or lower `min_runs` knowing the ranking is noise",
            )
        y = np.asarray([target[i] for i in keep], dtype=np.float64)
        if np.ptp(y) == 0:
            raise self.ctx.error(
                f"{human_label(self.metric)!r} is the same for every run", "importance"
            )
        encoded = {c: _encode([raw[c][i] for i in keep]) for c in columns}
        correlations = {c: _correlation(x, numeric, y) for c, (x, numeric) in encoded.items()}
        method = self._method()
        if method == "forest":
            importances = _forest(np.column_stack([encoded[c][0] for c in columns]), y)
            scores = dict(zip(columns, importances, strict=True))
            how = f"a random forest of {TREES} trees (scikit-learn)"
        else:
            total = sum(abs(r) for r in correlations.values())
            scores = {c: (abs(r) / total if total else 0.0) for c, r in correlations.items()}
            how = "|correlation|, scaled to sum to 1"
        ordered = sorted(columns, key=lambda c: (-scores[c], c))
        labels = [plotly_text(human_label(c)) for c in ordered]
        corr_values = [correlations[c] for c in ordered]
        kinds = ["r" if encoded[c][1] else "η" for c in ordered]
        custom = [
            [f"{scores[c]:.3f}", f"{k} = {r:+.3f}" if k == "r" else f"η = {r:.3f}"]
            for c, r, k in zip(ordered, corr_values, kinds, strict=True)
        ]
        hover = "<b>%{y}</b><br>importance %{customdata[0]}<br>%{customdata[1]}<extra></extra>"
        traces = [
            {
                "type": "bar",
                "orientation": "h",
                "name": "importance",
                "x": [scores[c] for c in ordered],
                "y": labels,
                "marker": {"color": "#1f77b4"},
                "customdata": custom,
                "hovertemplate": hover,
                "meta": {"role": "importance", "params": ordered, "method": method},
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "correlation (r, or η for text)",
                "x": corr_values,
                "y": labels,
                "marker": {"color": ["#2ca02c" if r >= 0 else "#d62728" for r in corr_values]},
                "customdata": custom,
                "hovertemplate": hover,
                "meta": {"role": "correlation", "params": ordered, "kinds": kinds},
            },
        ]
        note = (
            f"Based on {len(keep)} of {len(runs)} runs; importance by {how}. "
            f"Correlation: Pearson's r for numbers, the correlation ratio η for text."
        )
        figure = {
            "data": traces,
            "layout": layout(
                self.height,
                barmode="group",
                showlegend=True,
                legend={
                    "orientation": "h",
                    "x": 0,
                    "xanchor": "left",
                    "y": 1.02,
                    "yanchor": "bottom",
                },
                xaxis={
                    "title": {"text": plotly_text(f"for {human_label(self.metric)}")},
                    "range": [-1, 1],
                    "zeroline": True,
                },
                yaxis={"type": "category", "autorange": "reversed", "automargin": True},
                meta={"csv_note": note},
            ),
        }
        extra = f'<p class="labbook-note">{html.escape(note)}</p>'
        return RenderedBlock(self.chart(figure, self.height, extra=extra), figure=figure)

    def _method(self) -> str:
        if self.checking and self.method != "forest":
            return "correlation"  # `labbook check` validates; it need not import a forest
        if self.method != "auto":
            if self.method == "forest" and not _have_sklearn():
                raise self.ctx.error(
                    "`method: forest` needs scikit-learn",
                    "method",
                    hint="install it with: pip install 'labbook[importance]', or use `method: correlation`",
                )
            return self.method
        return "forest" if _have_sklearn() else "correlation"


def _varying_params(runs: RunSet) -> list[str]:
    keys = sorted({k for r in runs for k in r.params})
    out = []
    for key in keys:
        distinct = {repr(r.params.get(key)) for r in runs if r.params.get(key) is not None}
        if len(distinct) > 1:
            out.append(f"params.{key}")
    return out


def _encode(values: list[Any]) -> tuple[np.ndarray, bool]:
    """Gives a param's values as numbers: as they are, or text as codes in sorted order."""
    if is_numeric(values):
        return np.asarray(numbers(values), dtype=np.float64), True
    distinct = sorted({repr(v): v for v in values}.values(), key=sort_key)
    codes = {repr(v): i for i, v in enumerate(distinct)}
    return np.asarray([codes[repr(v)] for v in values], dtype=np.float64), False


def _correlation(x: np.ndarray, numeric: bool, y: np.ndarray) -> float:
    """Gives Pearson's r (numbers) or the correlation ratio η (codes of text values)."""
    if numeric:
        if np.ptp(x) == 0:
            return 0.0
        return float(np.corrcoef(x, y)[0, 1])
    total = float(np.sum((y - y.mean()) ** 2))
    between = sum(
        float(np.sum(x == code)) * (float(y[x == code].mean()) - float(y.mean())) ** 2
        for code in np.unique(x)
    )
    return float(np.sqrt(between / total)) if total else 0.0


def _have_sklearn() -> bool:
    try:
        import sklearn.ensemble  # noqa: F401
    except ImportError:
        return False
    return True


def _forest(x: np.ndarray, y: np.ndarray) -> list[float]:
    from sklearn.ensemble import RandomForestRegressor

    model = RandomForestRegressor(n_estimators=TREES, random_state=0)
    model.fit(x, y)
    return [float(v) for v in model.feature_importances_]
