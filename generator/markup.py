"""Markdown to HTML, with the house conventions writers rely on.

- Headings are shifted so the body's top level is ``h2`` (the page title is the one ``h1``).
- Links and images are resolved against ``content/`` and left as late-bound markers
  (``site:images/x.jpg``, ``site-src:posts/other.md``) that :mod:`generator.render` turns
  into relative links on pages and absolute ones in feeds.
- ``> tweet: A sentence.`` marks a click-to-tweet quote (see README); it is rendered as a
  quote with a ``<!--tweetable:N-->`` placeholder for its share link.
- ``[[x https://x.com/user/status/123]]`` alone in a paragraph embeds an X post or profile
  as a plain link that loads X's widget only when the reader asks (writers opt in; readers
  too).
"""

from __future__ import annotations

import importlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import markdown
from markdown.extensions import extra
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.toc import TocExtension, TocTreeprocessor, slugify_unicode
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from PIL import Image, UnidentifiedImageError

from .embeds import x_embed_html

SITE = "site:"  # a site path, e.g. site:images/x.jpg
SOURCE = "site-src:"  # a content file to be replaced by its page's URL, e.g. site-src:posts/a.md
QUOTE_PREFIX = re.compile(r"^\s*tweet:\s*", re.IGNORECASE)
X_EMBED = re.compile(r"^\[\[x\s+(\S+)\s*\]\]$")
QUOTE_PLACEHOLDER = "<!--tweetable:{}-->"
MARKUP_VERSION = "7"  # bump when the HTML this module makes changes, to refresh caches
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A body rendered to HTML (with late-bound link markers) and what was found in it."""

    html: str
    quotes: tuple[str, ...] = ()
    headings: tuple[tuple[int, str, str], ...] = ()  # (level, id, text)
    problems: tuple[tuple[int | None, str], ...] = ()  # (0-based body line or None, message)
    deps: tuple[str, ...] = ()  # content files its links and images point at
    # The content files it links to (``site-src:`` markers), each with its body line
    # (0-based, None when not found), so links to unpublished posts can be reported.
    sources: tuple[tuple[str, int | None], ...] = ()


@dataclass(slots=True)
class _DocState:
    """What the tree processor learns about the document being converted."""

    source: PurePosixPath = field(default_factory=PurePosixPath)
    body: str = ""
    quotes: list[str] = field(default_factory=list)
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    deps: set[str] = field(default_factory=set)
    sources: list[tuple[str, int | None]] = field(default_factory=list)


def _text_of(element: ET.Element) -> str:
    return "".join(element.itertext()).strip()


class _SiteTree(Treeprocessor):
    def __init__(self, md: markdown.Markdown, content_dir: Path, state: _DocState) -> None:
        super().__init__(md)
        self.content_dir = content_dir
        self.state = state

    def run(self, root: ET.Element) -> None:
        self._headings(root)
        self._quotes(root)
        self._x_embeds(root)
        for element in root.iter():
            if element.tag == "a" and element.get("href"):
                element.set("href", self._resolve(element.get("href", ""), link=True))
            elif element.tag == "img" and element.get("src"):
                self._image(element)

    def _headings(self, root: ET.Element) -> None:
        """The body's outline starts at h2 and never skips a level, whatever '#'s were typed
        (``make check`` tells the writer about a skip; readers get a sound outline)."""
        outline: list[tuple[int, int]] = []  # (typed, published) level of each open section
        for element in [e for e in root.iter() if e.tag in _HEADINGS]:
            typed = int(element.tag[1])
            while outline and outline[-1][0] >= typed:
                outline.pop()
            level = min(6, outline[-1][1] + 1 if outline else 2)
            outline.append((typed, level))
            element.tag = f"h{level}"

    def _quotes(self, root: ET.Element) -> None:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag != "blockquote" or not len(child) or child[0].tag != "p":
                    continue
                if not QUOTE_PREFIX.match(child[0].text or ""):
                    continue
                # Quotes separated by a blank line arrive as one blockquote: each "tweet:"
                # paragraph becomes its own figure; anything else stays a plain quote.
                blocks: list[ET.Element] = []
                for part in list(child):
                    if part.tag == "p" and QUOTE_PREFIX.match(part.text or ""):
                        part.text = QUOTE_PREFIX.sub("", part.text or "", count=1)
                        blocks.append(self._figure(part))
                    else:
                        if not blocks or blocks[-1].tag != "blockquote":
                            blocks.append(ET.Element("blockquote"))
                        blocks[-1].append(part)
                index = list(parent).index(child)
                parent.remove(child)
                for offset, block in enumerate(blocks):
                    parent.insert(index + offset, block)

    def _figure(self, paragraph: ET.Element) -> ET.Element:
        figure = ET.Element("figure", {"class": "tweetable"})
        ET.SubElement(figure, "blockquote").append(paragraph)
        number = len(self.state.quotes)
        self.state.quotes.append(" ".join(_text_of(paragraph).split()))
        caption = ET.SubElement(figure, "figcaption")
        caption.text = self.md.htmlStash.store(QUOTE_PLACEHOLDER.format(number))
        return figure

    def _x_embeds(self, root: ET.Element) -> None:
        """``[[x https://x.com/…]]`` alone in a paragraph: a click-to-load X post or profile."""
        for p in root.iter("p"):
            match = X_EMBED.match((p.text or "").strip()) if not len(p) else None
            if match is None:
                continue
            try:
                html = x_embed_html(match.group(1))
            except ValueError as exc:
                self.state.problems.append((self._line_of(match.group(1)), str(exc)))
                continue
            p.text = self.md.htmlStash.store(html)

    def _resolve(self, url: str, link: bool) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. square brackets in the host part
            what = "link" if link else "image"
            self.state.problems.append((
                self._line_of(url), f"{what} address '{url}' is not a valid web address; "
                "check it for a stray bracket or space"))
            return url
        if parts.scheme or parts.netloc or url.startswith(("#", "//")):
            return url
        path = unquote(parts.path)
        if not path:
            return url
        suffix = (f"?{parts.query}" if parts.query else "") + \
            (f"#{parts.fragment}" if parts.fragment else "")
        if path.startswith("/"):
            return f"{SITE}{path.lstrip('/')}{suffix}"
        found = self._find(path)
        if found is None:
            what = "link" if link else "image"
            self.state.problems.append((
                self._line_of(url), f"{what} target '{url}' was not found under content/; "
                "paths start from the content folder, like images/photo.jpg or "
                "posts/other-post.md"))
            return url
        if found.suffix == ".md":
            self.state.sources.append((str(found), self._line_of(url)))
            return f"{SOURCE}{found}{suffix}"
        if found.parts[0] == "static":  # content/static/ is published at the site's root
            return f"{SITE}{PurePosixPath(*found.parts[1:])}{suffix}"
        return f"{SITE}{found}{suffix}"

    def _line_of(self, url: str) -> int | None:
        """The body line (0-based) where ``url`` is written, when it can be found."""
        at = self.state.body.find(f"({url}")
        if at < 0:
            at = self.state.body.find(url)
        return self.state.body.count("\n", 0, at) if at >= 0 else None

    def _find(self, path: str) -> PurePosixPath | None:
        """A content-relative path: from the content folder first, then from the file."""
        found = self._lookup(path)
        self.state.deps.add(str(found) if found else path)
        return found

    def _lookup(self, path: str) -> PurePosixPath | None:
        for base in (PurePosixPath(), self.state.source.parent):
            candidate = PurePosixPath(base, path)
            parts: list[str] = []
            for part in candidate.parts:
                if part == "..":
                    if not parts:
                        break
                    parts.pop()
                elif part != ".":
                    parts.append(part)
            else:
                rel = PurePosixPath(*parts) if parts else None
                if rel is not None and (self.content_dir / rel).is_file():
                    return rel
        return None

    def _image(self, element: ET.Element) -> None:
        src = self._resolve(element.get("src", ""), link=False)
        element.set("src", src)
        element.set("loading", "lazy")
        element.set("decoding", "async")
        if src.startswith(SITE) and not element.get("width"):
            try:
                with Image.open(self.content_dir / src.removeprefix(SITE)) as image:
                    width, height = image.size
            except (OSError, UnidentifiedImageError):
                return
            element.set("width", str(width))
            element.set("height", str(height))
        if element.get("alt") is None:
            element.set("alt", "")


# Python-Markdown runs every inline pattern over every run of text and tries every block
# processor on every block. Most can only act on a text holding one of a few marks (a
# backtick, "&", "|"...); a body with none of them is converted by a converter without
# those steps: the same HTML, in two thirds of the time. (kind, name, marks)
_MARKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("inline", "backtick", ("`",)),
    ("inline", "escape", ("\\",)),
    ("inline", "footnote", ("[^",)),
    ("inline", "reference", ("[",)),
    ("inline", "link", ("[",)),
    ("inline", "short_reference", ("[",)),
    ("inline", "image_link", ("![",)),
    ("inline", "image_reference", ("![",)),
    ("inline", "short_image_ref", ("![",)),
    ("inline", "autolink", ("<",)),
    ("inline", "automail", ("<",)),
    ("inline", "linebreak", ("  \n", "  \r", "\t")),  # tabs become spaces
    ("inline", "html", ("<",)),
    ("inline", "entity", ("&",)),
    ("inline", "em_strong", ("*", "_")),
    ("block", "footnote", ("[^",)),
    ("block", "abbr", ("*[",)),
    ("block", "reference", ("]:",)),
    ("block", "deflist", (":",)),
    ("block", "table", ("|",)),
    ("tree", "attr_list", ("{",)),
    ("tree", "unescape", ("\\",)),  # what it restores is made from backslash escapes alone
    ("tree", "footnote", ("[^",)),
    ("tree", "footnote-duplicate", ("[^",)),
    ("tree", "abbr", ("*[",)),
    ("pre", "fenced_code_block", ("```", "~~~")),
    ("pre", "html_block", ("<",)),
    ("post", "footnote", ("[^",)),
    ("toc-marker", "toc", ("[TOC]",)),  # the table of contents is only looked for
)
_CONVERTERS = 24  # converters kept per process, each for one mix of marks


class _QuickInline(InlineProcessor):
    """Python-Markdown's inline step, which tries every inline pattern on every run of
    text: a run that holds none of a pattern's marks is passed over without trying it, and
    the result is the same (a match always contains one of its pattern's marks)."""

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        # Make it once the converter's patterns are settled: the step looks its patterns up
        # by index for every run of text, which a registry answers by sorting and searching.
        self.inlinePatterns = list(md.inlinePatterns)  # type: ignore[assignment]
        self._needs = {id(md.inlinePatterns[name]): marks[0] if len(marks) == 1 else marks
                       for kind, name, marks in _MARKS
                       if kind == "inline" and name in md.inlinePatterns}
        self.passed = 0  # patterns not tried (tests check the shortcut is in use)

    def _InlineProcessor__applyPattern(self, pattern: Any, data: str, patternIndex: int,
                                       startIndex: int = 0) -> tuple[str, bool, int]:
        marks = self._needs.get(id(pattern))
        if marks is not None and (
                data.find(marks, startIndex) < 0 if isinstance(marks, str)
                else all(data.find(mark, startIndex) < 0 for mark in marks)):
            self.passed += 1
            return data, False, 0
        apply: Any = getattr(super(), "_InlineProcessor__applyPattern")  # noqa: B009
        return apply(pattern, data, patternIndex, startIndex)  # type: ignore[no-any-return]


def _underlined(block: str) -> bool:
    """Its second line starts with "=" or "-" (a setext heading's underline)."""
    end = block.find("\n")
    return end >= 0 and block[end + 1:end + 2] in ("=", "-")


_RULE_START = re.compile(r"\n {0,3}[-_*]")  # a line that may start a thematic break


def _rule_like(block: str) -> bool:
    """Some line starts (after up to three spaces) with "-", "_" or "*"."""
    return block[:4].lstrip(" ")[:1] in ("-", "_", "*") or _RULE_START.search(block) is not None


# Python-Markdown tests each block with the block processors in turn, most by a regular
# expression that looks for its mark at the start of any line, trying every position of a
# paragraph. A block without the mark anywhere cannot pass: it is not tried (the same result
# at string-search speed: ~15% of converting a post). (block processor, what a block needs)
_BLOCK_NEEDS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("hashheader", lambda block: block.startswith("#") or "\n#" in block),
    ("setextheader", _underlined),
    ("hr", _rule_like),
    ("deflist", lambda block: ": " in block),
    ("quote", lambda block: ">" in block),
)


def _quick_test(test: Callable[[Any, str], bool], needs: Callable[[str], bool]
                ) -> Callable[[Any, str], bool]:
    """A block processor's ``test``, tried only on a block that has what it needs. A plain
    function (not an object with ``__call__``): it is called ~100 times a post. Its
    ``skipped`` counts the blocks not tried (tests check the shortcut is in use)."""
    skipped = [0]

    def quick(parent: Any, block: str) -> bool:
        if needs(block):
            return test(parent, block)
        skipped[0] += 1
        return False

    quick.skipped = skipped  # type: ignore[attr-defined]
    return quick


def _extensions() -> list[markdown.Extension]:
    """extra, sane_lists and toc, as objects: named, Python-Markdown would first look
    through every installed package's entry points (~25 ms in each process). ``extra`` names
    the extensions it stands for, so they are made here from its list, in its order."""
    return [*(importlib.import_module(f"markdown.extensions.{name}").makeExtension()
              for name in extra.extensions),
            SaneListExtension(), TocExtension(slugify=slugify_unicode, toc_depth="2-4")]


def _no_toc_div(_tokens: object) -> ET.Element:
    return ET.Element("div")


def _registry(md: markdown.Markdown, kind: str) -> Any:
    return {"inline": md.inlinePatterns, "block": md.parser.blockprocessors,
            "pre": md.preprocessors, "post": md.postprocessors}.get(kind, md.treeprocessors)


class Markup:
    """A reusable Markdown converter for one content folder (make one per process)."""

    def __init__(self, content_dir: Path) -> None:
        self._content_dir = content_dir
        self._state = _DocState()
        self._converters: dict[frozenset[tuple[str, str]], markdown.Markdown] = {}
        self._by_absent: dict[int, markdown.Markdown] = {}  # the same, by the marks absent
        self._marks = tuple(sorted({mark for _, _, marks in _MARKS for mark in marks}))

    def _converter(self, body: str) -> markdown.Markdown:
        """A converter with only the steps whose marks occur in ``body``."""
        # Each mark is looked for once (several steps share one), as one bit of a number:
        # 35 µs a post instead of 74.
        absent = 0
        for bit, mark in enumerate(self._marks):
            if mark not in body:
                absent |= 1 << bit
        md = self._by_absent.get(absent)
        if md is None:
            if len(self._by_absent) >= 1 << 12:
                self._by_absent.clear()
            md = self._by_absent[absent] = self._made(frozenset(
                (kind, name) for kind, name, marks in _MARKS
                if all(absent >> self._marks.index(mark) & 1 for mark in marks)))
        return md

    def _made(self, unused: frozenset[tuple[str, str]]) -> markdown.Markdown:
        """The converter without the steps ``unused``, made on first use."""
        md = self._converters.get(unused)
        if md is None and len(self._converters) >= _CONVERTERS:
            unused = frozenset()  # an unusual mix of marks: the converter with every step
            md = self._converters.get(unused)
        if md is None:
            md = markdown.Markdown(extensions=_extensions(), output_format="html")
            for kind, name in unused:
                if kind == "toc-marker":  # headings still get their ids
                    toc = md.treeprocessors[name]
                    assert isinstance(toc, TocTreeprocessor)
                    toc.marker = ""
                    # With no marker the table's HTML goes nowhere (``toc_tokens`` are read):
                    # an empty one spares building and serialising it for every body.
                    toc.build_toc_div = _no_toc_div  # type: ignore[method-assign,assignment]
                else:
                    _registry(md, kind).deregister(name, strict=False)
            for name, needs in _BLOCK_NEEDS:
                if name in md.parser.blockprocessors:
                    processor = md.parser.blockprocessors[name]
                    processor.test = _quick_test(  # type: ignore[method-assign,assignment]
                        processor.test, needs)
            md.treeprocessors.register(_QuickInline(md), "inline", 20)
            md.treeprocessors.register(_SiteTree(md, self._content_dir, self._state),
                                       "microsite", 15)  # after inline (20), before toc (5)
            self._converters[unused] = md
        return md

    def render(self, body: str, source: PurePosixPath) -> Rendered:
        """Convert one body; ``source`` is the file's path under content/."""
        self._state.source = source
        self._state.body = body
        self._state.quotes.clear()
        self._state.problems.clear()
        self._state.deps.clear()
        self._state.sources.clear()
        md = self._converter(body)
        md.reset()
        html = md.convert(body)
        tokens = getattr(md, "toc_tokens", [])
        return Rendered(
            html=html,
            quotes=tuple(self._state.quotes),
            headings=tuple(_flatten(tokens)),
            problems=tuple(self._state.problems),
            deps=tuple(sorted(self._state.deps)),
            sources=tuple(self._state.sources),
        )


def _flatten(tokens: list[dict[str, object]]) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    for token in tokens:
        out.append((int(str(token["level"])), str(token["id"]), str(token["name"])))
        children = token.get("children")
        if isinstance(children, list):
            out.extend(_flatten(children))
    return out
