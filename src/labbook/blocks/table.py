"""The `table` block: one row per run, columns of attributes, params, tags and metrics."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import LabbookError, ReportErrors
from ..escaping import safe_link
from ..goals import goal_of
from ..model import (
    ATTRIBUTES,
    MISSING_RANK,
    Run,
    RunSet,
    ValueOrder,
    as_number,
    column_value,
    format_seconds,
    is_number,
    missing_key_hint,
    sort_key,
)
from .base import (
    COMMON,
    Block,
    BlockContext,
    Option,
    RenderedBlock,
    display_value,
    human_labels,
    opt_bool,
    opt_int,
)
from .columns import canonical_column, check_column, differs
from .page import PrintedValue

WIDE_COLUMNS = 10  # more columns than this print on a landscape page

# name and id say which run a row is; `only_differing` never drops them.
IDENTITY_COLUMNS = frozenset({"name", "id"})


# Directions an author may write after a sort column that labbook does not take.
_DIRECTION_WORDS = frozenset(
    {"ascending", "descending", "up", "down", "increasing", "decreasing", "reverse", "reversed"}
)


@dataclass(frozen=True)
class Column:
    """A table column: what the author wrote (the header) and the canonical column it reads."""

    header: str  # as written
    key: str
    label: str | None = None  # the author's own header (`{metrics.rmse: RMSE}`)


@dataclass(frozen=True)
class SortKey:
    column: str  # canonical
    descending: bool


class TableBlock(Block):
    """One row per run, sortable in the page, optionally with the best value marked."""

    kind = "table"
    summary = "One row per run, sortable in the page, best values marked."
    example = "table: [name, params.lr, {metrics.val/acc: accuracy}]\nhighlight: {val/acc: best}\nsort: val/acc desc"
    figure_kind = "tbl"
    declared = (
        Option(
            "table",
            "auto, or a list of columns",
            "the columns: name, id, experiment, status, start_time, duration, params.K, "
            "tags.K, metrics.K or a bare metric key; `{metrics.rmse: RMSE}` relabels one",
            required=True,
        ),
        Option("only_differing", "true/false", "drop the columns where every run agrees", "false"),
        Option(
            "highlight",
            "{column: max, min or best}",
            "mark each column's best value; `best` follows the metric's goal",
        ),
        Option("sort", "column [asc|desc], or a list", "the rows' order", "as the runs come"),
        Option("limit", "whole number ≥ 1", "show only the first rows after sorting"),
        *COMMON,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        self.columns: list[Column] | None = _columns_option(spec, ctx)  # None: auto
        self.only_differing = opt_bool(spec, "only_differing", ctx)
        self.highlight = _highlight_option(spec, ctx)
        self.sort = _sort_option(spec, ctx)
        self.limit: int | None = (
            opt_int(spec, "limit", ctx, default=0, minimum=1)
            if spec.get("limit") is not None
            else None
        )
        if self.columns is not None:
            shown = {c.key for c in self.columns}
            for key in self.highlight:
                if key not in shown:
                    raise ctx.error(
                        f"'highlight' names {key!r}, which is not a column of the table",
                        "highlight",
                        hint="add the column to the table's list, or remove it from highlight",
                    )

    def metric_keys(self) -> list[str]:
        """Gives the summary metrics the columns, sort and highlight read."""
        keys = [c.key for c in self.columns or []]
        keys += [s.column for s in self.sort] + list(self.highlight)
        out: list[str] = []
        for key in keys:
            prefix, _, rest = key.partition(".")
            if prefix == "metrics" and rest not in out:
                out.append(rest)
        return out

    def render(self, runs: RunSet) -> RenderedBlock:
        """Gives the table's HTML: sortable headers, one row per run, best values marked."""
        warnings: list[LabbookError] = []
        self._check_keys(list(runs))
        rows = _sorted_runs(list(runs), self.sort)
        if self.limit is not None:
            rows = rows[: self.limit]
        columns = self.columns if self.columns is not None else _auto_columns(rows)
        if self.columns is None:
            shown = {c.key for c in columns}
            for key in self.highlight:
                if key not in shown:
                    warnings.append(
                        self.ctx.error(
                            f"'highlight' names {key!r}, which none of the runs has",
                            "highlight",
                        )
                    )
        if self.only_differing:
            columns = [
                c
                for c in columns
                if c.key in IDENTITY_COLUMNS or differs([column_value(r, c.key) for r in rows])
            ]
        first_sort = self.sort[0] if self.sort else None
        labels = human_labels([c.key for c in columns], {c.key: c.label for c in columns})
        heads: list[dict[str, Any]] = []
        cells: list[list[dict[str, Any]]] = [[] for _ in rows]
        for column in columns:
            values = [column_value(r, column.key) for r in rows]
            kind = _column_type(values)
            sort = None
            if first_sort is not None and first_sort.column == column.key:
                sort = "descending" if first_sort.descending else "ascending"
            heads.append(
                {"key": column.key, "type": kind, "label": labels[column.key], "sort": sort}
            )
            best = _best(values, self._highlight_mode(column))
            for i, (run, value) in enumerate(zip(rows, values, strict=True)):
                cell = self._cell(run, column, value, kind, best)
                cells[i].append(cell)
                if column.key.startswith("metrics."):
                    self._record(run, column.key, cell["text"], value)
        # A table too wide for a portrait page gets a landscape one in print.
        css = "labbook-table-block" + (" labbook-wide" if len(heads) > WIDE_COLUMNS else "")
        html = self.frame("", css, "table.html", columns=heads, rows=cells)
        return RenderedBlock(html=html, warnings=warnings)

    def _record(self, run: Run, column: str, text: str, value: Any) -> None:
        """Keeps a summary cell in the page's values, for version records and `diff`."""
        self.ctx.page.values.append(
            PrintedValue(
                "table",
                f"{run.ref} {column}",
                text,
                as_number(value),
                line=self.ctx.line_of("table"),
                run=run.ref,
                run_name=run.name,
                column=column,
            )
        )

    def _check_keys(self, runs: list[Run]) -> None:
        """Raises a ReportError for each column or sort key that no run of the block has.

        A column some runs lack is normal (an empty cell); one that none has is a misspelling,
        which would otherwise show as an empty column or an unsorted table.
        """
        if not runs:
            return
        wanted = [(c.header, c.key, "table") for c in self.columns or []]
        wanted += [(s.column, s.column, "sort") for s in self.sort]
        errors: list[LabbookError] = []
        for header, key, option in wanted:
            if key in ATTRIBUTES or any(column_value(r, key) is not None for r in runs):
                continue
            # As written when bare (`rsme`), else canonical (`param.lr` is `params.lr`).
            spelled = header if key == f"metrics.{header}" else key
            hint = missing_key_hint(spelled, runs)
            errors.append(
                self.ctx.error(f"{option!r}: no run of this block has {header!r}", option, hint)
            )
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise ReportErrors(errors)

    def _highlight_mode(self, column: Column) -> str | None:
        """Gives a column's highlight, max or min; `best` is the metric's goal."""
        mode = self.highlight.get(column.key)
        if mode != "best":
            return mode
        used_as = f"highlight: {{{column.header}: best}}"
        if self.ctx.goals is not None:
            return self.ctx.goals.mode(column.key, used_as, self.ctx.line_of("highlight"))
        return goal_of(column.key)[0]

    def _cell(
        self, run: Run, column: Column, value: Any, kind: str, best: float | None
    ) -> dict[str, Any]:
        number = as_number(value)
        text = format_duration(value) if column.key == "duration" else display_value(value)
        href = safe_link(self.ctx.run_link(run)) if column.key == "name" else None
        return {
            "value": _sort_value(value),
            "number": kind == "number",
            "best": best is not None and number is not None and number == best,
            "text": text,
            "href": href,
        }


# --- columns ----------------------------------------------------------------------------


def _columns_option(spec: Mapping[str, Any], ctx: BlockContext) -> list[Column] | None:
    value = spec.get("table")
    if value == "auto":
        return None
    if not isinstance(value, list) or not value:
        raise ctx.error(
            f"'table' must be `auto` or a list of columns, not {value!r}",
            "table",
            hint="write e.g. `table: [name, params.lr, metrics.val/acc]` or `table: auto`",
        )
    columns: list[Column] = []
    for item in value:
        label: str | None = None
        if isinstance(item, Mapping) and len(item) == 1:
            # `{metrics.rmse: RMSE}`: the column, relabelled.
            item, label = next(iter(item.items()))
            if not isinstance(label, str | int | float) or not str(label).strip():
                raise ctx.error(
                    f"'table': the header of {item!r} must be text, not {label!r}",
                    "table",
                    hint="write e.g. `- {metrics.rmse: RMSE}`",
                )
            label = str(label)
        header = check_column(item, "table", ctx)
        key = canonical_column(header)
        if all(c.key != key for c in columns):
            columns.append(Column(header, key, label))
    return columns


def _highlight_option(spec: Mapping[str, Any], ctx: BlockContext) -> dict[str, str]:
    value = spec.get("highlight")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ctx.error(
            f"'highlight' must map columns to max, min or best, not {value!r}",
            "highlight",
            hint="write e.g. `highlight: {metrics.val/acc: max, val/loss: min}`",
        )
    out: dict[str, str] = {}
    for column, mode in value.items():
        key = canonical_column(check_column(column, "highlight", ctx))
        if mode not in ("max", "min", "best"):
            raise ctx.error(
                f"'highlight': {column} must be max, min or best, not {mode!r}",
                "highlight",
                hint=f"write e.g. `highlight: {{{column}: best}}` (best: the metric's goal)",
            )
        out[key] = str(mode)
    return out


def _sort_option(spec: Mapping[str, Any], ctx: BlockContext) -> list[SortKey]:
    value = spec.get("sort")
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ctx.error("'sort' names no column", "sort", hint="write e.g. `sort: val/acc desc`")
    keys: list[SortKey] = []
    for item in items:
        text = check_column(item, "sort", ctx)
        descending = False
        column, _, direction = text.rpartition(" ")
        if column and direction.lower() in ("asc", "desc"):
            descending = direction.lower() == "desc"
            text = column.strip()
        elif column and direction.lower() in _DIRECTION_WORDS:
            raise ctx.error(
                f"'sort': {text!r}: the direction must be asc or desc, not {direction!r}",
                "sort",
                hint=f"write `sort: {column.strip()} "
                f"{'desc' if direction.lower().startswith(('desc', 'down', 'dec')) else 'asc'}`",
            )
        elif text.startswith("-"):
            descending = True
            text = text[1:].strip()
        keys.append(SortKey(canonical_column(check_column(text, "sort", ctx)), descending))
    return keys


def _auto_columns(runs: list[Run]) -> list[Column]:
    """Gives name, status, then every param, visible tag and numeric summary metric, sorted."""
    params = sorted({k for r in runs for k in r.params})
    tags = sorted({k for r in runs for k in r.tags if k not in r.hidden_tags})
    metrics = sorted({k for r in runs for k, v in r.summary.items() if is_number(v)})
    keys = ["name"]
    # A source that records no status would otherwise give an empty column.
    if any(r.status is not None for r in runs):
        keys.append("status")
    keys += [f"params.{k}" for k in params] + [f"tags.{k}" for k in tags]
    keys += [f"metrics.{k}" for k in metrics]
    return [Column(k, k) for k in keys]


# --- values -----------------------------------------------------------------------------


def _column_type(values: list[Any]) -> str:
    """Gives the sort type the page's JS uses: number, date or text."""
    present = [v for v in values if v is not None and v != ""]
    if not present:
        return "text"
    if all(is_number(v) or as_number(v) is not None for v in present):
        return "number"
    if all(isinstance(v, datetime) for v in present):
        return "date"
    return "text"


def _sort_value(value: Any) -> str:
    """Gives a value at full precision for sorting in the page (empty sorts last)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            # JavaScript's parseFloat reads these, not Python's "inf".
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def format_duration(value: object) -> str:
    """Gives seconds as a reader reads a run's length: `42s`, `5m 03s`, `1h 02m`, `2d 03h`."""
    if not is_number(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        return display_value(value)
    return format_seconds(float(value))  # type: ignore[arg-type]


def _best(values: list[Any], mode: str | None) -> float | None:
    """Gives the highest or lowest finite number of a column (None: no highlight)."""
    if mode is None:
        return None
    numbers = [n for v in values if (n := as_number(v)) is not None]
    if not numbers:
        return None
    return max(numbers) if mode == "max" else min(numbers)


def _sorted_runs(runs: list[Run], keys: list[SortKey]) -> list[Run]:
    """Gives the runs sorted by each key in turn; runs without a value go last either way."""
    out = list(runs)
    # Stable sorts from the last key to the first give a multi-key sort.
    for key in reversed(keys):
        present: list[tuple[ValueOrder, Run]] = []
        missing: list[Run] = []
        for run in out:
            order = _order(column_value(run, key.column))
            if order is None:
                missing.append(run)
            else:
                present.append((order, run))
        present.sort(key=lambda pair: pair[0], reverse=key.descending)
        out = [run for _, run in present] + missing
    return out


def _order(value: Any) -> ValueOrder | None:
    """Gives a comparable form of a value: numbers, then dates, then text; None when empty."""
    key = sort_key(value)
    return None if key[0] == MISSING_RANK else key
