"""The common language of labbook: every source produces these, everything downstream reads them."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, overload

import numpy as np
import numpy.typing as npt

from .goals import Goals, goal_of
from .progress import advance, timed

if TYPE_CHECKING:
    import pandas as pd

Scalar = str | int | float | bool | None

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Series:
    """A metric's history: steps, times (Unix seconds, NaN when unknown) and values, in step order.

    NaN and infinite values are kept as logged; charts leave them out.
    """

    key: str
    steps: IntArray
    values: FloatArray
    times: FloatArray

    def __post_init__(self) -> None:
        if not (len(self.steps) == len(self.values) == len(self.times)):
            raise ValueError(f"series {self.key!r}: steps, values and times differ in length")

    @classmethod
    def from_points(
        cls,
        key: str,
        steps: Iterable[int],
        values: Iterable[float],
        times: Iterable[float | None] | None = None,
        *,
        sort: bool = True,
    ) -> Series:
        """Gives a Series from plain sequences, sorted by step (stable, so equal steps keep order)."""
        s = np.asarray(list(steps), dtype=np.int64)
        v = np.asarray(list(values), dtype=np.float64)
        if times is None:
            t = np.full(len(s), np.nan, dtype=np.float64)
        else:
            t = np.asarray([np.nan if x is None else x for x in times], dtype=np.float64)
        if sort and len(s) > 1 and np.any(s[1:] < s[:-1]):
            order = np.argsort(s, kind="stable")
            s, v, t = s[order], v[order], t[order]
        return cls(key, s, v, t)

    @classmethod
    def empty(cls, key: str) -> Series:
        return cls(
            key,
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.float64),
            np.empty(0, dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.steps)

    def finite(self) -> Series:
        """Gives only the points with finite values (what a chart draws)."""
        mask = np.isfinite(self.values)
        if mask.all():
            return self
        return Series(self.key, self.steps[mask], self.values[mask], self.times[mask])

    def last(self) -> float | None:
        return float(self.values[-1]) if len(self.values) else None


class SeriesReader(Protocol):
    """What a Run needs from its source to load metric histories lazily."""

    def read_series(self, run: Run, key: str) -> Series: ...

    def list_metric_keys(self, run: Run) -> list[str]: ...

    def read_many(
        self, runs: Sequence[Run], keys: Sequence[str] | None = None
    ) -> dict[str, dict[str, Series]]: ...


def load_series(runs: Iterable[Run], keys: Iterable[str]) -> None:
    """Reads the series of `keys` the runs do not hold yet: one `read_many` call per reader.

    What a chart calls before drawing, so a tracker that reads in bulk is asked once for
    all the runs and keys it draws instead of once per line. Runs of one reader that lack
    different keys (some were read before) are asked in one call per set of keys.
    """
    wanted = list(dict.fromkeys(keys))
    groups: dict[tuple[int, tuple[str, ...]], tuple[SeriesReader, list[Run]]] = {}
    for run in runs:
        missing = tuple(key for key in wanted if key not in run._series)
        if run.reader is not None and missing:
            groups.setdefault((id(run.reader), missing), (run.reader, []))[1].append(run)
    for (_, missing), (reader, members) in groups.items():
        found = reader.read_many(members, list(missing))
        for run in members:
            for series in found.get(run.id, {}).values():
                run.set_series(series)


@dataclass(eq=False)
class Run:
    """One tracked run, whatever tracker it came from."""

    id: str
    source: str
    name: str = ""
    experiment: str | None = None
    status: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    params: dict[str, Scalar] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Scalar] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)
    git_commit: str | None = None
    url: str | None = None
    # Tags a table's `auto` mode leaves out (a tracker's system tags).
    hidden_tags: frozenset[str] = frozenset()
    reader: SeriesReader | None = field(default=None, repr=False)
    _metric_keys: list[str] | None = field(default=None, repr=False)
    _series: dict[str, Series] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            self.name = self.id

    @property
    def ref(self) -> str:
        """Gives the fully qualified reference, `SOURCE:ID`."""
        return f"{self.source}:{self.id}"

    @property
    def duration(self) -> float | None:
        """Gives the run's wall time in seconds, when both ends are known."""
        if self.start_time is None or self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()

    def metric_keys(self) -> list[str]:
        """Gives every metric key the run logged (history or summary), sorted."""
        if self._metric_keys is None:
            keys: set[str] = set()
            if self.reader is not None:
                keys.update(self.reader.list_metric_keys(self))
            keys.update(k for k, v in self.summary.items() if is_number(v))
            # A key asked of the run and found empty is no key it logged.
            keys.update(k for k, series in self._series.items() if len(series))
            self._metric_keys = sorted(keys)
        return self._metric_keys

    def series(self, key: str) -> Series:
        """Gives every logged point of `key` in step order (empty if the run never logged it)."""
        if key not in self._series:
            if self.reader is None:
                self._series[key] = Series.empty(key)
            else:
                with timed("source", self.source):
                    self._series[key] = self.reader.read_series(self, key)
                advance("reading series")
        return self._series[key]

    def set_series(self, series: Series) -> None:
        """Keeps an already-read series so it is not read again."""
        self._series[series.key] = series
        if self._metric_keys is not None and len(series) and series.key not in self._metric_keys:
            self._metric_keys = sorted([*self._metric_keys, series.key])

    def value(self, column: str) -> Any:
        """Gives a column's value: name, id, params.K, tags.K, metrics.K or a bare metric key."""
        return column_value(self, column)


def is_number(v: object) -> bool:
    """Tells whether a value is a real int or float (booleans are not numbers)."""
    return isinstance(v, int | float) and not isinstance(v, bool)


# Decimal or exponent notation: "3", "-0.1", ".5", "1e-3". Not "nan", "inf" or "1_000".
NUMBER_TEXT = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def as_number(value: object) -> float | None:
    """Gives the number a value reads as, or None.

    Ints and floats (not booleans) are numbers, infinities included but not NaN, which has
    no order. Text is a number when it is written as one ("0.1", "1e-3"; MLflow keeps every
    param as text), but not "nan", "inf" or a spelling too large for a float.
    """
    if is_number(value):
        number = float(value)  # type: ignore[arg-type]
        return None if math.isnan(number) else number
    if isinstance(value, str):
        text = value.strip()
        if NUMBER_TEXT.fullmatch(text):
            number = float(text)
            return number if math.isfinite(number) else None
    return None


ValueOrder = tuple[int, float, str]
# The rank sort_key gives a value that has no order: None or NaN.
MISSING_RANK = 3


def sort_key(value: object) -> ValueOrder:
    """Gives an order for values: numbers by size (numeric text too), dates, text, then missing.

    0.1, "0.1" and "1e-1" are equal here, "2" comes before "10", and None and NaN go last.
    """
    number = as_number(value)
    if number is not None:
        return (0, number, "")
    if value is None or is_number(value):  # NaN is the only number as_number refuses
        return (MISSING_RANK, 0.0, "")
    if isinstance(value, datetime):
        return (1, value.timestamp(), "")
    return (2, 0.0, str(value))


ATTRIBUTES = ("id", "name", "experiment", "status", "start_time", "end_time", "duration", "source")


def column_value(run: Run, column: str) -> Any:
    """Gives the value a column names for a run, or None when the run has none."""
    if column in ATTRIBUTES:
        return getattr(run, column)
    if column in ("run_id", "attributes.run_id"):
        return run.id
    if column in ("run_name", "attributes.run_name"):
        return run.name
    prefix, _, key = column.partition(".")
    if prefix == "attributes" and key in ATTRIBUTES:
        return getattr(run, key)
    if prefix in ("params", "param"):
        return run.params.get(key)
    if prefix in ("tags", "tag"):
        return run.tags.get(key)
    if prefix in ("metrics", "metric", "summary"):
        return run.summary.get(key)
    return run.summary.get(column)


def known_keys_hint(key: str, known: list[str], label: str, shown: int = 12) -> str:
    """Gives a hint naming the keys that exist, closest to `key` first."""
    if not known:
        return f"no {label.split()[0]} at all: check the `runs` option"
    near = difflib.get_close_matches(key.strip(), known, n=3, cutoff=0.5)
    rest = [k for k in known if k not in near]
    listed = [*near, *rest][:shown]
    more = f" and {len(known) - shown} more" if len(known) > shown else ""
    closest = f"did you mean {near[0]!r}? " if near else ""
    return f"{closest}{label}: {', '.join(listed)}{more}"


def known_columns(runs: Iterable[Run]) -> list[str]:
    """Gives every column these runs have a value for: attributes, params.K, tags.K, metrics.K."""
    runs = list(runs)
    params = sorted({k for r in runs for k in r.params})
    tags = sorted({k for r in runs for k in r.tags if k not in r.hidden_tags})
    metrics = sorted({k for r in runs for k in r.summary})
    return [
        "name",
        "id",
        *[f"params.{k}" for k in params],
        *[f"tags.{k}" for k in tags],
        *[f"metrics.{k}" for k in metrics],
    ]


def missing_key_hint(key: str, runs: Iterable[Run]) -> str:
    """Gives a hint for a key no run has, naming the columns that exist, closest first.

    A bare name means a metric, so it is matched against the bare metric keys; a name
    that is a param, not a metric, is told to say `params.NAME`.
    """
    runs = list(runs)
    known = known_columns(runs)
    if "." in key and key.partition(".")[0] in (
        "params",
        "tags",
        "metrics",
        "param",
        "tag",
        "metric",
    ):
        return known_keys_hint(key, known, "columns these runs have")
    if any(key in r.params for r in runs):
        return f"{key!r} is a param, not a metric: write params.{key}"
    metrics = [k.removeprefix("metrics.") for k in known if k.startswith("metrics.")]
    others = [k for k in known if not k.startswith("metrics.")]
    return known_keys_hint(key, metrics + others, "columns these runs have")


class RunSet:
    """An ordered set of runs, as a query or a list of references gives them."""

    def __init__(
        self, runs: Iterable[Run] = (), name: str | None = None, goals: Goals | None = None
    ) -> None:
        self._runs: list[Run] = []
        seen: set[str] = set()
        for run in runs:
            if run.ref not in seen:
                seen.add(run.ref)
                self._runs.append(run)
        self.name = name
        # The report's metric goals (`goals:` in mkdocs.yml); None: the name rule alone.
        self.goals = goals

    def __iter__(self) -> Iterator[Run]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    def __bool__(self) -> bool:
        return bool(self._runs)

    @overload
    def __getitem__(self, index: int) -> Run: ...
    @overload
    def __getitem__(self, index: slice) -> RunSet: ...
    def __getitem__(self, index: int | slice) -> Run | RunSet:
        if isinstance(index, slice):
            return RunSet(self._runs[index], goals=self.goals)
        return self._runs[index]

    def __add__(self, other: RunSet) -> RunSet:
        return RunSet([*self._runs, *other._runs], goals=self.goals or other.goals)

    def __repr__(self) -> str:
        return f"RunSet({[r.ref for r in self._runs]!r})"

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self._runs]

    def filter(self, predicate: Callable[[Run], bool]) -> RunSet:
        return RunSet([r for r in self._runs if predicate(r)], self.name, self.goals)

    def values(self, key: str) -> list[Any]:
        """Gives each run's value of a column (see `column_value`), None where it has none.

        A key that no run of a non-empty set has is a QueryError naming the keys that exist:
        a misspelt `rsme` must not read as "no values".
        """
        found = [column_value(r, key) for r in self._runs]
        if self._runs and all(v is None for v in found):
            self._unknown(key)
        return found

    def _unknown(self, key: str) -> None:
        from .errors import QueryError

        what = f"run set {self.name!r}" if self.name else "these runs"
        raise QueryError(f"no run of {what} has {key!r}", hint=missing_key_hint(key, self._runs))

    def _numbers(self, key: str) -> list[float]:
        return [float(v) for v in self.values(key) if is_number(v) and math.isfinite(float(v))]

    def best(self, key: str, mode: str | None = None) -> Run | None:
        """Gives the run with the best finite value: highest (mode="max") or lowest ("min").

        Without a mode the metric's goal decides (`labbook.goals`: the `goals:` option,
        else the name rule, so `best("val/loss")` is the lowest loss).
        """
        found = self.values(key)  # a misspelt key fails before any goal is assumed
        if mode is None:
            if self.goals is not None:
                mode = self.goals.mode(key, f'best("{key}")')
            else:
                mode = goal_of(key)[0]
        if mode not in ("max", "min"):
            raise ValueError(f"best(): mode must be 'max' or 'min', not {mode!r}")
        scored = [
            (float(v), r)
            for r, v in zip(self._runs, found, strict=True)
            if is_number(v) and math.isfinite(float(v))
        ]
        if not scored:
            return None
        pick = max if mode == "max" else min
        return pick(scored, key=lambda pair: pair[0])[1]

    def min(self, key: str) -> float | None:
        """Gives the lowest finite value of a column over the runs (None: no number)."""
        nums = self._numbers(key)
        return min(nums) if nums else None

    def max(self, key: str) -> float | None:
        """Gives the highest finite value of a column over the runs (None: no number)."""
        nums = self._numbers(key)
        return max(nums) if nums else None

    def mean(self, key: str) -> float | None:
        nums = self._numbers(key)
        return float(np.mean(nums)) if nums else None

    def std(self, key: str) -> float | None:
        """Gives the sample standard deviation (ddof=1), as error bars across seeds use."""
        nums = self._numbers(key)
        if len(nums) < 2:
            return 0.0 if nums else None
        return float(np.std(nums, ddof=1))

    def to_pandas(self) -> pd.DataFrame:
        """Gives one row per run: id, name, experiment, status, params.*, tags.*, metrics.*."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from .errors import MissingExtra

            raise MissingExtra(
                "to_pandas() needs pandas", hint="install it with: pip install 'labbook[pandas]'"
            ) from exc
        rows: list[dict[str, Any]] = []
        for r in self._runs:
            row: dict[str, Any] = {
                "id": r.id,
                "source": r.source,
                "name": r.name,
                "experiment": r.experiment,
                "status": r.status,
                "start_time": r.start_time,
                "end_time": r.end_time,
            }
            row.update({f"params.{k}": v for k, v in r.params.items()})
            row.update({f"tags.{k}": v for k, v in r.tags.items()})
            row.update({f"metrics.{k}": v for k, v in r.summary.items()})
            rows.append(row)
        return pd.DataFrame(rows)


def format_seconds(value: float) -> str:
    """Gives seconds as a reader reads a run's length: `42s`, `5m 03s`, `1h 02m`, `2d 03h`."""
    total = round(value)
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {seconds:02d}s"
    return f"{sign}{seconds}s"


def flatten(mapping: Mapping[str, Any], sep: str = ".", prefix: str = "") -> dict[str, Any]:
    """Gives a nested mapping flattened: {"a": {"b": 1}} -> {"a.b": 1}."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        full = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, sep, full))
        else:
            out[full] = value
    return out
