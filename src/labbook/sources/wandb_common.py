"""What the two W&B sources share: mapping W&B's run fields (config, summary, tags) into a Run.

W&B keeps a run's hyperparameters in `config`, its final values in `summary` and its
labels in a flat list of `tags`; group, job type and notes are fields of their own.
labbook maps them the same way whether a run comes from a local run folder
(`wandb+offline:`) or from the public API (`wandb:`):

- params: the config, W&B's `{"value": …, "desc": …}` wrappers unwrapped, the internal
  `_wandb` key dropped, nested keys flattened with dots (`optimizer.lr`).
- summary: nested keys flattened with dots, as W&B's UI shows them (`val.acc`); the
  bookkeeping keys `_step`, `_timestamp`, `_runtime` and `_wandb` dropped, and media
  objects (images, histograms, tables: dicts with a `_type`) left out.
- tags: each W&B tag is a tag with an empty value (`tags.baseline = ''`); group, job
  type, notes, host and sweep become `wandb.group`, `wandb.job_type`, `wandb.notes`,
  `wandb.host` and `wandb.sweep`, the last three hidden from `table: auto`.
- status: W&B's run states, lower case (finished, failed, crashed, running, killed, …).
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import MissingExtra
from ..model import Scalar

INSTALL_HINT = "pip install 'labbook[wandb]'"

# Summary and history keys that place a row or time a run rather than hold a metric.
STEP_KEY = "_step"
TIME_KEY = "_timestamp"
RUNTIME_KEY = "_runtime"
INTERNAL_KEY = "_wandb"
BOOKKEEPING_KEYS = frozenset({STEP_KEY, TIME_KEY, RUNTIME_KEY, INTERNAL_KEY})
# Config keys W&B adds itself (config.yaml's format version, the SDK's own state).
CONFIG_INTERNAL_KEYS = frozenset({INTERNAL_KEY, "wandb_version"})

GROUP_TAG = "wandb.group"
JOB_TYPE_TAG = "wandb.job_type"
NOTES_TAG = "wandb.notes"
HOST_TAG = "wandb.host"
SWEEP_TAG = "wandb.sweep"
# Long or machine-made values a table does not need in `auto` mode.
HIDDEN_TAGS = frozenset({NOTES_TAG, HOST_TAG, SWEEP_TAG})

_WRAPPER_KEYS = frozenset({"value", "desc"})


def import_wandb_module(name: str, what: str) -> ModuleType:
    """Gives a wandb module, imported on first use; raises MissingExtra when wandb is absent."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise MissingExtra(
            f"{what} needs the wandb package, which is not installed", hint=INSTALL_HINT
        ) from exc


def to_scalar(value: Any) -> Scalar:
    """Gives a value as a Scalar: lists and other objects become their JSON text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def is_media(value: object) -> bool:
    """Tells whether a logged value is a W&B media object (image, histogram, table, …)."""
    return isinstance(value, Mapping) and "_type" in value


def flat_items(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Gives (dotted key, value) for every leaf of a nested mapping, media objects left out."""
    for key, value in mapping.items():
        full = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            if is_media(value):
                continue
            if value:
                yield from flat_items(value, full)
                continue
        yield full, value


def unwrap_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Gives a config with W&B's `{"value": …, "desc": …}` wrappers removed.

    config.yaml and the API's raw config wrap every top-level entry; a config whose
    entries are not all wrapped is taken as already plain, so a user's own
    `{"value": 3}` is never mistaken for a wrapper.
    """
    entries = {k: v for k, v in config.items() if k not in CONFIG_INTERNAL_KEYS}
    wrapped = bool(entries) and all(
        isinstance(v, Mapping) and "value" in v and set(v) <= _WRAPPER_KEYS
        for v in entries.values()
    )
    if not wrapped:
        return dict(entries)
    return {k: v["value"] for k, v in entries.items()}


def config_params(config: Mapping[str, Any]) -> dict[str, Scalar]:
    """Gives a run's params from its W&B config: unwrapped, `_wandb` dropped, keys dotted."""
    return {key: to_scalar(value) for key, value in flat_items(unwrap_config(config))}


def summary_values(summary: Mapping[str, Any]) -> dict[str, Scalar]:
    """Gives a run's summary with keys dotted, bookkeeping keys and media objects left out."""
    kept = {k: v for k, v in summary.items() if k not in BOOKKEEPING_KEYS}
    return {key: to_scalar(value) for key, value in flat_items(kept)}


def is_metric_key(key: str) -> bool:
    """Tells whether a history key is a metric (not `_step`, `_timestamp`, `_runtime`, `_wandb.*`)."""
    return key not in BOOKKEEPING_KEYS and not key.startswith(INTERNAL_KEY + ".")


# How W&B's JSON spells non-finite numbers when they arrive as strings.
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def metric_number(value: object) -> float | None:
    """Gives a logged history value as a float (booleans as 0/1), or None when it is no number.

    Text is not a number, except W&B's spellings of non-finite values ("NaN",
    "Infinity", "-Infinity"), which some of its JSON carries as strings.
    """
    if isinstance(value, float):
        return value
    if isinstance(value, bool | int):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, str):
        return _NON_FINITE.get(value)
    return None


def run_tags(
    labels: Iterable[str],
    *,
    group: str | None = None,
    job_type: str | None = None,
    notes: str | None = None,
    host: str | None = None,
    sweep: str | None = None,
) -> tuple[dict[str, str], frozenset[str]]:
    """Gives a run's tags and the ones `table: auto` hides, from W&B's labels and fields."""
    tags = {str(label): "" for label in labels}
    for key, value in (
        (GROUP_TAG, group),
        (JOB_TYPE_TAG, job_type),
        (NOTES_TAG, notes),
        (HOST_TAG, host),
        (SWEEP_TAG, sweep),
    ):
        if value:
            tags[key] = str(value)
    return tags, frozenset(k for k in tags if k in HIDDEN_TAGS)


def parse_time(value: object) -> datetime | None:
    """Gives an aware UTC datetime from ISO 8601 text (naive means UTC) or Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# A port nothing listens on: where the SDK is sent if it ever tries to reach a server.
CLOSED_PORT = "http://127.0.0.1:9"


def offline_sdk_environment(root: Path, **extra: str) -> dict[str, str]:
    """Gives an environment in which the wandb SDK writes runs under root and reaches no server.

    labbook itself never runs the SDK; its example-data script, tests and benchmarks do,
    and all three must stay offline the same way. `extra` adds or overrides variables.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WANDB_") and k.lower() not in ("http_proxy", "https_proxy")
    }
    for name in ("config", "cache", "data", "artifacts"):
        (root / f".{name}").mkdir(parents=True, exist_ok=True)
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=str(root),
        WANDB_CONFIG_DIR=str(root / ".config"),
        WANDB_CACHE_DIR=str(root / ".cache"),
        WANDB_DATA_DIR=str(root / ".data"),
        WANDB_ARTIFACT_DIR=str(root / ".artifacts"),
        WANDB_ERROR_REPORTING="false",
        WANDB_DISABLE_CODE="true",
        WANDB_BASE_URL=CLOSED_PORT,
        HTTP_PROXY=CLOSED_PORT,
        HTTPS_PROXY=CLOSED_PORT,
        NO_PROXY="",
    )
    env.update(extra)
    return env
