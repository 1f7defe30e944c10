"""The one orchestrator: config → content → markup → site → plan → render → write → report."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from .config import SiteConfig, load_config
from .content import Post, load_posts
from .errors import BuildError, Problem, Severity, raise_if_errors
from .feeds import render_feed
from .jobs import Job, Planner
from .markup import Markup, Rendered
from .output import SiteWriter
from .render import make_environment, render_page, theme_dirs
from .site import Site, build_site, published
from .urls import output_file

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BuildOptions:
    content_dir: Path
    output_dir: Path
    base_url: str | None = None
    drafts: bool = False
    future: bool = False
    strict: bool = False
    offline: bool = False


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
                          source=path)
        elif path.is_file() and path.name == ".nojekyll":
            continue


def render_bodies(cfg: SiteConfig, posts: Iterable[Post]) -> dict[PurePosixPath, Rendered]:
    markup = Markup(cfg.content_dir)
    return {post.rel: markup.render(post.body, post.rel) for post in posts}


def plan(site: Site, themes: Sequence[Path]) -> list[Job]:
    planner = Planner(site)
    jobs = list(planner.jobs())
    jobs.extend(planner.site_files([j for j in jobs if j.kind == "page"]))
    jobs.extend(_copies(site.cfg, themes))
    return jobs


def _clashes(jobs: Sequence[Job]) -> list[Problem]:
    owners: dict[PurePosixPath, Job] = {}
    problems = []
    for job in jobs:
        target = output_file(job.path)
        first = owners.setdefault(target, job)
        if first is not job:
            problems.append(Problem(None, None, f"{job.origin} and {first.origin} would both "
                                                f"write {target}; rename one of them"))
    return problems


def build(options: BuildOptions, *, now: datetime | None = None) -> BuildReport:
    """Build the site into ``options.output_dir``; raise BuildError with every problem."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    cfg = load_config(options.content_dir, options.base_url)
    posts, problems = load_posts(cfg)
    raise_if_errors(problems)
    kept, scheduled = published(posts, now, drafts=options.drafts, future=options.future)
    bodies = render_bodies(cfg, kept)
    site, site_problems = build_site(cfg, kept, bodies, now, future=options.future)
    problems.extend(site_problems)
    raise_if_errors(problems)
    themes = theme_dirs(cfg)
    jobs = plan(site, themes)
    raise_if_errors(_clashes(jobs))
    warnings = tuple(p for p in problems if not p.is_error)
    if options.strict and warnings:
        raise BuildError([Problem(p.path, p.line, p.message, Severity.ERROR) for p in warnings])

    env = make_environment(cfg, themes)
    rendered = 0
    with SiteWriter(options.output_dir) as writer:
        for job in jobs:
            writer.write(output_file(job.path), _make(job, env), job.origin)
            rendered += job.kind in ("page", "feed")
    return BuildReport(
        written=len(jobs), rendered=rendered, reused=0,
        seconds=time.perf_counter() - started,
        posts=sum(len(lang.posts) for lang in site.languages), scheduled=scheduled,
        warnings=warnings, output_dir=options.output_dir,
    )


def _make(job: Job, env: object) -> bytes:
    import jinja2  # noqa: PLC0415 - typing only

    assert isinstance(env, jinja2.Environment)
    if job.kind == "page":
        return render_page(env, job.template, dict(job.context)).encode("utf-8")
    if job.kind == "feed":
        assert job.feed is not None
        return render_feed(job.feed)
    if job.kind == "copy":
        assert job.source is not None
        return job.source.read_bytes()
    return job.data
