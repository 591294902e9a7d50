"""Runs as plain records, for what labbook keeps on disk: snapshots and the run cache.

A record is a JSON-able mapping of everything a `Run` holds but its series and reader;
`run_from_record` gives the run back, equal field for field. Series are written apart:
as CSV text for snapshots (diff-friendly, exact: floats in their shortest round-trip
form) and as NumPy arrays for the cache (fast to load).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from .model import Run, Series


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _plain(value: Any) -> Any:
    """Gives a value JSON can hold exactly: NaN and infinities as text markers."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    return value


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"float"}:
        return float(value["float"])
    return value


def run_record(run: Run, metric_keys: Iterable[str] | None = None) -> dict[str, Any]:
    """Gives the run's fields as a JSON-able mapping (with its metric keys, when given)."""
    record: dict[str, Any] = {
        "id": run.id,
        "name": run.name,
        "experiment": run.experiment,
        "status": run.status,
        "start_time": _time(run.start_time),
        "end_time": _time(run.end_time),
        "params": {k: _plain(v) for k, v in run.params.items()},
        "tags": dict(run.tags),
        "summary": {k: _plain(v) for k, v in run.summary.items()},
        "artifacts": list(run.artifacts),
        "git_commit": run.git_commit,
        "url": run.url,
        "hidden_tags": sorted(run.hidden_tags),
    }
    if metric_keys is not None:
        record["metric_keys"] = sorted(metric_keys)
    return record


def run_from_record(record: Mapping[str, Any], source: str) -> Run:
    """Gives the Run a record holds, as read from `source` (its metric keys preset, if kept)."""
    run = Run(
        id=str(record["id"]),
        source=source,
        name=str(record.get("name") or record["id"]),
        experiment=record.get("experiment"),
        status=record.get("status"),
        start_time=_parse_time(record.get("start_time")),
        end_time=_parse_time(record.get("end_time")),
        params={k: _unplain(v) for k, v in (record.get("params") or {}).items()},
        tags=dict(record.get("tags") or {}),
        summary={k: _unplain(v) for k, v in (record.get("summary") or {}).items()},
        artifacts=list(record.get("artifacts") or []),
        git_commit=record.get("git_commit"),
        url=record.get("url"),
        hidden_tags=frozenset(record.get("hidden_tags") or ()),
    )
    if "metric_keys" in record:
        run._metric_keys = list(record["metric_keys"])
    return run


def dumps(data: Any) -> str:
    """Gives stable JSON: sorted keys, two-space indent, a final newline (same data, same bytes)."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}")


def file_name(run_id: str) -> str:
    """Gives a file name for a run ID: the ID itself when it is a safe name, else quoted + hash."""
    if _SAFE_NAME.fullmatch(run_id) and not run_id.endswith("."):
        return run_id
    short = quote(run_id, safe="")[:60]
    return f"{short}~{hashlib.sha256(run_id.encode()).hexdigest()[:12]}"


# -- series as CSV (snapshots) -------------------------------------------------------------

CSV_HEADER = ("key", "step", "value", "time")


def series_csv(series: Iterable[Series]) -> str:
    """Gives the series as CSV rows (key, step, value, time), sorted by key then step."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    # repr: the shortest text that reads back as the same float ("nan" and "inf" too).
    for item in sorted(series, key=lambda s: s.key):
        for step, value, time in zip(
            item.steps.tolist(), item.values.tolist(), item.times.tolist(), strict=True
        ):
            writer.writerow((item.key, step, repr(value), "" if math.isnan(time) else repr(time)))
    return out.getvalue()


def read_series_csv(text: str, where: Path) -> dict[str, Series]:
    """Gives key -> Series from `series_csv` text; a malformed row raises ValueError naming its line."""
    rows: dict[str, tuple[list[int], list[float], list[float]]] = {}
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return {}
    if tuple(header) != CSV_HEADER:
        raise ValueError(f"{where}: line 1 must be {','.join(CSV_HEADER)}")
    for row in reader:
        try:
            key, step, value, time = row
            found = rows.setdefault(key, ([], [], []))
            found[0].append(int(step))
            found[1].append(float(value))
            found[2].append(float(time) if time else math.nan)
        except ValueError as exc:
            raise ValueError(f"{where}: line {reader.line_num}: {exc}") from None
    return {
        key: Series(
            key,
            np.asarray(steps, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            np.asarray(times, dtype=np.float64),
        )
        for key, (steps, values, times) in rows.items()
    }


# -- series as arrays (the run cache) ------------------------------------------------------


def save_series_arrays(path: Path, series: Mapping[str, Series]) -> list[list[Any]]:
    """Writes the series into one .npy file; gives [key, length] per series, in file order.

    The file is one int64 array of three rows: the steps, then the bits of the values and
    of the times, so a run's series load in one read (an .npz costs a zip entry per array).
    """
    keys = sorted(series)
    layout = [[key, len(series[key])] for key in keys]
    table = np.empty((3, sum(len(series[k]) for k in keys)), dtype=np.int64)
    start = 0
    for key in keys:
        got = series[key]
        end = start + len(got)
        table[0, start:end] = got.steps
        table[1, start:end] = np.asarray(got.values, dtype=np.float64).view(np.int64)
        table[2, start:end] = np.asarray(got.times, dtype=np.float64).view(np.int64)
        start = end
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.save(handle, table, allow_pickle=False)
    return layout


def load_series_arrays(path: Path, layout: Iterable[list[Any]]) -> dict[str, Series]:
    """Gives key -> Series from a file `save_series_arrays` wrote."""
    table = np.load(path, allow_pickle=False)
    if table.ndim != 2 or table.shape[0] != 3 or table.dtype != np.int64:
        raise ValueError(f"{path}: not a table of series")
    steps, values, times = table[0], table[1].view(np.float64), table[2].view(np.float64)
    out: dict[str, Series] = {}
    start = 0
    for key, length in layout:
        end = start + int(length)
        out[str(key)] = Series(str(key), steps[start:end], values[start:end], times[start:end])
        start = end
    if start != len(steps):
        raise ValueError(f"{path}: holds {len(steps)} points, its index says {start}")
    return out
