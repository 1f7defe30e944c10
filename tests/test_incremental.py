"""Incremental builds: after every kind of edit, the same bytes as a clean build, and only
the pages the edit affects are rendered again."""

from __future__ import annotations

import os
import posixpath
import random
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jinja2
import pytest
from PIL import Image

from generator import build as build_module
from generator import output as output_module
from generator import workers
from generator.build import BuildOptions, BuildReport, BuildState, build, prepare_spare
from generator.cards import CardSpec, card_key, draw_ahead, render_card
from generator.errors import BuildError
from generator.incremental import Fingerprints
from generator.jobs import Job
from generator.urls import Urls

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "content"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
TAG_TEMPLATE = """{% extends "base.html" %}
{% block content %}<h1>Tagged: {{ listing.title }}</h1>
{% include "partials/listing.html" %}{% endblock %}
"""


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


class Site:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.content = root / "content"
        shutil.copytree(GOLDEN, self.content)
        theme = root / "themes" / "custom" / "templates"
        theme.mkdir(parents=True)
        (theme / "tag.html").write_text(TAG_TEMPLATE)
        config = self.content / "site.yaml"
        config.write_text(config.read_text() + "theme: custom\n")
        self.state = BuildState()

    def build(self, *, state: bool = False) -> BuildReport:
        return build(BuildOptions(content_dir=self.content, output_dir=self.root / "output",
                                  offline=True, processes=1),
                     now=NOW, state=self.state if state else None)

    def clean(self) -> dict[str, bytes]:
        out = self.root / "clean"
        shutil.rmtree(out, ignore_errors=True)
        build(BuildOptions(content_dir=self.content, output_dir=out, offline=True, cache=False,
                           processes=1), now=NOW)
        return tree(out)

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = Site(tmp_path)
    site.build()
    site.build()  # changes nothing: output/ is current, and there is no spare tree yet
    return site


def stamps(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``root`` with its inode and modification time."""
    return {p.relative_to(root).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in root.rglob("*")}


def test_no_change_renders_nothing(site: Site) -> None:
    siblings = sorted(p.name for p in site.root.iterdir())
    before = stamps(site.root / "output")
    report = site.build()
    assert report.rendered == 0
    assert report.reused == report.written
    # Nothing written, copied or swapped: output/ is left exactly as it was.
    assert stamps(site.root / "output") == before
    assert sorted(p.name for p in site.root.iterdir()) == siblings
    assert tree(site.root / "output") == site.clean()


def test_a_file_missing_from_output_is_made_again(site: Site) -> None:
    (site.root / "output" / "about" / "index.html").unlink()
    report = site.build()
    assert report.rendered >= 1
    assert tree(site.root / "output") == site.clean()


EDITS: dict[str, tuple[str, str, str]] = {
    "body": ("content/posts/2026-03-05-second.md", "start with a greeting",
             "start with a warm greeting"),
    "title": ("content/posts/2026-03-05-second.md", "title: Morning meetings",
              "title: Morning circles"),
    "date": ("content/posts/2026-03-09-third.md", "date: 2026-03-09T08:00:00-05:00",
             "date: 2026-02-09T08:00:00-05:00"),
    "template": ("themes/custom/templates/tag.html", "Tagged:", "Posts about"),
    "config": ("content/site.yaml", "title: Golden Test District", "title: Golden District"),
    "pagination": ("content/site.yaml", "posts_per_page: 2", "posts_per_page: 3"),
}


@pytest.mark.parametrize("kind", sorted(EDITS))
@pytest.mark.parametrize("in_memory", [False, True], ids=["cli", "serve"])
def test_edit_gives_a_clean_build(site: Site, kind: str, in_memory: bool) -> None:
    if in_memory:
        site.build(state=True)
    site.edit(*EDITS[kind])
    report = site.build(state=in_memory)
    assert tree(site.root / "output") == site.clean()
    rendered = set(report.rendered_paths)
    if kind == "body":
        assert "posts/second/" in rendered
        assert "feed.xml" in rendered and "campaigns/sel/atom.xml" in rendered
        assert "" not in rendered, "a body edit does not change the listings"
        assert "posts/welcome/" not in rendered
    elif kind in ("title", "date"):
        assert "" in rendered and "archive/2026/" in rendered
    elif kind == "template":
        assert rendered and all("/tags/" in f"/{path}" for path in rendered), rendered
    else:
        assert report.reused <= 2, "a config edit renders everything (but copied files)"
    again = site.build(state=in_memory)
    assert tree(site.root / "output") == site.clean()
    assert set(again.rendered_paths) <= rendered


def test_templates_compiled_by_one_build_are_loaded_by_the_next(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build is a new process: it loads the templates an earlier build compiled (kept in
    .cache/templates by their source) instead of compiling them again; an edited template
    is compiled afresh, and its pages show the edit."""
    compiled: list[str | None] = []
    real = jinja2.Environment.compile

    def counting(env: jinja2.Environment, source: Any, name: str | None = None,
                 *args: Any, **kwargs: Any) -> Any:
        compiled.append(name)
        return real(env, source, name, *args, **kwargs)
    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    site.edit(*EDITS["body"])
    assert site.build().rendered > 0 and compiled == []
    site.edit(*EDITS["template"])
    assert site.build().rendered > 0 and compiled == ["tag.html"]
    monkeypatch.undo()
    assert "Posts about" in (site.root / "output" / "tags" / "sel" / "index.html").read_text()
    assert tree(site.root / "output") == site.clean()
    assert any((site.root / ".cache" / "templates").rglob("*.cache"))


def test_a_feed_template_in_the_sites_theme_is_used_and_an_edit_renders_only_its_feeds(
        site: Site) -> None:
    from generator.render import DEFAULT_THEME

    folder = site.root / "themes" / "custom" / "templates" / "feeds"
    folder.mkdir()
    default = (DEFAULT_THEME / "templates" / "feeds" / "atom.xml").read_text()
    (folder / "atom.xml").write_text(default.replace(
        "<updated>", "<rights>Public domain</rights>\n<updated>", 1))
    first = site.build()
    output = site.root / "output"
    assert "<rights>Public domain</rights>" in (output / "atom.xml").read_text()
    assert "<rights>" not in (output / "feed.xml").read_text()
    rendered = set(first.rendered_paths)
    assert "atom.xml" in rendered and all(p.endswith("atom.xml") for p in rendered), rendered
    site.edit("themes/custom/templates/feeds/atom.xml", "Public domain", "CC BY 4.0")
    assert set(site.build().rendered_paths) == rendered
    assert tree(output) == site.clean()


def test_added_and_removed_posts(site: Site) -> None:
    post = site.content / "posts" / "2026-03-12-new.md"
    post.write_text("---\ntitle: Brand new\ndate: 2026-03-12\ncampaign: equity\n---\nHello.\n")
    site.build()
    assert (site.root / "output/posts/new/index.html").is_file()
    assert tree(site.root / "output") == site.clean()
    post.unlink()
    site.build()
    assert not (site.root / "output/posts/new").exists()
    assert tree(site.root / "output") == site.clean()


def test_image_change_reaches_the_page(site: Site) -> None:
    Image.new("RGB", (80, 40), "#0b5394").save(site.content / "images" / "sample.png")
    site.build()
    html = (site.root / "output/posts/welcome/index.html").read_text()
    assert 'width="80" height="40"' in html
    assert tree(site.root / "output") == site.clean()


def test_a_rebuild_with_nothing_changed_gives_the_same_warnings(site: Site) -> None:
    site.edit("content/posts/2026-03-05-second.md", "tweet: Five minutes",
              "tweet: " + "Five minutes, " * 30)
    first = site.build()
    again = site.build()
    assert again.rendered == 0
    assert any("'tweet' is" in p.message for p in first.warnings)
    assert [p.format() for p in again.warnings] == [p.format() for p in first.warnings]


def test_a_scheduled_post_appears_when_its_day_comes_with_no_file_changed(site: Site) -> None:
    later = datetime(2026, 12, 2, tzinfo=UTC)
    assert not (site.root / "output/posts/future").exists()
    report = build(BuildOptions(content_dir=site.content, output_dir=site.root / "output",
                                offline=True, processes=1), now=later)
    assert report.rendered > 0
    assert (site.root / "output/posts/future/index.html").is_file()


@dataclass(frozen=True)
class Record:
    title: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Noted:
    title: str
    note: str = field(default="", compare=False)


def test_a_preview_reuses_digests_of_equal_records_and_never_of_changed_ones() -> None:
    prints = Fingerprints(remember=True)
    first = prints.of(Record("Math night", ("sel",)))
    for _ in range(3):  # records equal to the last two builds' keep their digest
        prints.next_build()
        assert prints.of(Record("Math night", ("sel",))) == first
    assert prints.of(Record("Math night", ("sel", "equity"))) != first
    assert prints.of(Record("Math nights", ("sel",))) != first
    # A field left out of equality must still count: such records are never matched by value.
    noted = prints.of(Noted("Math night", "a"))
    prints.next_build()
    assert prints.of(Noted("Math night", "b")) != noted
    assert Fingerprints().of(Record("Math night", ("sel",))) == first


def test_relative_links_agree_with_posixpath_for_any_two_pages() -> None:
    rng = random.Random(7)
    names = ["", "posts", "tags", "a b", "é", "x"]

    def site_path() -> str:
        folders = "/".join(rng.choice(names[1:]) for _ in range(rng.randint(0, 3)))
        leaf = rng.choice(["", "", "index.html", "feed.xml", "x.png"])
        return f"{folders}/{leaf}" if folders else leaf

    for _ in range(5000):
        target, here = site_path(), site_path()
        here_dir = here if here == "" or here.endswith("/") else posixpath.dirname(here) + "/"
        expected = posixpath.relpath("/" + target, "/" + here_dir)
        if target == "" or target.endswith("/"):
            expected = "./" if expected == "." else expected + "/"
        assert unquote(Urls.relative(target, here)) == expected, (target, here)


def test_a_prepared_spare_tree_is_used_by_the_next_edit(site: Site) -> None:
    spare = site.root / ".output.spare"
    assert not spare.exists()
    assert prepare_spare(BuildOptions(content_dir=site.content, output_dir=site.root / "output"))
    assert tree(spare) == tree(site.root / "output")
    kept = (spare / "about" / "index.html").stat().st_ino
    site.edit(*EDITS["body"])
    site.build()
    # The prepared tree was updated in place and swapped in (a fresh copy has new files).
    assert (site.root / "output" / "about" / "index.html").stat().st_ino == kept
    assert tree(site.root / "output") == site.clean()
    options = BuildOptions(content_dir=site.content, output_dir=site.root / "output")
    assert prepare_spare(options)  # the spare was a build behind: brought up to date
    assert not prepare_spare(options)


def test_a_preview_body_edit_linking_another_post_matches_a_clean_build(site: Site) -> None:
    site.build(state=True)
    site.edit("content/posts/2026-03-05-second.md", "start with a greeting",
              "start with a greeting, as in [our welcome](2026-03-01-welcome.md)")
    site.build(state=True)
    assert tree(site.root / "output") == site.clean()
    site.edit("content/posts/2026-03-05-second.md", "[our welcome](2026-03-01-welcome.md)",
              "[a post that isn't there](2026-03-02-missing.md)")
    with pytest.raises(BuildError, match=r"2026-03-02-missing\.md"):
        site.build(state=True)


def test_a_stale_spare_tree_is_brought_up_to_output(site: Site) -> None:
    site.edit(*EDITS["config"])  # every page changes: the spare is now a build behind
    site.build()
    options = BuildOptions(content_dir=site.content, output_dir=site.root / "output")
    assert prepare_spare(options)
    assert tree(site.root / ".output.spare") == tree(site.root / "output")
    assert not prepare_spare(options)
    site.edit(*EDITS["body"])
    report = site.build()
    assert "posts/second/" in report.rendered_paths and len(report.rendered_paths) < 15
    assert tree(site.root / "output") == site.clean()


def test_a_linked_copy_never_changes_the_tree_it_was_made_from(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.build()
    before = tree(site.root / "output")
    site.edit(*EDITS["body"])
    site.build()  # no spare yet: output/ is cloned by hard links, then the edit written
    assert tree(site.root / ".output.spare") == before  # the old tree kept its bytes
    assert tree(site.root / "output") == site.clean()
    site.edit(*EDITS["title"])
    site.build()  # now the spare (sharing files with output/) is updated
    assert tree(site.root / "output") == site.clean()


def _bulk_site(tmp_path: Path, count: int, month: str, tags: int, body: str) -> BuildOptions:
    """The test site with ``count`` more posts (dated in ``month``, spread over ``tags``),
    built by two processes."""
    site = Site(tmp_path)
    for i in range(count):
        (site.content / "posts" / f"bulk-{i:03}.md").write_text(
            f"---\ntitle: Bulk post {i}\ndate: {month}-{1 + i % 28:02}\ncampaign: sel\n"
            f"tags: [t{i % tags}]\n---\n{body}")
    return BuildOptions(content_dir=site.content, output_dir=site.root / "output",
                        offline=True, processes=2)


def test_digests_of_a_first_build_in_two_processes_are_those_a_rebuild_finds(
        tmp_path: Path) -> None:
    """A first build works its digests out in the worker processes, as it writes; they
    must be the ones a later build works out in one process, or it would redo everything."""
    options = _bulk_site(tmp_path, 200, "2026-01", 9,  # enough files for two processes
                         "Words with *emphasis* and a [link](https://example.com/).\n\n" * 5)
    first = build(options, now=NOW)
    assert first.rendered == first.written > 300
    again = build(options, now=NOW, state=BuildState())  # digests made here, not recalled
    assert again.rendered == 0 and again.written == first.written


def test_a_rebuild_works_its_digests_out_in_two_processes_and_redoes_only_the_edit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a preview's memory, every job's digest is worked out again, spread over the
    processes: they must be the first build's, in the same order, or all would be redone."""
    options = _bulk_site(tmp_path, 150, "2025-06", 7, "Words, and more words.\n")
    first = build(options, now=NOW)
    monkeypatch.setattr(build_module, "DIGESTS_PER_PROCESS", 50)  # two processes here
    spread = []
    real = workers.map_slices

    def map_slices(fn: Any, items: Any, processes: int, minimum: int) -> Any:
        spread.append((len(items), processes, minimum))
        return real(fn, items, processes, minimum)

    monkeypatch.setattr(build_module, "map_slices", map_slices)
    edited = options.content_dir / "posts" / "bulk-075.md"
    edited.write_text(edited.read_text() + "\nOne more sentence.\n")
    again = build(options, now=NOW)
    assert (first.written, 2, 50) in spread  # the digests were worked out by two processes
    assert again.written == first.written
    # Its page, and the feeds that carry its full text (its tag's: the site's carry newer posts)
    assert sorted(again.rendered_paths) == ["posts/bulk-075/", "tags/t5/atom.xml",
                                            "tags/t5/feed.xml"]


def test_a_first_build_with_a_helper_drawing_its_cards_is_the_one_process_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build in two processes has a third draw the cards while it plans the site
    (see ``build._ahead``): the same site as one process builds, and no folder left."""
    monkeypatch.setattr(build_module, "AHEAD_MINIMUM", 20)
    options = _bulk_site(tmp_path, 80, "2025-09", 5, "Some words.\n")
    stale = tmp_path / ".output.work" / "cards-killed"  # left by a build that was killed
    stale.mkdir(parents=True)
    (stale / "0123.part").write_bytes(b"half a card")
    started = []
    real = build_module._ahead

    def ahead(*args: Any) -> Any:
        started.append(real(*args))
        return started[-1]

    monkeypatch.setattr(build_module, "_ahead", ahead)
    build(options, now=NOW)
    assert started and started[0] is not None  # a helper was drawing
    alone = replace(options, output_dir=tmp_path / "alone", processes=1)
    build(alone, now=NOW)
    assert len(started) == 1  # one process: no helper
    made, expected = tree(options.output_dir), tree(alone.output_dir)
    assert made == expected
    assert sum(name.startswith("cards/") for name in made) > 80
    assert _only_pins(tmp_path / ".output.work")


def test_a_first_build_that_fails_while_its_helper_draws_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_module, "AHEAD_MINIMUM", 20)
    options = _bulk_site(tmp_path, 60, "2025-10", 3, "Some words.\n")
    (tmp_path / "themes" / "custom" / "templates" / "tag.html").write_text(
        '{% extends "base.html" %}{% block content %}{{ listing.nothing.here }}{% endblock %}')
    with pytest.raises(BuildError, match=r"tag\.html"):
        build(options, now=NOW)
    assert not options.output_dir.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".cache", ".output.work", "content", "themes"]
    assert _only_pins(tmp_path / ".output.work")


def _only_pins(holder: Path) -> bool:
    """The holder of new trees has nothing left in it but empty pins (see ``output._pin``)."""
    return all(p.name.startswith("pin-") and not any(p.iterdir()) for p in holder.iterdir())


def _inode_flags(folder: Path) -> int | None:
    """The folder's inode flags (what ``lsattr`` shows); None where there are none."""
    import fcntl  # POSIX only
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = bytearray(4)
        fcntl.ioctl(fd, 0x80086601, flags)  # FS_IOC_GETFLAGS
        return int.from_bytes(flags, sys.byteorder)
    except OSError:
        return None
    finally:
        os.close(fd)


def test_new_trees_are_made_in_a_holder_marked_as_the_top_of_unrelated_trees(
        tmp_path: Path) -> None:
    """On ext4 without a journal, making a file scans past every inode freed in the last
    minutes in its part of the disk; new trees go in a holder marked ``chattr +T``, so
    each is put in a part of the disk of its own, not where ``rm -rf output`` just freed
    thousands (a cold build after that: 2.3–2.7 s instead of 3.1–4.8 s)."""
    output_dir = tmp_path / "output"
    first, second = (output_module._new_folder(output_dir, "new") for _ in range(2))
    holder = tmp_path / ".output.work"
    assert first.parent == second.parent == holder
    assert first != second  # random names: the file system starts its search from the name
    flags = _inode_flags(holder)
    if sys.platform != "linux" or flags is None:
        pytest.skip("this file system keeps no such mark")
    assert flags & 0x00020000, "FS_TOPDIR_FL"


def test_pins_stay_where_each_new_tree_was_put_for_some_minutes(tmp_path: Path) -> None:
    """``rm -rf output`` leaves the pins, which keep the next tree away from the inodes it
    freed; they and their holder go once expired."""
    output_dir = tmp_path / "output"
    tree = output_module._new_folder(output_dir, "new")
    holder = tmp_path / ".output.work"
    pins = sorted(p for p in holder.iterdir() if p.name.startswith("pin-"))
    assert len(pins) == output_module.PINS
    assert all(p.is_dir() and not any(p.iterdir()) for p in pins)
    assert not list(tree.iterdir()), "the pins are moved out of the tree"
    tree.rename(output_dir)
    shutil.rmtree(output_dir)
    output_module.tidy(output_dir)
    assert sorted(holder.iterdir()) == pins, "pins outlive the tree"
    old = time.time_ns() - (output_module.PIN_SECONDS + 1) * 10**9
    for n, pin in enumerate(pins[:2]):
        pin.rename(holder / f"pin-{old}-{n}")
    output_module.tidy(output_dir)
    assert sorted(holder.iterdir()) == pins[2:], "expired pins go"
    for pin in pins[2:]:
        pin.rename(holder / f"pin-{old}-{pin.name}")
    output_module.tidy(output_dir)
    assert not holder.exists(), "the holder goes with its last pin"


def test_a_card_drawn_ahead_is_moved_into_the_tree_and_any_other_drawn(
        tmp_path: Path) -> None:
    specs = [CardSpec(title=f"Card {n}", campaign="Equity", site="Metro", color="#0b5394")
             for n in range(3)]
    ahead = tmp_path / "ahead"
    draw_ahead(specs[:2], ahead)
    drawn = {path.name: path.stat().st_ino for path in ahead.iterdir()}
    assert sorted(drawn) == sorted(f"{card_key(spec)}.png" for spec in specs[:2])
    jobs = [Job(f"cards/{card_key(spec)}.png", "card", "share card",
                context=(("spec", spec),)) for spec in specs]
    work = tmp_path / "work"
    write = build_module._write_slice(jinja2.Environment(), work, [], None, True, ahead)
    assert write(jobs) == [None, None, None]
    for spec, job in zip(specs, jobs, strict=True):
        made = work / job.path
        assert made.read_bytes() == render_card(spec)
        # the helper's very file, or (the third) one drawn by the writer
        assert (made.stat().st_ino == drawn.get(made.name)) == (spec in specs[:2])
    assert not list(ahead.iterdir())  # all taken; nothing part-written was left either


def test_an_empty_output_folder_made_by_hand_is_no_obstacle(tmp_path: Path) -> None:
    site = Site(tmp_path)
    (site.root / "output").mkdir()
    site.build()
    site.edit(*EDITS["body"])
    report = site.build()
    assert report.rendered < report.written / 4, "the edit redid only what it affects"
    assert tree(site.root / "output") == site.clean()
    site.edit("content/posts/2026-03-05-second.md", "warm greeting", "warmer greeting")
    assert site.build().rendered < report.written / 4


def test_the_parse_cache_is_complete_when_the_build_returns(tmp_path: Path) -> None:
    """It is pickled in a background process; the build waits for it before returning."""
    from generator.config import load_config
    from generator.content import _parse_cache_key
    from generator.store import load_pickle

    site = Site(tmp_path)
    site.build()
    cfg = load_config(site.content.resolve())
    saved = load_pickle(site.root / ".cache" / "parsed.pickle", _parse_cache_key(cfg))
    sources = [p for p in site.content.rglob("*.md") if "posts" in p.parts or "pages" in p.parts]
    assert len(saved) == len(sources) > 3
    assert all(entry[1] for entry in saved.values())  # each with its content hash


def test_pages_are_right_when_the_cache_has_lost_the_rendered_html(site: Site) -> None:
    import sqlite3

    from generator.store import FILE_NAME

    with sqlite3.connect(site.root / ".cache" / FILE_NAME) as db:
        assert db.execute("DELETE FROM blobs WHERE kind = 'html'").rowcount > 3
    shutil.rmtree(site.root / "output")
    report = site.build()
    assert report.rendered == report.written
    assert tree(site.root / "output") == site.clean()


def test_a_long_preview_session_holds_no_more_files_open_than_its_first_build(site: Site
                                                                                ) -> None:
    def open_files() -> int:
        return sum(1 for _ in Path("/proc/self/fd").iterdir())

    site.build(state=True)
    before = open_files()
    for n in range(12):  # each save is a body edit, rendered in this process
        site.edit("content/posts/2026-03-05-second.md", "greeting", f"greeting {n}")
        assert "posts/second/" in site.build(state=True).rendered_paths
    assert open_files() <= before
    assert tree(site.root / "output") == site.clean()
