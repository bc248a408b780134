"""Where each scenario value comes from: the comments next to its key in the scenario file.

Scenario files mark every figure with a source tag such as ``# [D20]`` or with the word
``assumption`` (see scenarios/hoa_binh.yaml). This module reads those comments back, so that a
planner can see, for each value a run used, whether it is sourced or assumed and what the
source says. The file's header may define the tags (``#   [D20]   Decree 20/2021/NĐ-CP ...``);
those definitions are expanded in a separate column.

A value's comment is the comment on its own line, else the comment block just above it, else
the nearest enclosing key's comment: ``{urban: 0.2, rural: 0.07}  # assumption`` documents both
``...urban`` and ``...rural``. Trailing comments that continue a sentence over the following,
aligned lines (ending in a comma, or in a word like "over") are joined into one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from welfare_sim.sim.scenario import _merge as merge

TAG = re.compile(r"\[([^\]\s][^\]]*)\]")
TAG_DEFINITION = re.compile(r"^\[([^\]]+)\]\s+(\S.*)$")
KEY_LINE = re.compile(
    r"""^(?P<key>"[^"]*"|'[^']*'|[^\s:#'"\-{}\[\],][^:#{}\[\],]*?)\s*:(?:\s+|$)(?P<rest>.*)$"""
)
# A comment that ends like this runs on to the next line's comment.
_RUNS_ON = re.compile(r"([,;:(–-]|\b(?:over|and|or|of|the|by|as|to|from|with|in|for|per|a|an))$")
_RULE = re.compile(r"^[-=#*\s]+$")


@dataclass
class Comment:
    text: str
    column: int = -1

    def extend(self, more: str) -> None:
        self.text = f"{self.text} {more}".strip()


@dataclass
class FileComments:
    """Comments of one scenario file by key path (parts as strings, list items as indexes)."""

    path: Path
    trailing: dict[tuple[str, ...], Comment] = field(default_factory=dict)
    above: dict[tuple[str, ...], Comment] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def _split_comment(text: str) -> tuple[str, str | None, int]:
    """(code, comment or None, column of '#') for a line, ignoring '#' inside quotes."""
    quote: str | None = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip(), text[i + 1 :].strip(), i
    return text.rstrip(), None, -1


def _unquote(key: str) -> str:
    key = key.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key


def parse_comments(path: Path, text: str | None = None) -> FileComments:
    """Read the comments of a block-style YAML file and attach them to key paths."""
    text = Path(path).read_text(encoding="utf-8") if text is None else text
    out = FileComments(Path(path))
    # Frames: (indent, part, is_list_item). A key's children sit deeper than the key.
    stack: list[tuple[int, str, bool]] = []
    counters: dict[tuple[str, ...], int] = {}
    pending: list[str] = []
    last_trailing: Comment | None = None
    for raw in text.splitlines():
        code, comment, column = _split_comment(raw)
        if not code.strip():
            if comment is None:
                pending = []  # a blank line ends a comment block
                last_trailing = None
                continue
            definition = TAG_DEFINITION.match(comment)
            if definition:
                out.tags.setdefault(definition.group(1), definition.group(2).strip())
            if comment and not _RULE.match(comment):
                pending.append(comment)
            last_trailing = None
            continue
        indent = len(code) - len(code.lstrip(" "))
        body = code.strip()
        item_path: tuple[str, ...] | None = None
        if body.startswith("- ") or body == "-":
            while stack and (stack[-1][0] > indent or (stack[-1][0] == indent and stack[-1][2])):
                stack.pop()
            owner = tuple(part for _, part, _ in stack)
            index = counters.get(owner, 0)
            counters[owner] = index + 1
            stack.append((indent, str(index), True))
            item_path = (*owner, str(index))
            stripped = body[1:].lstrip()
            indent += len(body) - len(stripped)
            body = stripped
        match = KEY_LINE.match(body) if body and body[0] not in "{[" else None
        if match:
            while stack and stack[-1][0] >= indent and not (stack[-1][2] and stack[-1][0] < indent):
                stack.pop()
            key = _unquote(match.group("key"))
            key_path = (*(part for _, part, _ in stack), key)
            stack.append((indent, key, False))
        else:
            key_path = item_path if item_path is not None else tuple(part for _, part, _ in stack)
        # A comment block above a list item documents that item; above the first item, it
        # follows the list's key and documents the whole list.
        block_target = key_path
        if item_path is not None:
            block_target = item_path[:-1] if item_path[-1] == "0" else item_path
        if pending:
            out.above[block_target] = Comment(" ".join(pending))
            pending = []
        if comment:
            previous = last_trailing
            if (
                previous is not None
                and previous.column == column
                and _RUNS_ON.search(previous.text)
            ):
                previous.extend(comment)
                out.trailing[key_path] = previous
                last_trailing = previous
            else:
                record = Comment(comment, column)
                out.trailing[key_path] = record
                last_trailing = record
        else:
            last_trailing = None
    return out


# --------------------------------------------------------------------------- values


def flatten(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Leaf values by path: mappings and lists of mappings are walked, other lists are values."""
    if isinstance(data, dict):
        rows: list[tuple[tuple[str, ...], Any]] = []
        for key, value in data.items():
            rows.extend(flatten(value, (*prefix, str(key))))
        return rows
    if isinstance(data, list) and any(isinstance(v, dict) for v in data):
        rows = []
        for i, value in enumerate(data):
            rows.extend(flatten(value, (*prefix, str(i))))
        return rows
    return [(prefix, data)]


def has_path(data: Any, parts: tuple[str, ...]) -> bool:
    node = data
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


def model_description(parts: tuple[str, ...]) -> str:
    """The pydantic field description of a scenario key (unit, meaning, sometimes source)."""
    from welfare_sim.sim.scenario import Scenario

    current: Any = Scenario
    description = ""
    for part in parts:
        fields = getattr(current, "model_fields", None)
        if fields is None or part.isdigit():
            # a list index or a free dict key: the item has the list's (or dict's) meaning
            continue
        if part not in fields:
            return description
        info = fields[part]
        # a leaf without its own description (mean_min.urban) keeps its parent's
        description = info.description or description
        current = _inner_model(info.annotation)
    return description


def _inner_model(annotation: Any) -> Any:
    if hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


@dataclass
class Source:
    status: str  # sourced | assumption | mixed | default | override | setting | unmarked
    text: str
    at: str
    refs: str


RUN_SETTINGS = {"name", "description", "start", "months", "seed"}


def classify(text: str, in_assumptions: bool) -> str:
    tagged = bool(TAG.search(text))
    assumed = "assum" in text.lower() or (in_assumptions and not tagged)
    if tagged and assumed:
        return "mixed"
    if tagged:
        return "sourced"
    if assumed:
        return "assumption"
    return "unmarked"


class ScenarioSources:
    """Sources of every value, from a scenario file and the files it `extends`."""

    def __init__(self, scenario_file: Path | None) -> None:
        self.files: list[FileComments] = []
        self.data: dict[str, Any] = {}
        if scenario_file is None:
            return
        seen: set[Path] = set()
        chain: list[dict[str, Any]] = []  # the file, then the file it extends, and so on
        path: Path | None = scenario_file.resolve()
        while path is not None and path.exists() and path not in seen:
            seen.add(path)
            text = path.read_text(encoding="utf-8")
            self.files.append(parse_comments(path, text))
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError:
                data = None
            if not isinstance(data, dict):
                break
            chain.append(data)
            parent = data.get("extends")
            path = (path.parent / parent).resolve() if isinstance(parent, str) else None
        # the scenario loader's own merge (`NAME+` appends included), the furthest base first;
        # an item a file appends with `NAME+` is documented in that file, under `NAME+`
        self.appended: dict[tuple[str, ...], tuple[int, tuple[str, ...]]] = {}
        for k, data in reversed(list(enumerate(chain))):
            over = {key: v for key, v in data.items() if key != "extends"}
            for merged_at, written_at in _appended_items(self.data, over):
                self.appended[merged_at] = (k, written_at)
            self.data = merge(self.data, over)

    @staticmethod
    def _comment_in(f: FileComments, parts: tuple[str, ...]) -> tuple[str, str] | None:
        for depth in range(len(parts), 0, -1):
            for table in (f.trailing, f.above):
                if parts[:depth] in table:
                    return table[parts[:depth]].text, ".".join(parts[:depth])
        return None

    @property
    def tags(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for f in reversed(self.files):
            merged.update(f.tags)
        return merged

    def comment(self, parts: tuple[str, ...]) -> tuple[str, str] | None:
        """(comment text, key path it sits at) for a value, nearest first."""
        for depth in range(len(parts), 0, -1):
            item = self.appended.get(parts[:depth])
            if item is not None:  # only the file that appended the item speaks of it
                k, written_at = item
                return self._comment_in(self.files[k], (*written_at, *parts[depth:]))
        for depth in range(len(parts), 0, -1):
            sub = parts[:depth]
            for f in self.files:
                for table in (f.trailing, f.above):
                    if sub in table:
                        return table[sub].text, ".".join(sub)
        return None

    def source(self, parts: tuple[str, ...], overrides: dict[str, str]) -> Source:
        key = ".".join(parts)
        found = self.comment(parts) if self.files else None
        text, at = found if found else ("", "")
        refs = self.references(text)
        if key in overrides:
            note = f"--set {key}={overrides[key]}"
            return Source("override", note + (f"; the file says: {text}" if text else ""), at, refs)
        if parts and parts[0] in RUN_SETTINGS and len(parts) == 1:
            return Source("setting", text, at, refs)
        in_file = has_path(self.data, parts) if self.files else True
        if not in_file:
            return Source("default", model_description(parts), "", "")
        if not text:
            description = model_description(parts)
            status = classify(description, parts[0] == "assumptions") if description else "unmarked"
            if status == "unmarked" and parts[0] == "assumptions":
                status = "assumption"
            return Source(status, description, "", "")
        return Source(classify(text, parts[0] == "assumptions"), text, at, refs)

    def references(self, text: str) -> str:
        tags = self.tags
        found = []
        for tag in TAG.findall(text):
            if tag in tags and tag not in found:
                found.append(tag)
        return "; ".join(f"[{t}] {tags[t]}" for t in found)


def _appended_items(
    base: Any, over: dict[str, Any], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(path in the merged data, path in the file) of each list item that `over` appends to
    `base` with a `NAME+` key, as welfare_sim.sim.scenario's merge does."""
    found = []
    for key, value in over.items():
        if isinstance(key, str) and key.endswith("+") and isinstance(value, list):
            current = base.get(key[:-1]) if isinstance(base, dict) else None
            if current is None or isinstance(current, list):
                start = len(current or [])
                found += [((*prefix, key[:-1], str(start + i)), (*prefix, key, str(i))) for i in range(len(value))]
                continue
        if isinstance(value, dict):
            prior = base.get(key) if isinstance(base, dict) else None
            found += _appended_items(prior if isinstance(prior, dict) else {}, value, (*prefix, str(key)))
    return found


def override_map(overrides: list[str]) -> dict[str, str]:
    """`key.path=value` items of a run's manifest, by key path."""
    out = {}
    for item in overrides or []:
        if "=" in item:
            key, value = item.split("=", 1)
            out[".".join(p for p in key.strip().split(".") if p)] = value.strip()
    return out


def find_scenario_file(recorded: str, folder: Path) -> Path | None:
    """The scenario file a run names in its manifest, looked up as the user would have meant it."""
    if not recorded:
        return None
    path = Path(recorded)
    if path.is_absolute():
        return path if path.is_file() else None
    candidates = [Path.cwd() / path, *(parent / path for parent in folder.resolve().parents)]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def value_text(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers and booleans stay, everything else becomes text."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
