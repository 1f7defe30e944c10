"""The one orchestrator: config → content → markup → site → plan → render → write → report.

Rebuilds are incremental: Markdown is cached on disk by content hash (:mod:`cache`), and an
output whose job digest matches the previous build's is reused rather than rendered again
(:mod:`incremental`). The result is byte-identical to a clean build either way.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import logging
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from PIL import Image, UnidentifiedImageError

from .cache import (
    Body,
    MarkupCache,
    changed_meanwhile,
    markup_key,
    read_markdown,
    without_html,
)
from .cards import CardCache, CardSpec, card_key, draw_ahead
from .config import SiteConfig, load_config
from .content import Post, load_posts
from .embeds import EmbedFeed, EmbedResult, FeedMemo, load_embeds
from .errors import BuildError, Problem, Severity, raise_if_errors, warning
from .feeds import render_feed
from .incremental import (
    Fingerprints,
    Interner,
    JobDigests,
    input_stamp,
    site_salt,
    template_salts,
)
from .jobs import Job, Planner
from .markup import Rendered
from .output import SiteWriter, cards_folder, first_build, move_or_put, put, tidy
from .render import Catalogue, compile_templates, make_environment, render_page, theme_dirs
from .sharing import Share, share_site
from .sharing import problems as sharing_problems
from .site import Site, SiteMemo, build_site, published, refresh_site, remember_site
from .source import stat_signature
from .urls import output_file
from .workers import (
    alongside,
    cpu_count,
    map_shared,
    map_slices,
    processes_for,
    wait_for_background,
)

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
DIGESTS_PER_PROCESS = 1000  # fewer jobs are digested in one process (forking costs more)
AHEAD_MINIMUM = 200  # posts from which a first build has a helper draw the cards ahead
WRITES_PER_PROCESS = 150  # fewer files are made in one process
WRITE_CHUNKS = 24  # per process: ~50 files each at 1000 posts, taken by whichever is free


@dataclass(frozen=True, slots=True)
class BuildOptions:
    content_dir: Path
    output_dir: Path
    base_url: str | None = None
    drafts: bool = False
    future: bool = False
    strict: bool = False
    offline: bool = False
    processes: int = 0  # 0: every core
    cache: bool = True  # reuse .cache/ (rendered Markdown, unchanged outputs)
    live: bool = False  # a preview for `serve`: pages load assets/live.js

    @property
    def cache_dir(self) -> Path:
        """``.cache/`` beside the content folder (git-ignored)."""
        return self.content_dir.resolve().parent / ".cache"


@dataclass(slots=True)
class BuildState:
    """What a long-running preview keeps between builds, so a rebuild redoes only what a
    change affects: parsed files, rendered Markdown, share texts and digests, in memory."""

    parsed: dict[str, Any] = field(default_factory=dict)
    bodies: dict[str, Any] = field(default_factory=dict)
    # One rendered-Markdown cache for every build (the bodies above keep it as their keeper:
    # a new one each build would keep each one alive, with its connection to the store).
    markup: MarkupCache | None = None
    shares: dict[str, Share] = field(default_factory=dict)
    prints: Fingerprints = field(default_factory=lambda: Fingerprints(remember=True))
    # The Jinja environment (compiled templates) and template salts, while neither the
    # site salt nor any template file changes.
    templates: tuple[str, jinja2.Environment, dict[str, str]] | None = None
    site: SiteMemo | None = None  # the last site, when only bodies may have changed since
    intern: Interner = field(default_factory=Interner)  # records keep their identity
    jobs: JobDigests = field(default_factory=JobDigests)  # digests by what jobs are made of
    planned: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # post and page jobs
    share_keys: dict[str, tuple[object, ...]] = field(default_factory=dict)  # see share_site
    feeds: FeedMemo = field(default_factory=FeedMemo)  # remote feeds' recent answers


@dataclass(frozen=True, slots=True)
class BuildReport:
    written: int
    rendered: int
    reused: int
    seconds: float
    posts: int
    scheduled: int
    warnings: tuple[Problem, ...] = field(default=())
    output_dir: Path = Path()
    rendered_paths: tuple[str, ...] = ()  # site paths rendered (not reused) this time


def _copies(cfg: SiteConfig, themes: Sequence[Path]) -> Iterator[Job]:
    """Theme assets under ``assets/``, ``content/images/`` and ``content/static/`` as they are."""
    seen: set[str] = set()
    for theme in themes:  # the overriding theme first; it wins
        yield from _tree(theme / "static", "assets/", seen, f"theme {theme.name}")
    yield from _tree(cfg.content_dir / "images", "images/", seen, "content/images")
    yield from _tree(cfg.content_dir / "static", "", seen, "content/static")


def _tree(root: Path, prefix: str, seen: set[str], origin: str) -> Iterator[Job]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            site_path = prefix + path.relative_to(root).as_posix()
            if site_path not in seen:
                seen.add(site_path)
                yield Job(site_path, "copy", f"{origin}/{path.relative_to(root).as_posix()}",
                          source=path, digest_extra=stat_signature(path))


def _render_new(cache: MarkupCache) -> Callable[[Sequence[tuple[Post, str]]], None]:
    """Render the bodies of posts just parsed, unless cached already, and keep them in
    ``cache`` (in the worker that parsed them, while the Markdown is at hand)."""
    def run(parsed: Sequence[tuple[Post, str]]) -> None:
        missing = set(cache.missing([post.body_key for post, _ in parsed]))
        todo = [(post, body) for post, body in parsed if post.body_key in missing]
        if todo:
            markup = cache.markup()
            cache.put_many((post.body_key, post.source, post.rel, markup.render(body, post.rel))
                           for post, body in todo)
    return run


def _render_slice(cache: MarkupCache) -> Callable[[Sequence[Post]], list[tuple[str, Rendered]]]:
    """Render bodies, read again from their files, into ``cache``; for each, the HTML's
    digest and the rest (the HTML stays in the cache)."""
    def run(posts: Sequence[Post]) -> list[tuple[str, Rendered]]:
        markup = cache.markup()
        entries = []
        for post in posts:
            text = read_markdown(post.source)
            if text is None or markup_key(post.rel, text) != post.body_key:
                raise changed_meanwhile(post.source)
            entries.append((post.body_key, post.source, post.rel, markup.render(text, post.rel)))
        cache.put_many(entries)
        return [without_html(rendered) for *_, rendered in entries]
    return run


def render_bodies(posts: Sequence[Post], cache: MarkupCache,
                  processes: int) -> dict[PurePosixPath, Body]:
    """Every post's rendered body: from the cache when its text is unchanged."""
    keys = [post.body_key for post in posts]
    found = cache.get_many(keys, [(post.source, post.rel) for post in posts])
    todo = [post for post in posts if post.body_key not in found]
    fresh = map_slices(_render_slice(cache), todo, processes, minimum=40)
    for post, (digest, rendered) in zip(todo, fresh, strict=True):
        found[post.body_key] = cache.adopt(post.body_key, digest, post.source, post.rel,
                                           rendered)
    return {post.rel: found[post.body_key] for post in posts}


def image_sizes(cfg: SiteConfig, posts: Sequence[Post]) -> dict[str, tuple[int, int]]:
    """Width and height of each post's main image (for layout and share tags)."""
    sizes = {}
    for image in sorted({p.image for p in posts if p.image}):
        try:
            with Image.open(cfg.content_dir / image) as opened:
                sizes[image] = opened.size
        except (OSError, UnidentifiedImageError):
            continue
    return sizes


def plan(site: Site, themes: Sequence[Path], *, live: bool = False,
         sizes: Mapping[str, tuple[int, int]] | None = None,
         embeds: Mapping[str, EmbedFeed] | None = None,
         shares: Mapping[str, Share] | None = None,
         catalogue: Catalogue | None = None, intern: Interner | None = None,
         planned: dict[str, tuple[Any, ...]] | None = None) -> list[Job]:
    """Every job of the site. A preview passes ``intern`` and ``planned`` (its last build's
    post and page jobs, replaced by this build's) to reuse what did not change."""
    planner = Planner(site, {"live": live}, image_sizes=sizes, embeds=embeds, shares=shares,
                      catalogue=catalogue or Catalogue.load(themes), intern=intern,
                      previous=dict(planned) if planned else None)
    jobs = list(planner.jobs())
    if planned is not None:
        planned.clear()
        planned.update(planner.planned)
    jobs.extend(planner.site_files([j for j in jobs if j.kind == "page"]))
    jobs.extend(planner.card_jobs())
    jobs.extend(_copies(site.cfg, themes))
    return jobs


def clashes(jobs: Sequence[Job]) -> list[Problem]:
    owners: dict[PurePosixPath, Job] = {}
    problems = []
    for job in jobs:
        target = output_file(job.path)
        first = owners.setdefault(target, job)
        if first is not job:
            problems.append(Problem(None, None, f"{job.origin} and {first.origin} would both "
                                                f"write {target}; rename one of them"))
    return problems


def make_output(job: Job, env: jinja2.Environment, cards: CardCache) -> bytes:
    """The bytes of one output file."""
    if job.kind == "card":
        return cards.get(_card_spec(job))
    if job.kind == "page":
        return render_page(env, job.template, dict(job.context)).encode("utf-8")
    if job.kind == "feed":
        assert job.feed is not None
        return render_feed(env, job.template, job.feed)
    if job.kind == "copy":
        assert job.source is not None
        return job.source.read_bytes()
    return job.data


def _template_location(exc: BaseException) -> tuple[Path | None, int | None]:
    """The template file and line an error was raised in (Jinja puts them in the traceback)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".xml", ".txt")) and Path(frame.filename).is_file():
            return Path(frame.filename), frame.lineno
    return None, None


def _write_slice(env: jinja2.Environment, tmp: Path, card_folders: Sequence[Path],
                 digest: Callable[[Job], str] | None = None, new: bool = False,
                 ahead: Path | None = None) -> Callable[[Sequence[Job]], list[str | None]]:
    """Make and write each job; with ``digest``, return the jobs' digests, else None each.
    ``new``: ``tmp`` was empty (see ``put``). ``ahead``: cards drawn there already are
    moved into ``tmp``, not drawn."""
    cards = CardCache(card_folders)  # one per process: its fonts load once

    def run(jobs: Sequence[Job]) -> list[str | None]:
        digests: list[str | None] = []
        for job in jobs:
            target = tmp / output_file(job.path)
            if ahead is not None and job.kind == "card" and _drawn_ahead(job, ahead, target):
                digests.append(digest(job) if digest else None)
                continue
            try:
                data = make_output(job, env, cards)
            except jinja2.TemplateError as exc:
                where, line = _template_location(exc)
                raise BuildError([Problem(where, line, f"template error while making "
                                                       f"{job.path or 'the home page'}: {exc}")]
                                 ) from exc
            put(target, data, new=new)
            digests.append(digest(job) if digest else None)
        return digests
    return run


def _card_spec(job: Job) -> CardSpec:
    """What a card job's card shows (see ``Planner.card_jobs``)."""
    spec = dict(job.context)["spec"]
    assert isinstance(spec, CardSpec)
    return spec


def _drawn_ahead(job: Job, ahead: Path, target: Path) -> bool:
    """Put the card a helper drew into ``ahead`` at ``target``; False if it has not (yet)."""
    return move_or_put(ahead / f"{card_key(_card_spec(job))}.png", target)


def build(options: BuildOptions, *, now: datetime | None = None,
          progress: Progress | None = None, state: BuildState | None = None) -> BuildReport:
    """Build the site into ``options.output_dir``; raise BuildError with every problem.

    ``state`` (for ``serve``) keeps caches in memory from one build to the next.
    """
    # A build makes a great many small records and no reference cycles worth collecting:
    # without the cycle collector it runs a third faster, and forked workers share more
    # memory with the parent (the collector would touch, and so copy, every page).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(options, now=now, progress=progress, state=state)
    finally:
        wait_for_background()  # caches saved meanwhile are complete when the build returns
        if collecting:
            gc.enable()


def _build(options: BuildOptions, *, now: datetime | None, progress: Progress | None,
           state: BuildState | None) -> BuildReport:
    try:
        with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as helpers:
            # Rendered Markdown is kept in a store while the site is built, even without
            # the cache: then in a scratch folder. ``helpers`` stops any helper process
            # (see ``alongside``) before the scratch folder goes.
            return _build_with(options, Path(scratch), helpers, now=now, progress=progress,
                               state=state)
    finally:
        tidy(options.output_dir)  # expired pins, and the folder new trees are made in once empty


def _build_with(options: BuildOptions, scratch: Path, helpers: contextlib.ExitStack, *,
                now: datetime | None, progress: Progress | None,
                state: BuildState | None) -> BuildReport:
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    say = progress or (lambda _message: None)
    processes = options.processes or cpu_count()
    # Resolved, so a relative or absolute --content builds (and caches) the same way.
    cfg = load_config(options.content_dir.resolve(), options.base_url)
    cache = _markup_cache(options, cfg, scratch, state)
    posts, problems = load_posts(cfg, options.cache_dir / "parsed.pickle"
                                 if options.cache else None,
                                 memory=state.parsed if state else None, processes=processes,
                                 then=_render_new(cache))
    raise_if_errors(problems)
    kept, scheduled = published(posts, now, drafts=options.drafts, future=options.future)
    if cfg.feeds:
        say(f"Reading {len(cfg.feeds)} embedded feeds…")
    embeds = _embeds(cfg, options, now, state.feeds if state else None)
    problems.extend(embeds.problems)
    raise_if_errors(problems)
    themes = theme_dirs(cfg)
    salt = site_salt(cfg, themes)
    early = len(problems)
    # Nothing the build reads has changed since output/ was made: nothing to do. (Not for a
    # preview: it builds because a file changed, and its first build warms its memory.)
    stamp = ""
    if options.cache and state is None:
        stamp = input_stamp((salt, options.base_url, options.drafts, options.future,
                             options.strict, options.live, scheduled, _timely(kept, now),
                             tuple(sorted(embeds.feeds.items()))), [cfg.content_dir, *themes])
        recalled = SiteWriter(options.output_dir, options.cache_dir).recall(stamp)
        if recalled is not None:
            return _recalled(options, recalled, problems, scheduled, started)
    say(f"Rendering {len(kept)} posts and pages…")
    bodies = render_bodies(kept, cache, processes)
    # A preview whose last build differed only in bodies puts the new ones into that site.
    site = refresh_site(state.site, cfg, kept, bodies, now, future=options.future) \
        if state else None
    site_problems: list[Problem] = []
    if site is None:
        site, site_problems = build_site(cfg, kept, bodies, now, future=options.future)
        problems.extend(site_problems)
    if state is not None:
        state.site = remember_site(kept, bodies, options.future, site, site_problems)
    raise_if_errors(problems)
    catalogue = Catalogue.load(themes)
    sizes = image_sizes(cfg, kept)
    # A first build draws every card: a helper starts on them now, while this process works
    # out the share texts and the plan (which the cards do not depend on).
    ahead = _ahead(options, helpers, functools.partial(
        _draw_ahead, site, themes, options.live, sizes, embeds.feeds, catalogue)) \
        if state is None and processes > 1 and len(kept) >= AHEAD_MINIMUM else None
    shares = share_site(site, options.cache_dir if options.cache else None, processes,
                        state.shares if state else None, state.share_keys if state else None)
    problems.extend(sharing_problems(site, shares))
    if state is not None:
        state.intern.next_build()
    jobs = plan(site, themes, live=options.live, sizes=sizes,
                intern=state.intern if state else None,
                planned=state.planned if state else None,
                embeds=embeds.feeds, shares=shares, catalogue=catalogue)
    raise_if_errors(clashes(jobs))
    warnings = tuple(p for p in problems if not p.is_error)
    _refuse_warnings(options, warnings)

    # One environment: forked workers inherit it with its strings already loaded.
    env, salts = _environment(cfg, themes, catalogue, salt, state,
                              options.cache_dir / "templates" if options.cache else None)
    shown = sum(len(lang.posts) for lang in site.languages)
    prints = state.prints if state else Fingerprints()
    if state is not None:
        state.jobs.next_build()
    todo = _update(options, env, jobs, salt, salts, prints, say, processes, stamp,
                   {"posts": shown, "warnings": _noted(problems[early:])},
                   state.jobs if state else None, ahead)
    return BuildReport(
        written=len(jobs), rendered=len(todo), reused=len(jobs) - len(todo),
        seconds=time.perf_counter() - started, posts=shown, scheduled=scheduled,
        warnings=warnings, output_dir=options.output_dir,
        rendered_paths=tuple(job.path for job in todo),
    )


def _markup_cache(options: BuildOptions, cfg: SiteConfig, scratch: Path,
                  state: BuildState | None) -> MarkupCache:
    """Where rendered bodies are kept: the cache, or a scratch store for this build alone.
    A preview keeps its one cache, and what it holds, from build to build (not a scratch
    one: that goes with its build)."""
    if state is None or not options.cache:
        return MarkupCache(options.cache_dir if options.cache else scratch, cfg.content_dir)
    kept = state.markup
    if kept is None or kept.store.path.parent != options.cache_dir \
            or kept.content_dir != cfg.content_dir:
        state.bodies.clear()
        kept = state.markup = MarkupCache(options.cache_dir, cfg.content_dir, state.bodies)
    return kept


def _environment(cfg: SiteConfig, themes: Sequence[Path], catalogue: Catalogue, salt: str,
                 state: BuildState | None, code_dir: Path | None
                 ) -> tuple[jinja2.Environment, dict[str, str]]:
    """The Jinja environment and each template's salt; a preview keeps both (and so its
    compiled templates) from one build to the next while no template file changes.
    ``code_dir``: where compiled templates are kept between builds, if anywhere."""
    if state is None:
        env = make_environment(cfg, themes, catalogue, code_dir)
        return env, template_salts(env)
    h = hashlib.sha256(salt.encode())
    for theme in themes:
        for path in sorted((theme / "templates").rglob("*")):
            if path.is_file():
                h.update(f"{path}\0".encode())
                h.update(path.read_bytes())
    key = h.hexdigest()
    if state.templates is None or state.templates[0] != key:
        env = make_environment(cfg, themes, catalogue, code_dir)
        state.templates = (key, env, template_salts(env))
    return state.templates[1], state.templates[2]


def _digest(job: Job, salt: str, prints: Fingerprints, known: JobDigests | None) -> str:
    """The job's digest; a preview finds most of them again by what the job is made of."""
    if known is None:
        return job.digest(salt, prints)
    same = known.get((id(job), salt))  # the very job of a previous build (see Planner)
    if same is not None and same[0] is job:
        return str(same[1])
    key = known.key(job, salt)
    digest: str | None = known.get(key)
    if digest is None:
        digest = job.digest(salt, prints)
        known.remember(key, job, digest)
    known.put((id(job), salt), (job, digest))
    return digest


def _update(options: BuildOptions, env: jinja2.Environment, jobs: Sequence[Job], salt: str,
            salts: dict[str, str], prints: Fingerprints, say: Progress, processes: int,
            stamp: str, facts: dict[str, Any], known: JobDigests | None = None,
            ahead: Path | None = None) -> list[Job]:
    """Make the files whose digest changed in a work tree and swap it in; the jobs made.
    ``ahead``: where a helper is drawing cards for a first build (see ``_draw_ahead``)."""
    with tempfile.TemporaryDirectory() as scratch:
        writer = SiteWriter(options.output_dir,
                            options.cache_dir if options.cache else Path(scratch))
        try:
            prints.next_build()

            def digest_of(job: Job) -> str:
                return _digest(job, salt + salts.get(job.template, ""), prints, known)

            if known is None and writer.first:
                # Nothing to compare with: every file is made, and the workers work out
                # the digests (for the next build) as they go.
                todo = list(jobs)
                say(f"Writing {len(todo)} files…")
                for job, digest in _write(options, env, writer.work, todo, processes,
                                          digest_of, new=True, ahead=ahead):
                    writer.expected[output_file(job.path)] = digest
                writer.commit()
            else:
                digests = dict(zip((output_file(job.path) for job in jobs),
                                   _digests(jobs, digest_of, processes, known), strict=True))
                if writer.up_to_date(digests):
                    todo = []
                else:
                    todo = [job for job, (rel, digest) in zip(jobs, digests.items(),
                                                              strict=True)
                            if not writer.unchanged(rel, digest)]
                    say(f"Writing {len(todo)} files ({len(jobs) - len(todo)} unchanged)…")
                    _write(options, env, writer.work, todo, processes)
                    writer.commit()
        except BaseException:
            writer.abort()
            raise
        if stamp:
            writer.note(stamp, facts)
    return todo


def _digests(jobs: Sequence[Job], digest_of: Callable[[Job], str], processes: int,
             known: JobDigests | None) -> list[str]:
    """Every job's digest, to compare with the last build's. A preview finds most of them
    in its memory; a build from the command line works them all out, spread over the
    processes (0.1 ms a job: 2.4 s at 10000 posts in one process)."""
    if known is not None:
        return [digest_of(job) for job in jobs]
    return map_slices(lambda part: [digest_of(job) for job in part], jobs, processes,
                      minimum=DIGESTS_PER_PROCESS)


def _ahead(options: BuildOptions, helpers: contextlib.ExitStack,
           draw: Callable[[Path], None]) -> Path | None:
    """On a first build, start ``draw`` in a helper process (see ``alongside``), stopped
    with ``helpers``; the folder it draws into. None when there is an output already."""
    if not first_build(options.output_dir):
        return None
    folder = cards_folder(options.output_dir)
    helpers.callback(shutil.rmtree, folder, ignore_errors=True)  # after the helper stops
    helpers.enter_context(alongside(functools.partial(draw, folder)))
    return folder


def _draw_ahead(site: Site, themes: Sequence[Path], live: bool,
                sizes: Mapping[str, tuple[int, int]], embeds: Mapping[str, EmbedFeed],
                catalogue: Catalogue, folder: Path) -> None:
    """In a helper process: plan the posts and pages as the build will (share texts play
    no part in their cards) and draw their cards into ``folder``, in the order of their
    paths. The build uses a card found there, by its content hash, and draws any other."""
    planner = Planner(site, {"live": live}, image_sizes=sizes, embeds=embeds,
                      catalogue=catalogue)
    draw_ahead(planner.article_cards(), folder)


def prepare_spare(options: BuildOptions) -> bool:
    """For a preview: bring the spare tree up to ``output/`` now, so the first rebuild
    after a save only writes what the save changed. True if anything was copied."""
    if not options.cache:
        return False
    return SiteWriter(options.output_dir, options.cache_dir).prepare_spare()


def _embeds(cfg: SiteConfig, options: BuildOptions, now: datetime,
            memo: FeedMemo | None) -> EmbedResult:
    with tempfile.TemporaryDirectory() as scratch:
        return load_embeds(cfg.feeds, content_dir=cfg.content_dir,
                           cache_dir=(options.cache_dir if options.cache else Path(scratch))
                           / "feeds", offline=options.offline, strict=options.strict,
                           clock=lambda: now, memo=memo)


def _refuse_warnings(options: BuildOptions, warnings: Sequence[Problem]) -> None:
    """With ``--strict``, every warning stops the build as an error."""
    if options.strict and warnings:
        raise BuildError([Problem(p.path, p.line, p.message, Severity.ERROR) for p in warnings])


def _timely(posts: Sequence[Post], now: datetime) -> tuple[tuple[str, bool], ...]:
    """Each published post with whether it is still in the future (shown only in preview)."""
    return tuple((str(p.rel), p.date is not None and p.date > now) for p in posts)


def _noted(problems: Sequence[Problem]) -> list[list[Any]]:
    return [[None if p.path is None else str(p.path), p.line, p.message]
            for p in problems if not p.is_error]


def _recalled(options: BuildOptions, note: dict[str, Any], problems: list[Problem],
              scheduled: int, started: float) -> BuildReport:
    """The report of a build whose inputs are those ``output/`` was made from: the files
    are all there already, and the warnings of the later stages are the ones noted then."""
    late = [warning(None if path is None else Path(path), line, message)
            for path, line, message in note.get("warnings", [])]
    warnings = tuple(p for p in [*problems, *late] if not p.is_error)
    _refuse_warnings(options, warnings)
    files = int(note["files"])
    return BuildReport(written=files, rendered=0, reused=files,
                       seconds=time.perf_counter() - started, posts=int(note.get("posts", 0)),
                       scheduled=scheduled, warnings=warnings, output_dir=options.output_dir)


def _write(options: BuildOptions, env: jinja2.Environment, work: Path, todo: list[Job],
           processes: int, digest: Callable[[Job], str] | None = None, *, new: bool = False,
           ahead: Path | None = None) -> list[tuple[Job, str]]:
    """Make every file that changed, spread over the processes; with ``digest``, each job
    and its digest (worked out in the processes too). ``new``: ``work`` is a new, empty
    tree, and there is no output/ to find cards in. ``ahead``: the folder a helper is
    drawing cards into, in the order of their paths."""
    # The processes take the jobs in small chunks, in this order, each chunk by whichever is
    # free (a fixed share each left one waiting for the other when the host slowed it).
    # Cards are the slowest jobs: first, so that the last chunks are short ones. With a
    # helper drawing them, they come last instead, from the other end of the helper's
    # order: by then most are drawn, and the two meet at a card or two.
    if ahead is None:
        todo.sort(key=lambda job: job.kind != "card")
    else:
        todo = [job for job in todo if job.kind != "card"] + sorted(
            (job for job in todo if job.kind == "card"), key=lambda job: job.path, reverse=True)
    # Cards are named by their content hash: one already in output/ or in the tree being
    # updated is copied instead of drawn again (without the cache, always drawn).
    folders = [options.output_dir / "cards", work / "cards"] if options.cache and not new \
        else []
    if processes_for(processes, todo, WRITES_PER_PROCESS) > 1:
        compile_templates(env)  # once, before the workers are forked
    digests = map_shared(_write_slice(env, work, folders, digest, new, ahead), todo, processes,
                         minimum=WRITES_PER_PROCESS, chunks=WRITE_CHUNKS)
    return [(job, d) for job, d in zip(todo, digests, strict=True) if d is not None]
