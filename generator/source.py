"""Reading writers' files: UTF-8 text with size limits, and YAML that remembers line numbers.

YAML is loaded with a stricter resolver than PyYAML's default: dates stay strings (we parse
them ourselves, with the site's time zone and a clear message) and only ``true``/``false``
are booleans, so ``lang: no`` (Norwegian) or ``tags: [on, off]`` mean what the writer typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

MAX_FILE_BYTES = 1_000_000
"""Python-Markdown slows down badly on huge pathological input; no real post is this big."""


class TextError(Exception):
    """A file that cannot be read as text; the message is ready for the writer."""


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The file's text, without a byte-order mark and with ``\\n`` line ends."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise TextError(
                f"file is {size:,} bytes; the limit is {limit:,}. Split it into smaller posts"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise TextError(f"cannot read the file ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TextError(
            f"line {line} is not UTF-8 text; save the file as UTF-8 in your editor"
        ) from exc
    text = text.removeprefix("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n")


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 surprises (timestamps, yes/no/on/off booleans)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class YamlDoc:
    """Loaded YAML plus the line (1-based, in the whole file) where each key path starts."""

    data: Any
    lines: Mapping[KeyPath, int]
    first_line: int

    def line(self, *path: str | int) -> int:
        """The line of the deepest known key along ``path`` (the document start otherwise)."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return self.first_line


def _walk(node: yaml.Node, path: KeyPath, offset: int, out: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            out[(*path, key)] = key_node.start_mark.line + 1 + offset
            _walk(value_node, (*path, key), offset, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*path, index)] = item.start_mark.line + 1 + offset
            _walk(item, (*path, index), offset, out)


def load_yaml(text: str, path: Path, first_line: int = 1) -> YamlDoc:
    """Parse ``text`` (which starts at ``first_line`` of ``path``); raise a located Problem."""
    offset = first_line - 1
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 + offset) if mark else first_line
        what = exc.problem or "is not valid YAML"
        hint = ""
        if "mapping values are not allowed" in what:
            hint = "; a value containing ': ' needs quotes around it"
        elif "found character '\\t'" in what:
            hint = "; indent with spaces, not tabs"
        raise YamlProblem(Problem(path, line, f"YAML error: {what}{hint}")) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(path, first_line, f"YAML error: {exc}")) from exc
    lines: dict[KeyPath, int] = {}
    if node is not None:
        _walk(node, (), offset, lines)
    return YamlDoc(data, lines, first_line)


class YamlProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.format())
