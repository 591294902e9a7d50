"""Sources read runs from trackers; each tracker is one module behind `Source`."""

from .base import Source, open_source, source_schemes

__all__ = ["Source", "open_source", "source_schemes"]
