"""Gives YAML read safely: bounded in depth and size, and tolerant of custom tags.

Every YAML labbook reads (report front matter and blocks, mkdocs.yml, Lightning's
hparams.yaml) goes through `BoundedLoader`: PyYAML composes nodes recursively, so
`runs:` followed by a thousand `[` would end in RecursionError, and anchors let a few
lines stand for a cyclic or exponentially large structure (`&a [*a]`, "billion laughs")
that everything downstream walks. Such a document is a YAML error at its line instead.

mkdocs.yml and hparams.yaml also carry tags that SafeLoader refuses; `TolerantLoader`
reads them as the plain data they wrap, never the Python objects they name.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError

# Deeper than any real config or report (a query mapping is 3 levels) yet far below
# Python's recursion limit, which the composer uses about 3 frames per level of.
MAX_DEPTH = 64
# Nodes with every alias expanded: what code walking the data visits.
MAX_NODES = 200_000


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses documents nested deeper than MAX_DEPTH, cyclic through
    aliases, or with more than MAX_NODES nodes once aliases are expanded."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"nested deeper than {MAX_DEPTH} levels",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            node: yaml.Node | None = super().compose_node(parent, index)
            return node
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            check_expanded_size(node)
        return node


def check_expanded_size(root: yaml.Node) -> None:
    """Raises ComposerError if the node graph, aliases expanded, is cyclic or too big or deep.

    One pass over the distinct nodes (each one's expanded size and depth is remembered),
    without recursion.
    """
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, depth)
    open_nodes: set[int] = set()
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in done:
            stack.pop()
            continue
        children = _children(node)
        if key not in open_nodes:
            open_nodes.add(key)
            for child in children:
                if id(child) in open_nodes:
                    raise ComposerError(
                        None, None, "an alias refers to a node that holds it", child.start_mark
                    )
                if id(child) not in done:
                    stack.append(child)
            continue
        size, depth = 1, 1
        for child in children:
            child_size, child_depth = done[id(child)]
            size += child_size
            depth = max(depth, child_depth + 1)
        if size > MAX_NODES or depth > MAX_DEPTH:
            problem = (
                f"more than {MAX_NODES} values once aliases are expanded"
                if size > MAX_NODES
                else f"nested deeper than {MAX_DEPTH} levels once aliases are expanded"
            )
            raise ComposerError(None, None, problem, node.start_mark)
        done[key] = (size, depth)
        open_nodes.discard(key)
        stack.pop()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class TolerantLoader(BoundedLoader):
    """A BoundedLoader that reads any custom tag as the plain scalar, list or mapping it wraps."""


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
