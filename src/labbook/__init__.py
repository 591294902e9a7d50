"""labbook: Markdown lab books over MLflow, W&B, TensorBoard and local runs.

import labbook
src = labbook.open_source("runs")
runs = src.search(filter="params.lr > 0.05", order_by=["metrics.`val/acc` DESC"])

The names below are loaded on first use, so `import labbook.cli` (and a warm build that
finds every page in its cache) does not import NumPy and the sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    AmbiguousRun,
    ConfigError,
    LabbookError,
    NotInSnapshot,
    QueryError,
    ReportError,
    RunDataError,
    RunNotFound,
    SourceError,
    TrackerUnavailable,
)

if TYPE_CHECKING:
    from .api import open_source
    from .model import Run, RunSet, Series
    from .sources.base import Source

__version__ = "0.1.0"

_LAZY = {
    "Run": "model",
    "RunSet": "model",
    "Series": "model",
    "Source": "sources.base",
    "open_source": "api",
}

__all__ = [
    "AmbiguousRun",
    "ConfigError",
    "LabbookError",
    "NotInSnapshot",
    "QueryError",
    "ReportError",
    "Run",
    "RunDataError",
    "RunNotFound",
    "RunSet",
    "Series",
    "Source",
    "SourceError",
    "TrackerUnavailable",
    "__version__",
    "open_source",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'labbook' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
