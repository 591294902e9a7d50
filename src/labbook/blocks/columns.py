"""Columns of a run as blocks name them: `name`, `params.K`, `metrics.K`, a bare metric key.

Every block that reads one value per run (table, scatter, bar, histogram, parallel,
importance) spells, checks and reads its columns here, so a misspelt column is the same
error, naming the columns that exist, whichever block it is in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import ATTRIBUTES, Run, RunSet, column_value, missing_key_hint
from .base import BlockContext

_PREFIXES = {
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
    "metrics": "metrics",
    "metric": "metrics",
    "summary": "metrics",
}
_ALIASES = {
    "run_id": "id",
    "attributes.run_id": "id",
    "run_name": "name",
    "attributes.run_name": "name",
}


def canonical_column(column: str) -> str:
    """Gives the one spelling of a column: `name`, `params.K`, `tags.K`, `metrics.K`, …

    A bare metric key (`val/acc`) is `metrics.val/acc`; `param.K` is `params.K`.
    """
    column = column.strip()
    if column in _ALIASES:
        return _ALIASES[column]
    if column in ATTRIBUTES:
        return column
    prefix, dot, rest = column.partition(".")
    if prefix == "attributes" and rest in ATTRIBUTES:
        return rest
    if dot and prefix in _PREFIXES:
        return f"{_PREFIXES[prefix]}.{rest}"
    return f"metrics.{column}"


def check_column(value: Any, option: str, ctx: BlockContext) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ctx.error(
            f"{option!r}: a column must be text such as params.lr, not {value!r}",
            option,
            hint="columns: name, id, experiment, status, start_time, duration, "
            "params.K, tags.K, metrics.K or a metric key",
        )
    prefix, dot, rest = value.strip().partition(".")
    if dot and prefix in _PREFIXES and not rest:
        raise ctx.error(
            f"{option!r}: column {value!r} names no key after {prefix!r}",
            option,
            hint=f"write e.g. {prefix}.lr",
        )
    return value.strip()


def column_option(spec: Mapping[str, Any], key: str, ctx: BlockContext) -> str | None:
    """Gives an option naming one column, canonical (`val/acc` is `metrics.val/acc`), or None."""
    if spec.get(key) is None:
        return None
    return canonical_column(check_column(spec[key], key, ctx))


def run_values(runs: RunSet, column: str, ctx: BlockContext, option: str) -> list[Any]:
    """Gives each run's value of a column; a column no run has is an error at `option`.

    A column some runs lack is normal (None for them); one that none has is a misspelling,
    which must not draw as an empty chart.
    """
    values = [column_value(r, column) for r in runs]
    if runs and column not in ATTRIBUTES and all(v is None for v in values):
        bare = column.removeprefix("metrics.")
        shown = bare if column.startswith("metrics.") else column
        raise ctx.error(
            f"{option!r}: no run of this block has {shown!r}",
            option,
            hint=missing_key_hint(shown, list(runs)),
        )
    return values


def numeric_values(
    runs: RunSet, column: str, ctx: BlockContext, option: str, hint: str
) -> list[float | None]:
    """Gives each run's value of a column as a finite number (None where it has none).

    A column no run has, or one holding text, is an error at `option`.
    """
    from .base import human_label
    from .plot import is_numeric, numbers

    raw = run_values(runs, column, ctx, option)
    if not is_numeric(raw):
        raise ctx.error(
            f"{option!r}: {human_label(column)!r} is not a number for every run", option, hint=hint
        )
    return numbers(raw)


def grouped(
    runs: RunSet, column: str, values: list[float | None], ctx: BlockContext
) -> list[tuple[str, list[float]]]:
    """Gives ("column=value", the values of its runs) per value of `column`, in value order.

    Runs without a value of their own are left out; runs without the group column form
    a "(none)" group. A group column no run has is an error at `group_by`.
    """
    from ..model import sort_key
    from .base import human_label
    from .plot import category

    by = run_values(runs, column, ctx, "group_by")
    found: dict[tuple[Any, ...], tuple[Any, list[float]]] = {}
    for group, value in zip(by, values, strict=True):
        if value is not None:
            found.setdefault(sort_key(group), (group, []))[1].append(value)
    name = human_label(column)
    return [
        (f"{name}={'(none)' if group is None else category(group)}", members)
        for _, (group, members) in sorted(found.items())
    ]


def metric_keys_of(*columns: str | None) -> list[str]:
    """Gives the summary metrics among columns (`metrics.K` -> K), for `labbook check`."""
    return [c.removeprefix("metrics.") for c in columns if c and c.startswith("metrics.")]


def runs_without(runs: RunSet, values: list[Any]) -> list[Run]:
    """Gives the runs whose value is missing."""
    return [r for r, v in zip(runs, values, strict=True) if v is None]


def differs(values: list[Any]) -> bool:
    """Gives whether the values are not all equal (1 and 1.0 count as equal)."""
    seen: list[Any] = []
    for value in values:
        if not any(same(value, other) for other in seen):
            seen.append(value)
    return len(seen) > 1


def same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    try:
        return bool(a == b)
    except Exception:  # pragma: no cover - exotic values
        return repr(a) == repr(b)
