"""YAML read with limits, so that a hostile or mistaken file is refused in a moment, in one line.

Plain `yaml.safe_load` has no limits: a 20 KB file of nested aliases ("billion laughs") expands
to gigabytes, 1,000 levels of nesting end in a RecursionError, a 5,000-digit integer in a
ValueError, and reading `/dev/zero` never ends. Every scenario, `extends:` base, sweep file and
calibration target file goes through `load_yaml_file`, so the same limits hold for all of them.

The limits sit far above what a real file needs: the largest scenario file is about 17 KB and
500 values, nested 6 levels, with no aliases.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1 << 20  # 1 MiB: about 60 times the largest scenario file
MAX_DEPTH = 50  # levels of nesting; scenario files nest at most 6 deep
MAX_ALIASES = 100  # `*name` references; scenario files use none
MAX_VALUES = 50_000  # keys, values and list items, with every alias expanded
MAX_INT_DIGITS = 100  # characters of an integer; int64 has 19 digits, so this is only a guard


class YamlLimitError(Exception):
    """A file breaks a limit or is not valid YAML; the message is one line without the file name."""


def _at(node: Node | None) -> str:
    mark = getattr(node, "start_mark", None)
    return f"line {mark.line + 1}: " if mark is not None else ""


class LimitedLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that counts nesting, aliases and values while it composes the document."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: object) -> Node:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise YamlLimitError(
                    f"line {event.start_mark.line + 1}: more than {MAX_ALIASES} aliases (*name); "
                    "write the values out instead of referring to anchors"
                )
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise YamlLimitError(
                    f"line {event.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep; "
                    "a scenario nests a few levels (geography › districts › …): flatten the file"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node:
        node = super().compose_document()
        _count_values(node)
        return node

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = len(str(node.value).replace("_", "").lstrip("+-"))
        if digits > MAX_INT_DIGITS:
            raise YamlLimitError(
                f"{_at(node)}an integer of {digits} digits (the limit is {MAX_INT_DIGITS}); "
                "no count or amount in a scenario needs more than 19"
            )
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: ScalarNode) -> dt.date | dt.datetime:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise YamlLimitError(
                f"{_at(node)}{node.value!r} looks like a date but is not one; write months as YYYY-MM, such as 2023-05"
            ) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        # PyYAML keeps the last of two equal keys without a word; a key written twice is a mistake
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise YamlLimitError(
                        f"{_at(key_node)}key {key_node.value!r} is written twice in the same mapping; keep one of them"
                    )
                seen.add(key)
        return super().construct_mapping(node, deep)


# YAML 1.1 reads 8.4e9 (no dot, no exponent sign) as text; read it as the number it is meant to be
LimitedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)
LimitedLoader.add_constructor("tag:yaml.org,2002:int", LimitedLoader.construct_yaml_int)
LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", LimitedLoader.construct_yaml_timestamp)
LimitedLoader.add_constructor("tag:yaml.org,2002:map", LimitedLoader.construct_yaml_map)


def _count_values(root: Node) -> None:
    """Refuse a document that holds more than MAX_VALUES values once its aliases are expanded
    (a node reached through k aliases counts k times), or one whose aliases form a loop."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YamlLimitError(f"{_at(node)}an alias refers to the value that holds it (a loop); remove the alias")
        open_nodes.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            children: list[Node] = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_VALUES:
                raise YamlLimitError(
                    f"more than {MAX_VALUES:,} keys, values and list items (aliases expanded); "
                    "a scenario holds a few hundred: remove what it does not need"
                )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    size(root)


def load_yaml_text(text: str) -> Any:
    """Parse YAML text within the limits. Raises YamlLimitError (limits) or yaml.YAMLError."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(f"text of {len(text):,} characters (the limit is {MAX_BYTES:,})")
    loader = LimitedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read_limited_text(path: Path) -> str:
    """The file's text, refusing files above MAX_BYTES without reading more than that (a
    device such as /dev/zero would otherwise be read for ever)."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlLimitError(
            f"larger than {MAX_BYTES // 1024:,} KB (the largest scenario file is about 17 KB); is this the right file?"
        )
    return data.decode("utf-8")
