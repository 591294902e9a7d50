"""Gives the block kinds by the first key that names them: built-in and from entry points.

Third-party kinds register in the `labbook.blocks` entry-point group, as sources do in
`labbook.sources`; the built-in kinds are listed the same way, so this module imports no
kind and no kind imports it back.
"""

from __future__ import annotations

from ..errors import ReportError
from ..registry import load_class, registered
from .base import Block

_BUILTIN: dict[str, str] = {
    "line": "labbook.blocks.line:LineBlock",
    "table": "labbook.blocks.table:TableBlock",
    "reference": "labbook.blocks.reference:ReferenceBlock",
    "scatter": "labbook.blocks.scatter:ScatterBlock",
    "bar": "labbook.blocks.bar:BarBlock",
    "histogram": "labbook.blocks.histogram:HistogramBlock",
    "parallel": "labbook.blocks.parallel:ParallelBlock",
    "importance": "labbook.blocks.importance:ImportanceBlock",
    "compare": "labbook.blocks.compare:CompareBlock",
    "media": "labbook.blocks.media:MediaBlock",
}


def block_kinds() -> dict[str, str]:
    """Gives kind -> 'module:Class' for every block kind."""
    return registered("labbook.blocks", _BUILTIN)


def load_block(kind: str) -> type[Block]:
    """Gives the Block class of a kind that `block_kinds` lists."""
    cls: type[Block] = load_class(block_kinds()[kind], Block, "block kind", ReportError)
    return cls
