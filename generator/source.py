"""Reading writers' files: UTF-8 text with size limits, and YAML that remembers line numbers.

YAML is loaded with a stricter resolver than PyYAML's default: dates stay strings (we parse
them ourselves, with the site's time zone and a clear message) and only ``true``/``false``
are booleans, so ``lang: no`` (Norwegian) or ``tags: [on, off]`` mean what the writer typed.
A key given twice is an error, not a silent overwrite, and PyYAML's syntax errors are
translated into plain English that shows the fix (``title: "Equity: a start"``).
"""

from __future__ import annotations

import json
import os
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

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
# Characters XML 1.0 forbids (so no feed can carry them) and HTML calls errors: invisible
# control codes pasted from other programs. Tab, line ends and NUL are dealt with apart.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The file's text, without a byte-order mark and with ``\\n`` line ends."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise TextError(
                f"the file is {size:,} bytes, over the limit of {limit:,} for one file; "
                "split it into smaller posts, and keep pictures in content/images/ "
                "rather than pasted into the text"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise TextError(f"cannot read the file ({exc.strerror or exc})") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if data.startswith(_UTF16_MARKS):
            raise TextError("the file is saved as UTF-16 text; save it as UTF-8 in your "
                            "editor (choose UTF-8 under 'Save As' or 'Encoding')", 1) from exc
        line = data[: exc.start].count(b"\n") + 1
        raise TextError(
            f"this line is not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as "
            "UTF-8 in your editor (choose UTF-8 under 'Save As' or 'Encoding')", line
        ) from exc
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise TextError("the file contains NUL characters, so it is not plain text (perhaps it "
                        "is saved as UTF-16); save it as UTF-8 text", line)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    control = _CONTROL.search(text)
    if control:
        raise TextError(f"this line contains an invisible control character "
                        f"(U+{ord(control.group()):04X}) that web pages and feeds cannot carry; "
                        "delete it (retype the words around it if you cannot see it)",
                        text[:control.start()].count("\n") + 1)
    return text


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 surprises (timestamps, yes/no/on/off booleans)."""


# libyaml's parser when PyYAML has it (about ten times faster); the pure-Python one is used
# to explain errors, so writers see the same messages on every machine.
_FastLoader: type[yaml.SafeLoader] = type(
    "_FastLoader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})

for _cls in (_Loader, _FastLoader):
    _cls.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in (
            "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _cls.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"))


def _compose_and_load(text: str, loader_class: type[yaml.SafeLoader]) -> tuple[Any, Any]:
    """The node tree (for line numbers) and the data, from one parse."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()

def describe(value: object) -> str:
    """A value as a writer would recognise it in their file."""
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a list of keys"
    if isinstance(value, list):
        return "a list"
    return str(value)


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
            line = key_node.start_mark.line + 1 + offset
            if (*path, key) in out:
                raise _Duplicate(key, out[(*path, key)], line)
            out[(*path, key)] = line
            _walk(value_node, (*path, key), offset, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*path, index)] = item.start_mark.line + 1 + offset
            _walk(item, (*path, index), offset, out)


class _Duplicate(Exception):
    def __init__(self, key: str, first: int, again: int) -> None:
        self.key, self.first, self.again = key, first, again
        super().__init__(key)


def load_yaml(text: str, path: Path, first_line: int = 1) -> YamlDoc:
    """Parse ``text`` (which starts at ``first_line`` of ``path``); raise a located Problem."""
    offset = first_line - 1
    try:
        try:
            node, data = _compose_and_load(text, _FastLoader)
        except yaml.YAMLError:
            node, data = _compose_and_load(text, _Loader)
    except yaml.MarkedYAMLError as exc:
        line, message = explain_yaml_error(exc, text, front_matter=first_line > 1)
        raise YamlProblem(Problem(path, line + 1 + offset, message)) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(path, first_line, f"this is not valid YAML ({exc})")) from exc
    lines: dict[KeyPath, int] = {}
    if node is not None:
        try:
            _walk(node, (), offset, lines)
        except _Duplicate as dup:
            raise YamlProblem(Problem(path, dup.again, (
                f"'{dup.key}' is given twice (also on line {dup.first}); keep only one"))) from dup
    return YamlDoc(data, lines, first_line)


def _quote_value(source_line: str) -> str:
    """``key: value`` with the value in double quotes, as the writer should type it."""
    key, _, value = source_line.strip().partition(":")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    # A JSON string is a valid YAML double-quoted value, with every character escaped right.
    return f"{key}: {json.dumps(value, ensure_ascii=False)}"


def explain_yaml_error(exc: yaml.MarkedYAMLError, text: str, front_matter: bool
                       ) -> tuple[int, str]:
    """(0-based line in ``text``, plain-English message) for a YAML syntax error."""
    problem, context = exc.problem or "", exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line, mark.column) if mark else (0, 0)
    opened = exc.context_mark.line if exc.context_mark else line
    source_lines = text.split("\n")
    source = source_lines[line] if line < len(source_lines) else ""
    has_key = bool(re.match(r"^\s*[\w-]+:\s", source))
    if "'\\t'" in problem:
        return line, "this line has a tab character; indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        if ": " in source[:column] or source[:column].rstrip().endswith(":"):
            return line, f"this value contains ': ', so it needs quotes: {_quote_value(source)}"
        return line, ("this line is indented differently from the lines above; line up keys "
                      "at the same level with the same number of spaces")
    value = source.partition(":")[2].strip() if has_key else ""
    special = re.search(r"found character '(.)' that cannot start any token", problem)
    if "could not determine a constructor" in problem:
        special = re.search(r"(!)", value)
    if special or "alias" in context or "anchor" in context or "undefined alias" in problem:
        char = special.group(1) if special else value[:1] or "*"
        fix = f": {_quote_value(source)}" if value.startswith(char) else ""
        return line, f"a value that starts with '{char}' needs quotes around it{fix}"
    if "while scanning a quoted scalar" in context:
        return opened, "the quote mark that opens this value is never closed; end the value " \
                       "with the same quote mark"
    if "flow node" in context and "<stream end>" in problem:
        # The file ended inside a '[' or '{'; PyYAML only knows where it ended.
        opener = next((n for n in range(min(line, len(source_lines) - 1), -1, -1)
                       if "[" in source_lines[n] or "{" in source_lines[n]), line)
        opened, context = opener, "flow mapping" if "{" in source_lines[opener] \
            and "[" not in source_lines[opener] else "flow sequence"
    brackets = {"flow sequence": ("a list", "[", "]"), "flow mapping": ("a group", "{", "}")}
    for kind, (what, start, end) in brackets.items():
        if kind in context:
            return opened, (f"{what} that starts with '{start}' on this line is not closed; "
                            f"end it with '{end}' (and put quotes around items that contain "
                            "commas or colons)")
    if "expected <block end>" in problem and has_key and "block mapping" in context:
        if value.startswith("[") and value.endswith("]"):
            return line, "there is text after the ']' that ends this list; remove it"
        return line, ("text follows a closing quote or ']' on this line; put the whole value "
                      f"in double quotes: {_quote_value(source)}")
    if "expected <block end>" in problem:
        return line, ("this line does not line up with the lines above; check its indentation, "
                      "and do not mix '- ' list items with 'key: value' lines at one level")
    if "expected a single document" in context:
        return line, "a second '---' line starts another document here; remove it"
    end = "the end of the front matter" if front_matter else "the end of the file"
    if "<stream end>" in problem:  # point at the last line with text, not past it
        line = max((n for n, text_line in enumerate(source_lines[:line + 1])
                    if text_line.strip()), default=line)
    detail = problem.replace("'<stream end>'", end).replace("<stream end>", end)
    return line, f"this is not valid YAML: {detail}"


class YamlProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.format())


_FENCE = "---"


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, body's first line) or None when the file has no front matter."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != _FENCE:
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in (_FENCE, "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    return None


def read_front_matter(path: Path, kind: str, required: str
                      ) -> tuple[YamlDoc, str, int] | Problem:
    """(front matter, body, body's first line) of a Markdown file, or what stops reading it.

    ``kind`` ("post") and ``required`` ("title, date and campaign") word the messages.
    """
    try:
        text = read_text(path)
    except TextError as exc:
        return Problem(path, exc.line, str(exc))
    if not text.strip():
        return Problem(path, 1, f"the file is empty; a {kind} needs front matter between two "
                                f"'---' lines, with {required}, and a body")
    split = split_front_matter(text)
    if split is None:
        if text.split("\n", 1)[0].rstrip() == _FENCE:
            return Problem(path, 1, "the front matter that starts here has no closing '---' "
                                    "line; add one after the last key")
        return Problem(path, 1, f"a {kind} must start with front matter between two '---' "
                                f"lines, with {required}")
    front, body, body_line = split
    try:
        doc = load_yaml(front, path, first_line=2)
    except YamlProblem as exc:
        return exc.problem
    if doc.data is not None and not isinstance(doc.data, dict):
        return Problem(path, 2, f"front matter must be keys like 'title: …' "
                                f"(got {describe(doc.data)})")
    return doc, body, body_line


def stat_signature(path: Path | str) -> str:
    """``size:mtime`` of a file, or ``-`` when it does not exist."""
    try:
        st = os.stat(path)  # noqa: PTH116 (also takes a str, which a rebuild has)
    except OSError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"
