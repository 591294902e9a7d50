"""One module per block kind; `BLOCK_KINDS` maps a block's first key to its class."""

from .base import Block, BlockContext, RenderedBlock, block_kinds

__all__ = ["Block", "BlockContext", "RenderedBlock", "block_kinds"]
