"""Gives whether a metric is maximised or minimised: the one place labbook decides a goal.

`runs.best(key)`, a table's `highlight: {KEY: best}` and anything else that ranks runs
ask `goal_of`. The order of authority:

1. the plugin's `goals:` option in mkdocs.yml, e.g. `goals: {rmse: min, "val/acc": max}`
   (a key may be written bare, `rmse`, or as a column, `metrics.rmse`);
2. else the name rule: the key is split on `/ . _ -` and spaces, and if any part, compared
   case-insensitively, is one of loss, error, err, rmse, mae, mse, mape, perplexity, ppl,
   wer, cer, latency, time or duration, the metric is minimised (`val/loss`,
   `test_RMSE`, `p99-latency`);
3. else it is maximised (`val/acc`, `f1`, `auc`).

A goal from the rule is a guess: labbook still uses it, but `labbook check` prints a
`note:` line saying what it assumed and how to state it, so a wrong guess is seen.
Notes never fail a check (not even `--strict`): the answer they lead to is the likely one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

GOAL_MODES = ("max", "min")
MINIMISED_WORDS = frozenset(
    {
        "loss",
        "error",
        "err",
        "rmse",
        "mae",
        "mse",
        "mape",
        "perplexity",
        "ppl",
        "wer",
        "cer",
        "latency",
        "time",
        "duration",
    }
)
_METRIC_PREFIXES = ("metrics.", "metric.", "summary.")
_PARTS = re.compile(r"[/._\-\s]+")


def metric_name(key: str) -> str:
    """Gives a metric key without a `metrics.` (or `metric.`, `summary.`) prefix."""
    key = key.strip()
    for prefix in _METRIC_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def goal_of(key: str, configured: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """Gives a metric's goal, "max" or "min", and whether the name rule guessed it."""
    configured = configured or {}
    bare = metric_name(key)
    for spelling in (key, bare, f"metrics.{bare}"):
        if spelling in configured:
            return configured[spelling], False
    parts = _PARTS.split(bare.lower())
    if any(part in MINIMISED_WORDS for part in parts):
        return "min", True
    return "max", True


@dataclass(frozen=True)
class Note:
    """Something labbook assumed, at a report's line: printed by `check`, never a failure."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: note: {self.message}"


@dataclass
class Goals:
    """One report's goals: the configured ones, and a note for each goal the rule guessed."""

    configured: Mapping[str, str] = field(default_factory=dict)
    file: str = ""
    # The report line prose being rendered starts at; a template's own line is added to it.
    base_line: int = 1
    notes: list[Note] = field(default_factory=list)
    _noted: set[str] = field(default_factory=set)

    def mode(self, key: str, used_as: str, line: int | None = None) -> str:
        """Gives the key's goal; a guessed one is noted once per key, at `line` or the template's."""
        mode, guessed = goal_of(key, self.configured)
        bare = metric_name(key)
        if guessed and bare not in self._noted:
            self._noted.add(bare)
            if line is None:
                line = self.base_line + _template_line() - 1
            word = "minimised" if mode == "min" else "maximised"
            self.notes.append(
                Note(
                    self.file,
                    line,
                    f"{used_as} assumed {bare} is {word} (name rule); "
                    f"set goals: {{{bare}: {mode}}} to say so",
                )
            )
        return mode


def _template_line() -> int:
    """Gives the line of the Jinja2 template being rendered (1 outside a template)."""
    frame = sys._getframe(1)
    line = 1
    while frame is not None:
        # A live frame holds the compiled module's line; Jinja2 maps it to the template's.
        template = frame.f_globals.get("__jinja_template__")
        if frame.f_code.co_filename == "<template>" and template is not None:
            line = int(template.get_corresponding_lineno(frame.f_lineno))
            break
        frame = frame.f_back  # type: ignore[assignment]
    return line
