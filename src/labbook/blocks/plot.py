"""Plotly pieces the one-value-per-run charts share: axes, hover text, categories."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..escaping import plotly_text
from ..model import as_number, is_number
from .base import display_value, human_label


def axis(title: str, *, log: bool = False, kind: str | None = None) -> dict[str, Any]:
    """Gives a Plotly axis titled as readers say the column, log axes labelled in full."""
    out: dict[str, Any] = {
        "title": {"text": plotly_text(human_label(title) if title else "")},
        "type": kind or ("log" if log else "linear"),
    }
    if out["type"] == "log":
        # Between powers of ten Plotly writes a bare digit ("2" for 0.2); write each in full,
        # at 1, 2 and 5 only, so that labels a decade apart do not run together.
        out["minorloglabels"] = "complete"
        out["dtick"] = "D2"
    return out


def layout(height: int, **parts: Any) -> dict[str, Any]:
    """Gives the common layout of a labbook chart, `parts` merged in."""
    return {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 20, "b": 50},
        "hovermode": "closest",
        "uirevision": "labbook",
        **parts,
    }


def hover_text(value: Any) -> str:
    """Gives a run value as hover text: formatted as tables show it, inert in Plotly."""
    return plotly_text(display_value(value))


def numbers(values: Sequence[Any]) -> list[float | None]:
    """Gives each value as a finite float, None where it is not a number (or not finite)."""
    out: list[float | None] = []
    for value in values:
        number = as_number(value) if not isinstance(value, bool) else None
        out.append(number if number is not None and math.isfinite(number) else None)
    return out


def is_numeric(values: Sequence[Any]) -> bool:
    """Gives whether every present value reads as a number (then the axis is linear)."""
    present = [v for v in values if v is not None and v != ""]
    return bool(present) and all(
        (is_number(v) or as_number(v) is not None) and not isinstance(v, bool) for v in present
    )


def category(value: Any) -> str:
    """Gives a value as a category label (text axes and legends), inert in Plotly."""
    return plotly_text(display_value(value))
