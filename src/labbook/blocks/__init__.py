"""One module per block kind; `block_kinds` maps a block's first key to where its class is."""

from .base import Block, BlockContext, RenderedBlock
from .registry import block_kinds, load_block

__all__ = ["Block", "BlockContext", "RenderedBlock", "block_kinds", "load_block"]
