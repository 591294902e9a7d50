"""What the one-value-per-run block tests share: a sweep of runs and a renderer."""

from __future__ import annotations

import json
import re
from typing import Any

from labbook.blocks.base import Block, BlockContext, RenderedBlock
from labbook.blocks.registry import load_block
from labbook.model import Run, RunSet

KEY_LINES = {
    "scatter": 3,
    "bar": 3,
    "histogram": 3,
    "parallel": 3,
    "importance": 3,
    "color": 4,
    "size": 5,
    "group_by": 4,
    "sort": 5,
    "bins": 5,
    "log_x": 6,
    "log_y": 7,
    "trendline": 8,
    "params": 4,
    "method": 5,
    "min_runs": 6,
}


def ctx(index: int = 0) -> BlockContext:
    return BlockContext(
        report_file="reports/r.md", block_index=index, key_lines=KEY_LINES, fence_line=2
    )


def sweep(n: int = 12) -> list[Run]:
    """Gives runs over lr x seed with an accuracy that depends on lr alone (plus seed noise)."""
    runs = []
    lrs = [0.001, 0.01, 0.1]
    for i in range(n):
        lr = lrs[i % 3]
        seed = i // 3
        acc = {0.001: 0.70, 0.01: 0.80, 0.1: 0.75}[lr] + 0.01 * seed
        runs.append(
            Run(
                id=f"run{i:02d}",
                source="local",
                name=f"lr{lr}-s{seed}",
                params={"lr": lr, "seed": seed, "opt": "adam" if i % 2 else "sgd"},
                summary={"val/acc": round(acc, 4), "val/loss": round(2 - acc * 2, 4)},
            )
        )
    return runs


def figure_of(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html)
    assert match is not None
    figure: dict[str, Any] = json.loads(match.group(2))
    return figure


def render(
    kind: str, spec: dict[str, Any], runs: list[Run]
) -> tuple[dict[str, Any], RenderedBlock]:
    cls: type[Block] = load_block(kind)
    out = cls(spec, ctx()).render(RunSet(runs))
    figure = figure_of(out.html)
    assert out.figure is not None and json.loads(json.dumps(out.figure)) == figure
    return figure, out
