"""labbook: Markdown lab books over MLflow, W&B, TensorBoard and local runs.

import labbook
src = labbook.open_source("runs")
runs = src.search(filter="params.lr > 0.05", order_by=["metrics.`val/acc` DESC"])
"""

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
from .model import Run, RunSet, Series
from .sources.base import Source, open_source

__version__ = "0.1.0"

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
