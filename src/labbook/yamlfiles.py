"""Gives YAML read safely but tolerantly: custom tags (!ENV, !!python/name:…) become plain data.

mkdocs.yml and Lightning's hparams.yaml both carry tags that SafeLoader refuses; labbook
only needs their data, never the Python objects they name.
"""

from __future__ import annotations

from typing import Any

import yaml


class TolerantLoader(yaml.SafeLoader):
    """A SafeLoader that reads any custom tag as the plain scalar, list or mapping it wraps."""


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return None


TolerantLoader.add_multi_constructor("!", _plain)
TolerantLoader.add_multi_constructor("tag:yaml.org,2002:python/", _plain)


def load_tolerant(data: str | bytes) -> Any:
    """Gives the YAML document's data; raises yaml.YAMLError on any error in it."""
    try:
        return yaml.load(data, Loader=TolerantLoader)
    except ValueError as exc:
        # PyYAML raises ValueError, not YAMLError, for values such as `2026-02-30` or `0b_`.
        raise yaml.YAMLError(f"bad value: {exc}") from exc
