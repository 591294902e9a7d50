"""The `reference` block: a block kind's options, from its own declarations, and its example drawn live.

The lab book's Reference section is made of these, so what it says cannot drift from
what the code accepts: the options table is `Block.declared`, and the example is
`Block.example`, validated and drawn by the kind itself over the block's runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import yaml

from ..errors import ReportError
from ..model import RunSet
from .base import COMMON, Block, BlockContext, Option, RenderedBlock, opt_bool
from .registry import block_kinds, load_block


class ReferenceBlock(Block):
    """Documents one block kind: summary, options with types and defaults, a live example."""

    kind = "reference"
    summary = "A block kind's options and a live example, generated from the kind's declarations."
    example = "reference: line"
    declared = (
        Option("reference", "block kind", "the kind documented", required=True),
        Option("example", "true/false", "draw the kind's example over the block's runs", "true"),
        *COMMON,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        kind = spec.get("reference")
        kinds = block_kinds()
        if not isinstance(kind, str) or kind not in kinds:
            raise ctx.error(
                f"'reference' must name a block kind, not {kind!r}",
                "reference",
                hint="known kinds: " + ", ".join(sorted(kinds)),
            )
        self.documented = load_block(kind)
        self.show_example = opt_bool(spec, "example", ctx, default=True)

    def render(self, runs: RunSet) -> RenderedBlock:
        """Gives the options table, the example's YAML and the example drawn."""
        cls = self.documented
        example_html = ""
        figure = None
        warnings = []
        if self.show_example and cls.example and cls is not ReferenceBlock:
            spec = yaml.safe_load(cls.example)
            if not isinstance(spec, dict) or next(iter(spec), None) != cls.kind:
                raise ReportError(
                    f"the {cls.kind} kind's example is not a {cls.kind} block: {cls.example!r}",
                    file=self.ctx.report_file,
                    line=self.ctx.fence_line,
                    hint="please report this as a labbook bug",
                )
            inner_ctx = dataclasses.replace(
                self.ctx, id_suffix="-example", key_lines={}, fence_line=self.ctx.fence_line
            )
            example = cls(spec, inner_ctx)
            if example.runs_spec is not None and self.ctx.resolve_runs is not None:
                runs = self.ctx.resolve_runs(example.runs_spec)  # a kind naming its own runs
            drawn = example.check(runs) if self.checking else example.render(runs)
            example_html, figure, warnings = drawn.html, drawn.figure, drawn.warnings
        options = [
            {
                "name": o.name,
                "type": o.type,
                "default": "required" if o.required else (o.default or ""),
                # A YAML value shows as code; a description ("the run's name") as text.
                "default_code": bool(o.default) and " " not in (o.default or ""),
                "doc": _inline_code(o.doc),
                "common": o in COMMON or o.name == "height",
            }
            for o in cls.declared
        ]
        html = self.frame(
            "",
            "labbook-reference",
            "reference.html",
            kind=cls.kind,
            summary=cls.summary,
            options=options,
            example_yaml=cls.example,
            example_html=_trusted(example_html),
        )
        return RenderedBlock(html=html, figure=figure, warnings=warnings)


def _inline_code(text: str) -> Any:
    """Gives declaration text as HTML: escaped, with its `code` spans as <code>."""
    from markupsafe import Markup, escape

    parts = str(escape(text)).split("`")
    return Markup(
        "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
        if len(parts) % 2
        else str(escape(text))
    )


def _trusted(html: str) -> Any:
    from markupsafe import Markup

    return Markup(html)
