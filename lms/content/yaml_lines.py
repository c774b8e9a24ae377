"""YAML loading that remembers the line of every key and list item, for file:line errors."""

from __future__ import annotations

from typing import Any

import yaml

Path_ = tuple[Any, ...]


class YAMLProblem(Exception):
    """A YAML text that cannot be read; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def load_with_lines(text: str, first_line: int = 1) -> tuple[Any, dict[Path_, int]]:
    """Parse ``text`` safely; return the data and a map from key path to 1-based line.

    ``first_line`` is the file line of the text's first line (front matter starts after ``---``).
    Duplicate keys are an error: PyYAML would silently keep the last one.
    """
    offset = first_line - 1
    try:
        # Anchors and aliases are refused: content never needs them, and a self-referencing or
        # nested alias can make a small file expand without end.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise YAMLProblem(event.start_mark.line + 1 + offset,
                                  "anchors and aliases (& and *) are not allowed here")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + offset) if mark else first_line
        reason = exc.problem or str(exc)
        raise YAMLProblem(line, f"invalid YAML: {reason}") from None
    except yaml.YAMLError as exc:
        raise YAMLProblem(first_line, f"invalid YAML: {exc}") from None
    lines: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), lines, offset)
    return data, lines


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], offset: int) -> None:
    lines.setdefault(path, node.start_mark.line + 1 + offset)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1 + offset
            if key in seen:
                raise YAMLProblem(line, f"duplicate key '{key}' (first on line {seen[key]})")
            seen[key] = line
            lines[path + (key,)] = line
            _walk(value_node, path + (key,), lines, offset)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[path + (index,)] = item.start_mark.line + 1 + offset
            _walk(item, path + (index,), lines, offset)


def line_for(lines: dict[Path_, int], path: Path_) -> int:
    """The line of ``path``, or of its nearest ancestor that has one."""
    path = tuple(path)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get((), 1)
