"""YAML that remembers where each value came from, so a mistake can be reported as ``file:line: what``.

Support staff edit these files by hand; a message without a line number sends them hunting.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a data file."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class Located(dict[str, Any]):
    """A mapping that also knows the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list[Any]):
    line: int = 0
    item_lines: list[int]

    def line_at(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


@functools.cache
def _line_loader() -> Any:
    """The loader class, built on first use: a start-up from the knowledge cache never imports yaml."""
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class LineLoader(base):  # type: ignore[misc]
        """Builds Located / LocatedList and reports duplicate keys instead of silently keeping the last."""

        duplicates: list[tuple[int, str]]

    # YAML 1.1 reads `yes:`/`no:`/`on`/`off` as booleans; our trees use `yes:` and `no:` as keys, and
    # support staff write "on"/"off" for SSL. Only true/false are booleans here (as in YAML 1.2).
    LineLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    LineLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    return LineLoader


def _construct_mapping(loader: Any, node: Any) -> Located:
    loader.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key)
        line = key_node.start_mark.line + 1
        if key in result:
            loader.duplicates.append((line, f"duplicate key {key!r} (first on line {result.key_lines[key]})"))
            continue
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: Any, node: Any) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def load_file(path: Path, label: str) -> tuple[Any, list[Problem]]:
    """Parse one YAML file. Returns (data or None, problems); never raises for bad content."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(label, 1, f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")]
    except OSError as exc:
        return None, [Problem(label, 1, f"cannot read: {exc.strerror}")]
    import yaml

    loader = _line_loader()(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        detail = exc.problem or exc.context or "cannot parse"
        if (
            exc.context
            and exc.context_mark
            and exc.problem_mark
            and exc.context_mark.line != exc.problem_mark.line
        ):
            detail += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        return None, [Problem(label, line, f"YAML syntax: {detail}")]
    except yaml.YAMLError as exc:
        return None, [Problem(label, 1, f"YAML syntax: {exc}")]
    finally:
        loader.dispose()
    return data, [Problem(label, line, msg) for line, msg in loader.duplicates]
