"""Sources read runs from trackers; each tracker is one module behind `Source`."""

from .base import Query, Source, open_source, source_schemes

__all__ = ["Query", "Source", "open_source", "source_schemes"]
