"""Gives the extension points' entries: built-in ones and those packages register.

Sources (`labbook.sources`, keyed by URI scheme) and block kinds (`labbook.blocks`, keyed
by a block's first key) are both named as `module:Class` and loaded only when used, so
a registry never imports what it lists, and a broken third-party entry costs only the
reports that use it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from .errors import LabbookError


def registered(group: str, builtin: Mapping[str, str]) -> dict[str, str]:
    """Gives name -> 'module:Class' for the built-in entries and the group's entry points.

    A package cannot replace a built-in entry (`mlflow:` stays labbook's reader), so a
    name that is built in is answered without scanning what is installed.
    """
    return {**_entry_points(group), **builtin}


@functools.cache
def _entry_points(group: str) -> dict[str, str]:
    # Scanning the installed distributions costs tens of milliseconds (30 of a script's
    # 350 reading a store): what is installed does not change while a process runs.
    from importlib.metadata import entry_points

    return {point.name: point.value for point in entry_points(group=group)}


def load_class(target: str, base: type, what: str, error: type[LabbookError]) -> Any:
    """Gives the class `target` ('module:Class') names; it must be a subclass of `base`.

    `base` may be abstract (Source, Block), which a `type[T]` parameter would refuse.
    """
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise error(
            f"the {what} {target} cannot be loaded: {exc}",
            hint="reinstall the package that provides it",
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise error(f"{target} is not a labbook {base.__name__}")
    return cls
