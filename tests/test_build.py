"""The whole build on real small sites: golden output, determinism, safety of output/, URLs."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from PIL import Image

from generator.build import BuildOptions, build
from generator.errors import BuildError, Problem
from generator.output import MARKER
from tests.support.crawl import crawl
from tests.support.httpserver import serve_directory
from tests.support.validators import atom_schema, jing_errors, newsboat_reads

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "golden"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def build_golden(output: Path, **options: object) -> None:
    # No cache: nothing is written beside the committed fixture.
    build(BuildOptions(content_dir=GOLDEN / "content", output_dir=output, offline=True,
                       cache=False, **options), now=NOW)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def golden_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("golden") / "output"
    build_golden(out)
    return out


def test_golden_output(golden_out: Path) -> None:
    """The fixture site builds to the committed tree (UPDATE_GOLDEN=1 rewrites it)."""
    expected_dir = GOLDEN / "expected"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        shutil.rmtree(expected_dir, ignore_errors=True)
        shutil.copytree(golden_out, expected_dir, ignore=shutil.ignore_patterns(MARKER))
        shutil.rmtree(expected_dir / "assets")
    # Left out: the marker names the build's digests (which include the generator's code),
    # and assets/ is the theme's static folder copied as it is (test_site_kinds_exist).
    got = {k: v for k, v in tree(golden_out).items()
           if k != MARKER and not k.startswith("assets/")}
    expected = tree(expected_dir)
    assert sorted(got) == sorted(expected), "files differ; run UPDATE_GOLDEN=1 make test"
    changed = [name for name in got if got[name] != expected[name] and not (
        name.startswith("cards/") and _pixels(got[name]) == _pixels(expected[name]))]
    assert not changed, f"changed: {changed}; if intended, run UPDATE_GOLDEN=1 make test"


def _pixels(png: bytes) -> tuple[str, tuple[int, int], bytes, list[int] | None]:
    """A card as what it shows: how its deflate stream is packed may vary with the CPU
    (zlib-ng picks its code for the CPU it runs on), what it shows may not."""
    with Image.open(io.BytesIO(png)) as image:
        return image.mode, image.size, image.tobytes(), image.getpalette()


def test_same_input_same_bytes(golden_out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_golden(again)
    assert tree(again) == tree(golden_out)


def test_site_kinds_exist(golden_out: Path) -> None:
    for name in ("index.html", "page/2/index.html", "campaigns/equity/index.html",
                 "posts/welcome/index.html", "tags/principals/index.html", "archive/index.html",
                 "archive/2026/index.html", "about/index.html", "404.html", "sitemap.xml",
                 "robots.txt", ".nojekyll", "CNAME", "feed.xml", "atom.xml",
                 "campaigns/sel/feed.xml", "tags/sel/atom.xml", "es/posts/welcome/index.html",
                 "es/index.html", MARKER, "assets/style.css", "assets/share.js"):
        assert (golden_out / name).is_file(), name
    assert (golden_out / "CNAME").read_text() == "golden.example.org\n"
    robots = (golden_out / "robots.txt").read_text()
    assert "Sitemap: https://example.org/golden/sitemap.xml" in robots


def test_drafts_and_scheduled_posts(golden_out: Path, tmp_path: Path) -> None:
    assert not (golden_out / "posts/draft").exists()
    assert not (golden_out / "posts/future").exists()
    build_golden(tmp_path / "all", drafts=True, future=True)
    assert (tmp_path / "all/posts/draft/index.html").is_file()
    assert (tmp_path / "all/posts/future/index.html").is_file()


def test_every_page_has_the_basics(golden_out: Path) -> None:
    for page in golden_out.rglob("*.html"):
        html = page.read_text()
        assert html.count("<h1") == 1, page
        for needle in ("<title>", 'name="description"', 'rel="canonical"', "<html lang=",
                       'property="og:title"', 'name="twitter:card"'):
            assert needle in html, (page, needle)


@pytest.mark.parametrize("mount", ["/golden/", "/"])
def test_crawl_finds_no_broken_link(golden_out: Path, mount: str) -> None:
    """Served under the subpath (as on GitHub Pages) or at the root, every link works."""
    with serve_directory(golden_out, mount) as base:
        report = crawl(base, aliases={"https://example.org/golden/": base})
    assert not report.broken, report.format_broken()
    assert len(report.pages) > 30


def test_feeds_are_valid_atom_and_readable(golden_out: Path) -> None:
    atoms = sorted(golden_out.rglob("atom.xml"))
    assert atoms
    assert jing_errors(atom_schema(), atoms) == []
    for feed_file in [*atoms, *golden_out.rglob("feed.xml")]:
        parsed = feedparser.parse(feed_file.read_bytes())
        assert not parsed.bozo, (feed_file, parsed.get("bozo_exception"))
        for entry in parsed.entries:
            assert entry.link.startswith("https://example.org/golden/")
            assert entry.id.startswith("https://example.org/golden/")
    site = feedparser.parse((golden_out / "atom.xml").read_bytes())
    welcome = next(e for e in site.entries if e.title.startswith("Welcome"))
    assert "Our first post" in welcome.content[0].value
    assert 'href="https://example.org/golden/posts/second/"' in welcome.content[0].value
    assert welcome.published == "2026-03-01T00:00:00-05:00"
    assert newsboat_reads(golden_out / "feed.xml") == [
        "学生的声音 — 多语言标题", "Morning meetings, five minutes at a time",
        "Welcome: what equity means to us"]


def test_failed_build_leaves_output_intact(golden_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    shutil.copytree(golden_out, out)
    before = tree(out)
    content = tmp_path / "content"
    shutil.copytree(GOLDEN / "content", content)
    (content / "posts" / "broken.md").write_text("---\ntitle: x\ndate: soon\ncampaign: equity\n"
                                                 "---\nbody\n")
    with pytest.raises(BuildError):
        build(BuildOptions(content_dir=content, output_dir=out, offline=True), now=NOW)
    assert tree(out) == before


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path: Path) -> None:
    out = tmp_path / "important"
    out.mkdir()
    (out / "thesis.txt").write_text("do not delete")
    with pytest.raises(BuildError, match="not made by campaign-microsite"):
        build_golden(out)
    assert (out / "thesis.txt").read_text() == "do not delete"


def pages_written(holder: Path) -> int:
    """HTML files in the new trees a build is writing, counted while the build goes on.

    os.walk skips folders that vanish under it (the writers' short-lived pin-* folders);
    Path.rglob would raise.
    """
    return sum(name.endswith(".html") for tree in holder.glob("new-*")
               for _, _, names in os.walk(tree) for name in names)


def test_interrupted_build_leaves_output_intact(golden_out: Path, tmp_path: Path) -> None:
    """Kill -9 a build of a bigger site half-way: output/ is exactly the previous one."""
    content = tmp_path / "content"
    shutil.copytree(GOLDEN / "content", content)
    body = "Paragraph with *emphasis* and a [link](https://example.com/).\n\n" * 40
    for i in range(600):
        (content / "posts" / f"bulk-{i:04}.md").write_text(
            f"---\ntitle: Bulk post {i}\ndate: 2026-01-{1 + i % 28:02}\ncampaign: sel\n"
            f"tags: [t{i % 30}]\n---\n{body}")
    out = tmp_path / "output"
    shutil.copytree(golden_out, out)
    before = tree(out)
    proc = subprocess.Popen([sys.executable, "-m", "generator", "build", "--content",
                             str(content), "--output", str(out), "--offline"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if pages_written(tmp_path / ".output.work") > 50:
                break
            time.sleep(0.01)
        else:
            pytest.fail("the build never started writing")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert tree(out) == before
    build(BuildOptions(content_dir=content, output_dir=out, offline=True), now=NOW)
    assert not list(tmp_path.glob(".output.work/new-*")), "leftovers are cleaned by the next build"
    assert (out / "posts/bulk-0001/index.html").is_file()


def _problem_with_tag_template(tmp_path: Path, text: bytes) -> tuple[Problem, Path]:
    """The first problem a build reports when its theme's tag.html holds ``text``; the
    template's path."""
    shutil.copytree(GOLDEN / "content", tmp_path / "content")
    theme = tmp_path / "themes" / "mine" / "templates"
    theme.mkdir(parents=True)
    (theme / "tag.html").write_bytes(text)
    config = tmp_path / "content" / "site.yaml"
    config.write_text(config.read_text() + "theme: mine\n")
    with pytest.raises(BuildError) as caught:
        build(BuildOptions(content_dir=tmp_path / "content", output_dir=tmp_path / "out",
                           offline=True, cache=False, processes=1), now=NOW)
    return caught.value.problems[0], theme / "tag.html"


def test_a_template_that_is_not_utf8_names_its_file_and_line(tmp_path: Path) -> None:
    problem, template = _problem_with_tag_template(
        tmp_path, b'{% extends "base.html" %}\n\xff caf\xe9\n')
    assert (problem.path, problem.line) == (template, 2)
    assert "not UTF-8 text" in problem.message and "save the file as UTF-8" in problem.message


def test_a_template_mistake_names_its_file_and_line(tmp_path: Path) -> None:
    problem, template = _problem_with_tag_template(
        tmp_path, b'{% extends "base.html" %}\n{% block content %}\n'
                  b"{{ nothing.here }}\n{% endblock %}\n")
    assert problem.path == template and problem.line == 3
    assert "'nothing' is undefined" in problem.message
