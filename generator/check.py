"""``microsite check``: what is wrong in the writers' words, before they publish.

It runs the build's own stages up to the plan (config, front matter, Markdown, site,
sharing), without rendering pages or drawing cards and without touching ``output/`` (it
reads and refreshes only the build's caches in ``.cache/``), then runs each check in
:data:`CHECKS` over the result. A check is a typed callable
``CheckContext -> Iterable[Problem]``; add one by passing a longer tuple to
:func:`check_site`.

Check is stricter than the build: where a check reports an error on the very line the
build only warned about (an ``image`` without ``image_alt``, a hand-written tweet over
280), the build's warning is dropped in favour of the error.
"""

from __future__ import annotations

import difflib
import logging
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from PIL import Image, UnidentifiedImageError

from .build import clashes, image_sizes, plan, render_bodies
from .cache import MarkupCache, read_markdown
from .config import SiteConfig, load_config
from .content import Post, discover, load_posts
from .embeds import load_embeds
from .errors import BuildError, Problem, warning
from .markup import SITE, SOURCE
from .render import theme_dirs
from .schedule import cadence_warnings
from .sharing import Share, share_site
from .sharing import problems as sharing_problems
from .site import Site, build_site, published
from .tweetcount import MAX_WEIGHTED_LENGTH
from .urls import output_file
from .workers import cpu_count, wait_for_background

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 500_000
MAX_IMAGE_PIXELS = 4_000_000
RESIZE_HINT = "resize to 1600 pixels wide and save as JPEG quality 80, about 200 KB"
_VAGUE_ALT = frozenset({
    "image", "img", "photo", "picture", "pic", "photograph", "graphic", "illustration",
    "screenshot", "logo", "banner", "untitled", "alt", "alt text", "placeholder",
    "imagen", "foto", "fotografía", "fotografia", "ilustración", "ilustracion", "gráfico"})
_FILE_NAME = re.compile(r"^[\w.\- ]+\.(?:jpe?g|png|gif|webp|avif|svg|heic|tiff?|bmp)$", re.I)
_CAMERA_NAME = re.compile(r"^(?:img|dsc[nf]?|pxl|dcim|photo|image|screenshot)[\s_-]*\d", re.I)
_VAGUE_LINK = frozenset({
    "click here", "here", "read more", "this link", "link", "more", "click",
    "haga clic aquí", "haga click aquí", "haga clic aqui", "clic aquí", "clic aqui", "aquí",
    "aqui", "leer más", "leer mas", "más", "este enlace", "enlace"})
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}
_ATX = re.compile(r"^(?:>\s?)*(#{1,6})(.*)$")
_SETEXT = re.compile(r"^(?:>\s?)*(=+|-+)\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_WORDS = re.compile(r"\W+")


@dataclass(frozen=True, slots=True)
class LinkAt:
    href: str  # as markup resolved it: site:…, site-src:….md#…, #…, or external
    text: str
    has_image: bool
    line: int | None  # in the Markdown file


@dataclass(frozen=True, slots=True)
class ImageAt:
    src: str
    alt: str
    line: int | None


@dataclass(frozen=True, slots=True)
class HeadingAt:
    level: int  # in the page, after the build's shift (the body starts at h2)
    source_level: int | None  # the number of '#' the writer typed (setext: 1 or 2)
    id: str
    text: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Body:
    """What one rendered body holds, each piece with its line in the Markdown file."""

    links: tuple[LinkAt, ...] = ()
    images: tuple[ImageAt, ...] = ()
    headings: tuple[HeadingAt, ...] = ()
    ids: frozenset[str] = frozenset()  # every anchor a #link can land on


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Everything the checks look at, made once by the build's own stages."""

    cfg: SiteConfig
    now: datetime
    posts: tuple[Post, ...]  # every post and page that parsed, drafts and scheduled too
    site: Site  # what is checked (by default with drafts and scheduled posts)
    bodies: Mapping[PurePosixPath, Body]  # by Post.rel, for every article of the site
    shares: Mapping[str, Share]  # by site path
    outputs: frozenset[str]  # every site path a build writes, and its file's path


Check = Callable[[CheckContext], Iterable[Problem]]


@dataclass(frozen=True, slots=True)
class CheckReport:
    problems: tuple[Problem, ...]  # by file and line
    files: int  # site.yaml and every Markdown file
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def summary(self) -> str:
        """``3 errors, 2 warnings in 24 files.``"""
        def n(count: int, word: str) -> str:
            return f"{count} {word}{'s' * (count != 1)}"
        return (f"{n(self.errors, 'error')}, {n(len(self.problems) - self.errors, 'warning')} "
                f"in {n(self.files, 'file')}.")


# -- reading rendered bodies ------------------------------------------------------------

class _Collector(HTMLParser):
    """Links, images, headings and anchors of a rendered body, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, list[str], list[bool]]] = []  # href, text, has an image
        self.images: list[tuple[str, str]] = []
        self.headings: list[tuple[int, str, list[str]]] = []
        self.ids: set[str] = set()
        self._link: list[str] | None = None  # the text of the open link, heading
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.ids.update(v for k, v in a.items() if k in ("id", "name") and v)
        if tag == "a" and "href" in a:
            self.links.append((a["href"], [], [False]))
            self._link = self.links[-1][1]
        elif tag in _HEADING_TAGS:
            self.headings.append((_HEADING_TAGS[tag], a.get("id", ""), []))
            self._heading = self.headings[-1][2]
        elif tag == "img":
            self.images.append((a.get("src", ""), a.get("alt", "")))
            if self._link is not None:
                self.links[-1][2][0] = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._link = None
        elif tag in _HEADING_TAGS:
            self._heading = None

    def handle_data(self, data: str) -> None:
        for text in (self._link, self._heading):
            if text is not None:
                text.append(data)


def _words(text: str) -> str:
    return _WORDS.sub("", text).casefold()


def _heading_lines(body: str) -> list[tuple[int, int, str]]:
    """(0-based line, level, text) of each line that may be a heading, outside code fences."""
    lines = body.split("\n")
    found = []
    fence = ""
    for index, line in enumerate(lines):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
        elif atx := _ATX.match(line):
            found.append((index, len(atx.group(1)), atx.group(2)))
        elif index + 1 < len(lines) and line.strip() and (under := _SETEXT.match(lines[index + 1])):
            found.append((index, 1 if under.group(1)[0] == "=" else 2, line))
    return found


def read_body(html: str, body: str, body_line: int) -> Body:
    """Parse a rendered body and find where each link, image and heading was written."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    used: dict[str, int] = {}

    def line_of(*needles: str) -> int | None:
        # The n-th element written the same way is the n-th occurrence of its needle.
        for needle in filter(None, needles):
            at = body.find(needle, used.get(needle, 0))
            if at < 0 and needle in used:
                at = body.rfind(needle)
            if at >= 0:
                used[needle] = at + 1
                return body_line + body.count("\n", 0, at)
        return None

    links = []
    for href, parts, image in collector.links:
        text = " ".join("".join(parts).split())
        links.append(LinkAt(href, text, image[0], line_of(*_needles(href), f"[{text}]")))
    images = tuple(ImageAt(src, alt, line_of(*_needles(src), f"![{alt}]"))
                   for src, alt in collector.images)
    candidates = _heading_lines(body)
    headings = []
    for level, anchor, parts in collector.headings:
        text = " ".join("".join(parts).split())
        match = next((c for c in candidates if _words(text) in _words(c[2])), None)
        if match is not None:
            candidates = candidates[candidates.index(match) + 1:]
        headings.append(HeadingAt(
            level, match[1] if match else None, anchor, text,
            body_line + match[0] if match else line_of(text)))
    return Body(tuple(links), images, tuple(headings), frozenset(collector.ids))


def _needles(href: str) -> tuple[str, ...]:
    """Ways the writer may have typed a link that markup resolved to ``href``."""
    if href.startswith("#"):
        return (f"({href}", href)
    for prefix in (SOURCE, SITE):
        if href.startswith(prefix):
            path, _, fragment = href.removeprefix(prefix).partition("#")
            tail = f"#{fragment}" if fragment else ""
            return (path + tail, PurePosixPath(path).name + tail) if path else ()
    return (href,)


# -- the checks ---------------------------------------------------------------------------

def _vague_alt(alt: str, image: str) -> str:
    """Why ``alt`` says nothing about the picture ("" when it may)."""
    text = alt.strip()
    folded = text.casefold().strip(" .!:")
    name = PurePosixPath(image).name.casefold()
    if len(text) < 3:
        return "it is too short"
    if folded in _VAGUE_ALT:
        return "it only says that it is a picture"
    if folded in (name, name.rsplit(".", 1)[0]) or _FILE_NAME.match(text) \
            or _CAMERA_NAME.match(text):
        return "it is a file name"
    return ""


def check_image_alt(ctx: CheckContext) -> Iterator[Problem]:
    """``image:`` without a real ``image_alt`` (an error), body images without alt text."""
    for article in ctx.site.articles:
        post = article.post
        if post.image and not post.image_alt:
            yield Problem(post.source, post.line("image"),
                          f"'image' {post.image} has no 'image_alt'; describe the picture for "
                          "readers who use screen readers, like image_alt: Two students "
                          "reading in the library (a build only warns about this; check "
                          "counts it as an error)")
        elif post.image and (why := _vague_alt(post.image_alt, post.image)):
            yield Problem(post.source, post.line("image_alt"),
                          f"'image_alt' \"{post.image_alt}\" does not describe the picture: "
                          f"{why}; say what it shows, like image_alt: Two students reading "
                          "in the library (check counts this as an error)")
        for image in ctx.bodies[post.rel].images:
            name = image.src.removeprefix(SITE)
            if not image.alt.strip():
                yield warning(post.source, image.line,
                              f"image {name} has no alt text; describe it between the "
                              f"brackets, like ![Two students reading in the library]({name}), "
                              "so screen-reader users know what it shows")
            elif why := _vague_alt(image.alt, name):
                yield warning(post.source, image.line,
                              f"image {name} has the alt text \"{image.alt}\", which does not "
                              f"describe it: {why}; say what the picture shows")


def _file_of(cfg: SiteConfig, src: str) -> Path | None:
    """The content file behind a site-path image, when there is one."""
    if not src.startswith(SITE):
        return None
    rel = src.removeprefix(SITE).partition("#")[0]
    for path in (cfg.content_dir / rel, cfg.content_dir / "static" / rel):
        if path.is_file():
            return path
    return None


def _weight(path: Path) -> str:
    """``(2.4 MB, 4032×3024 pixels)`` when the image is too heavy, else ""."""
    size = path.stat().st_size
    try:
        with Image.open(path) as opened:
            width, height = opened.size
    except (OSError, UnidentifiedImageError):
        width = height = 0
    if size <= MAX_IMAGE_BYTES and width * height <= MAX_IMAGE_PIXELS:
        return ""
    shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{round(size / 1e3)} KB"
    return f"({shown}, {width}×{height} pixels)" if width else f"({shown})"


def check_image_weight(ctx: CheckContext) -> Iterator[Problem]:
    """Images over 500 KB or 4 megapixels."""
    weights: dict[Path, str] = {}
    for article in ctx.site.articles:
        post = article.post
        used: list[tuple[str, int | None]] = [(post.image, post.line("image"))] \
            if post.image else []
        used += [(image.src.removeprefix(SITE), image.line)
                 for image in ctx.bodies[post.rel].images if image.src.startswith(SITE)]
        for rel, line in used:
            path = _file_of(ctx.cfg, SITE + rel)
            if path is None:
                continue
            if path not in weights:
                weights[path] = _weight(path)
            if weights[path]:
                yield warning(post.source, line,
                              f"image {rel} is heavy {weights[path]} and will load slowly on "
                              f"phones; {RESIZE_HINT}")


def _anchor_hint(fragment: str, body: Body) -> str:
    anchors = [h.id for h in body.headings if h.id]
    close = difflib.get_close_matches(fragment, anchors, n=1, cutoff=0.6)
    if close:
        return f"did you mean #{close[0]}?"
    if not anchors:
        return "it has no headings at all"
    listed = ", ".join(f"#{a}" for a in anchors[:6])
    return f"its headings' anchors are {listed}{', …' if len(anchors) > 6 else ''}"


def _nowhere(ctx: CheckContext, path: str) -> tuple[str, str]:
    """(the address as written, why nothing is there) for a site path; ("", "") when found."""
    target = path.partition("#")[0]
    if target in ctx.outputs or f"{target}/" in ctx.outputs:
        return "", ""
    content = ctx.cfg.content_dir.name
    rest = target.removeprefix("static/")
    if target.startswith("static/") and rest in ctx.outputs:
        return target, (f"files in {content}/static/ are published at the top of the site; "
                        f"write /{rest}")
    if (ctx.cfg.content_dir / target).is_file():
        return target, (f"it is in {content}/, but only {content}/images/ and "
                        f"{content}/static/ are published; move it into one of them")
    return f"/{target}", ("the site has no page or file there; link to a post by its file, "
                          "like posts/2024-05-01-first.md, or put the file in "
                          f"{content}/images/ or {content}/static/")


def _too_early(ctx: CheckContext, post: Post, target: Post, rel: str) -> str:
    """Why linking ``post`` to ``target`` will stop a build ("" when it will not)."""
    if post.draft:
        return ""
    if target.draft:
        return (f"the link to {rel} points at a draft, so a build without drafts stops "
                f"here; publish {rel} first (remove 'draft: true') or take out the link")
    goes_up = max(ctx.now, post.date or ctx.now)
    if target.date is not None and target.date > goes_up:
        return (f"the link to {rel} points at a post scheduled for "
                f"{target.date:%Y-%m-%d %H:%M}, after this {post.kind} goes up, so builds "
                f"until then stop here; date this {post.kind} on or after it, or take out "
                "the link")
    return ""


def check_links(ctx: CheckContext) -> Iterator[Problem]:
    """Links and images to nothing on the site; #anchors to headings that do not exist."""
    by_rel = {str(a.post.rel): a for a in ctx.site.articles}
    by_url = {a.url: a for a in ctx.site.articles}
    for article in ctx.site.articles:
        post = article.post
        body = ctx.bodies[post.rel]
        for link in body.links:
            href = link.href
            if href.startswith(SOURCE):
                rel, _, fragment = href.removeprefix(SOURCE).partition("#")
                target = by_rel.get(rel)
                if target is None:  # not on the site: the build says so
                    continue
                if why := _too_early(ctx, post, target.post, rel):
                    yield Problem(post.source, link.line, why)
            elif href.startswith(SITE):
                path, _, fragment = href.removeprefix(SITE).partition("#")
                shown, why = _nowhere(ctx, path)
                if why:
                    yield Problem(post.source, link.line,
                                  f"the link to {shown} goes nowhere: {why}")
                    continue
                rel, target = f"/{path}", by_url.get(path) or by_url.get(f"{path}/")
                if target is None:
                    continue
            elif href.startswith("#"):
                rel, fragment, target = "", href[1:], article
            else:
                continue
            anchors = ctx.bodies[target.post.rel]
            if fragment and fragment != "top" and fragment not in anchors.ids:
                which = f"that {target.post.kind}" if rel else f"this {post.kind}"
                yield Problem(post.source, link.line,
                              f"the link to {rel}#{fragment} goes nowhere: {which} has no "
                              f"heading with that anchor; {_anchor_hint(fragment, anchors)}")
        for image in body.images:
            shown, why = _nowhere(ctx, image.src.removeprefix(SITE)) \
                if image.src.startswith(SITE) else ("", "")
            if why:
                yield Problem(post.source, image.line, f"the image {shown} will not show: {why}")


def check_link_text(ctx: CheckContext) -> Iterator[Problem]:
    """Links whose words do not say where they go ("click here", "aquí")."""
    for article in ctx.site.articles:
        post = article.post
        for link in ctx.bodies[post.rel].links:
            if link.has_image:
                continue
            words = link.text.casefold().strip(" .:!…»→")
            if not words:
                where = link.href.removeprefix(SOURCE).removeprefix(SITE)
                yield warning(post.source, link.line,
                              f"the link to {where} has no words, so "
                              "screen readers read out its address; write what it leads to "
                              "between the brackets")
            elif words in _VAGUE_LINK:
                yield warning(post.source, link.line,
                              f"the link text \"{link.text}\" does not say where the link "
                              "goes; screen-reader users often hear links on their own, so "
                              "describe where it leads, like [the spring training dates](…)")


def check_headings(ctx: CheckContext) -> Iterator[Problem]:
    """Heading levels that skip one (## then ####), which breaks a page's outline."""
    for article in ctx.site.articles:
        post = article.post
        # The build mends the outline for readers; speak in the '#'s the writer typed.
        typed = [h for h in ctx.bodies[post.rel].headings if h.source_level is not None]
        previous = min((h.source_level or 2 for h in typed), default=2) - 1
        for heading in typed:
            level = heading.source_level or 2
            if level > previous + 1:
                wanted = "#" * (previous + 1)
                after = f"after a {'#' * previous} heading" if previous >= 1 and heading \
                    is not typed[0] else f"before any {wanted} heading"
                yield warning(post.source, heading.line,
                              f"the heading \"{heading.text}\" is {'#' * level} {after}, "
                              f"skipping a level; make it {wanted} (screen-reader users find "
                              "their way around a page by its heading levels)")
            previous = level


def check_tweets(ctx: CheckContext) -> Iterator[Problem]:
    """A hand-written tweet over 280 as X counts it: an error here (the build warns)."""
    for article in ctx.site.articles:
        share = ctx.shares.get(article.url)
        length = share.tweet.handwritten_length if share else None
        if length is not None and length > MAX_WEIGHTED_LENGTH:
            post = article.post
            yield Problem(post.source, post.line("tweet"),
                          f"'tweet' is {length}/{MAX_WEIGHTED_LENGTH} as X counts it (with the "
                          "link, hashtags and via), so the share link would cut it short "
                          f"with …; make it {length - MAX_WEIGHTED_LENGTH} characters shorter "
                          "(a build only warns about this; check counts it as an error)")


def check_summary(ctx: CheckContext) -> Iterator[Problem]:
    """Posts without a summary."""
    for article in ctx.site.articles:
        post = article.post
        if post.kind == "post" and not post.summary:
            yield warning(post.source, post.line("title"),
                          "this post has no 'summary'; add one or two sentences, like "
                          "summary: What happened and why it matters, for listings, feeds "
                          "and share previews")


def check_cadence(ctx: CheckContext) -> Iterable[Problem]:
    """Campaigns that cannot reach their daily goal for the next week (see ``plan``)."""
    return cadence_warnings(ctx.site, ctx.shares, ctx.now)


CHECKS: tuple[Check, ...] = (check_image_alt, check_image_weight, check_links,
                             check_link_text, check_headings, check_tweets, check_summary,
                             check_cadence)


# -- running ------------------------------------------------------------------------------

def _order(build: Sequence[Problem], found: Sequence[Problem]) -> tuple[Problem, ...]:
    """Every problem once, by file and line; a check's error replaces a build warning."""
    stricter = {(p.path, p.line) for p in found if p.is_error}
    kept = [p for p in build if p.is_error or (p.path, p.line) not in stricter]
    unique = dict.fromkeys([*kept, *found])
    return tuple(sorted(unique, key=lambda p: (p.path is not None, str(p.path or ""),
                                               p.line or 0)))


def _is_remote(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def check_site(content_dir: Path, *, drafts: bool = True, future: bool = True,
               now: datetime | None = None, cache: bool = True,
               checks: Sequence[Check] = CHECKS) -> CheckReport:
    """Run the build's stages up to the plan, then every check; nothing is written but caches.

    ``drafts`` and ``future``: check drafts and scheduled posts too (the default, since
    writers check before they publish).
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    try:
        cfg = load_config(content_dir)
    except BuildError as exc:
        return CheckReport(exc.problems, 1, time.perf_counter() - started)
    files = 1 + sum(1 for _ in discover(cfg.content_dir))
    cache_dir = cfg.content_dir.resolve().parent / ".cache" if cache else None  # the build's
    posts, problems = load_posts(cfg)
    kept, _ = published(posts, now, drafts=drafts, future=future)
    # Feeds on the web are the build's business (they need the network); files are read.
    embeds = load_embeds([f for f in cfg.feeds if not _is_remote(f.url)],
                         content_dir=cfg.content_dir,
                         cache_dir=(cache_dir or cfg.content_dir) / "feeds", offline=True,
                         clock=lambda: now)
    problems.extend(embeds.problems)
    processes = cpu_count()
    with tempfile.TemporaryDirectory() as scratch:  # for rendered bodies, without the cache
        markup = MarkupCache(cache_dir or Path(scratch), cfg.content_dir)
        rendered = render_bodies(kept, markup, processes)
        bodies = {a.rel: read_body(a.html, read_markdown(a.source) or "", post.body_line)
                  for post in kept if (a := rendered.get(post.rel)) is not None}
    site, site_problems = build_site(cfg, kept, rendered, now, future=future)
    problems.extend(site_problems)
    shares = share_site(site, cache_dir, processes)
    wait_for_background()  # the share cache, saved meanwhile
    problems.extend(sharing_problems(site, shares))
    jobs = plan(site, theme_dirs(cfg), sizes=image_sizes(cfg, kept), embeds=embeds.feeds,
                shares=shares)
    problems.extend(clashes(jobs))
    outputs = frozenset({job.path for job in jobs} | {str(output_file(j.path)) for j in jobs})
    bodies = {a.post.rel: bodies[a.post.rel] for a in site.articles}
    ctx = CheckContext(cfg, now, posts, site, bodies, shares, outputs)
    found = [problem for run in checks for problem in run(ctx)]
    report = CheckReport(_order(problems, found), files, time.perf_counter() - started)
    log.debug("checked %s files in %.2f s", files, report.seconds)
    return report
