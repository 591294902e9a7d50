"""Gives a build's problems grouped: each printed once, with every place it broke.

A tracker that did not answer breaks every report that uses it. Printing it once per
report (or once per block) buries the one thing the user must fix, so errors that
follow from another (`LabbookError.cause`) are folded under it, and the same problem
met twice (two builds of one source's problems, a warning that is also an error's
cause) is listed once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .errors import LabbookError


@dataclass
class Problem:
    """One thing to fix: the error itself, and the places (FILE:LINE) it broke."""

    error: LabbookError
    is_error: bool
    places: list[str] = field(default_factory=list)

    def lines(self, *, label_errors: bool = True) -> list[str]:
        """Gives the problem as printed: `error: …` and, when it broke others, where.

        Without `label_errors` an error prints as a compiler's does, `FILE:LINE: message`.
        """
        label = "error: " if self.is_error else "warning: "
        if self.is_error and not label_errors:
            label = ""
        out = [f"{label}{self.error}"]
        own = self.error.where
        places = [p for p in dict.fromkeys(self.places) if p and p != own]
        if places:
            shown = ", ".join(places[:10])
            more = f" and {len(places) - 10} more" if len(places) > 10 else ""
            out.append(f"  it broke: {shown}{more}")
        return out


def group_problems(
    errors: Iterable[LabbookError], warnings: Iterable[LabbookError] = ()
) -> list[Problem]:
    """Gives each distinct problem once, errors first; an error's cause takes its place."""
    grouped: dict[str, Problem] = {}
    for is_error, items in ((True, errors), (False, warnings)):
        for error in items:
            root = error.root
            key = str(root)
            problem = grouped.get(key)
            if problem is None:
                problem = grouped[key] = Problem(root, is_error)
            if root is not error:
                problem.places.append(error.where)
    ordered = sorted(grouped.values(), key=lambda p: not p.is_error)
    return ordered
