"""A third-party block kind: `stat`, one number summarised over the block's runs, as a card.

It uses only labbook's public block interface (Block, Option, BlockContext) and is
registered through the `labbook.blocks` entry point; labbook's code does not name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labbook.blocks.base import COMMON, Block, BlockContext, Option, RenderedBlock, opt_choice
from labbook.model import RunSet

AGGREGATES = ("mean", "min", "max", "best")


class StatBlock(Block):
    """One metric aggregated over runs: `stat: val/acc`, `agg: mean|min|max|best`."""

    kind = "stat"
    summary = "One number over the runs, as a card."
    example = "stat: val/acc\nagg: mean"
    declared = (
        Option("stat", "metric key", "the summary metric aggregated", required=True),
        Option("agg", "mean, min, max or best", "how the runs' values combine", "mean"),
        *COMMON,
    )

    def __init__(self, spec: Mapping[str, Any], ctx: BlockContext) -> None:
        super().__init__(spec, ctx)
        key = spec.get("stat")
        if not isinstance(key, str) or not key.strip():
            raise ctx.error(f"'stat' must be a metric key, not {key!r}", "stat")
        self.key = key
        self.agg = opt_choice(spec, "agg", ctx, AGGREGATES, default="mean")

    def metric_keys(self) -> list[str]:
        return [self.key]

    def render(self, runs: RunSet) -> RenderedBlock:
        column = f"metrics.{self.key}"
        try:
            if self.agg == "best":
                best = runs.best(column)
                value = None if best is None else best.summary.get(self.key)
            else:
                value = getattr(runs, self.agg)(column)
        except Exception as exc:  # a misspelt key: labbook's own error, at the block's line
            raise self.ctx.error(str(exc), "stat") from exc
        shown = "—" if value is None else format(value, ".4g")
        body = (
            f'<p class="csvdemo-stat"><span class="csvdemo-stat-value">{shown}</span> '
            f"{self.agg} of {len(runs)} runs</p>"
        )
        return RenderedBlock(html=self.frame(body, "csvdemo-stat-block"))
