"""``microsite new``: the one command that writes into content/, and only a new post.

A new post must parse and build as written, never overwrite anything, and ``build`` must
never write into content/ at all.
"""

from __future__ import annotations

import html
import os
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

import pytest

from generator.config import load_config
from generator.content import parse_post
from tests.conftest import RunCli, write_tree

TITLE = "Title: with colon & émoji 🎉"
SLUG = "title-with-colon-emoji"
SITE_TZ = ZoneInfo("America/New_York")  # the minimal site's timezone


def today() -> date:
    return datetime.now(SITE_TZ).date()


def new(run_cli: RunCli, content: Path, title: str, campaign: str = "equity"
        ) -> tuple[int, str, str]:
    return run_cli(["new", title, "--campaign", campaign, "--content", str(content)],
                   content.parent)


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file's bytes and every file's and folder's modification time, under ``root``."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"",
                                             p.stat().st_mtime_ns)
            for p in [root, *sorted(root.rglob("*"))]}


def created(content: Path, before: date, after: date) -> Path:
    """The one post made by ``new`` on ``before`` or ``after`` (the clock may pass midnight)."""
    made = sorted({content / "posts" / f"{day:%Y-%m-%d}-{SLUG}.md" for day in (before, after)}
                  & set((content / "posts").iterdir()))
    assert len(made) == 1, made
    return made[0]


def test_new_post_parses_and_builds(minimal_site: Path, run_cli: RunCli) -> None:
    before = today()
    code, out, err = new(run_cli, minimal_site, TITLE)
    path = created(minimal_site, before, today())
    assert (code, err) == (0, "")
    assert out == f"Created {path}. Write your post there, then run: make build\n"

    cfg = load_config(minimal_site)
    parsed, problems = parse_post(path, PurePosixPath("posts", path.name), "post", cfg)
    assert problems == []
    assert parsed is not None
    assert (parsed.title, parsed.campaign, parsed.draft) == (TITLE, "equity", True)
    assert parsed.date is not None
    assert parsed.date.tzinfo == SITE_TZ
    assert parsed.date.date() == date.fromisoformat(path.name[:10])

    root = minimal_site.parent
    args = ["build", "--content", str(minimal_site), "--output", str(root / "output")]
    code, out, err = run_cli([*args, "--drafts"], root)
    assert (code, err) == (0, ""), out
    page = root / "output" / "posts" / SLUG / "index.html"
    assert html.escape(TITLE, quote=False) in page.read_text("utf-8")

    code, out, err = run_cli(args, root)  # a draft stays out of the real site
    assert (code, err) == (0, ""), out
    assert not page.exists()


def test_new_refuses_to_overwrite(minimal_site: Path, run_cli: RunCli) -> None:
    before = today()
    assert new(run_cli, minimal_site, TITLE)[0] == 0
    path = created(minimal_site, before, today())
    path.write_text(path.read_text("utf-8") + "The writer's own words.\n", "utf-8")
    kept = snapshot(minimal_site)

    code, out, err = new(run_cli, minimal_site, TITLE)
    assert (code, out) == (1, "")
    shown = path.relative_to(minimal_site.parent)
    assert err == (f"{shown}: this post already exists, so it was left as it was; choose "
                   "another title, or edit this file\n")
    assert snapshot(minimal_site) == kept


def test_new_refuses_a_title_already_used_on_another_day(minimal_site: Path,
                                                         run_cli: RunCli) -> None:
    old = "posts/2020-01-06-title-with-colon-emoji.md"
    write_tree(minimal_site, {old: "---\ntitle: Old\ndate: 2020-01-06\ncampaign: sel\n---\n"})
    kept = snapshot(minimal_site)
    code, out, err = new(run_cli, minimal_site, TITLE)
    assert (code, out) == (1, "")
    assert err == (f"content/{old}: a post with the web address posts/{SLUG}/ is already "
                   "here, so no new post was made; choose another title, or edit this one\n")
    assert snapshot(minimal_site) == kept


def test_new_with_an_unknown_campaign(minimal_site: Path, run_cli: RunCli) -> None:
    kept = snapshot(minimal_site)
    assert new(run_cli, minimal_site, TITLE, campaign="equty") == (
        1, "", "--campaign: unknown campaign 'equty'; did you mean 'equity'?\n")
    assert new(run_cli, minimal_site, TITLE, campaign="budget") == (
        1, "", "--campaign: unknown campaign 'budget'; use one of: equity, sel\n")
    assert snapshot(minimal_site) == kept


def test_new_with_an_empty_title(minimal_site: Path, run_cli: RunCli) -> None:
    kept = snapshot(minimal_site)
    assert new(run_cli, minimal_site, " \t ") == (
        1, "", "the title is empty; put the post's title in quotes\n")
    assert snapshot(minimal_site) == kept


def test_new_with_a_broken_site_yaml(minimal_site: Path, run_cli: RunCli) -> None:
    site_yaml = minimal_site / "site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8").replace("posts_per_page",
                                                              "post_per_page"), "utf-8")
    kept = snapshot(minimal_site)
    assert new(run_cli, minimal_site, TITLE) == (
        1, "", "content/site.yaml:7: unknown key 'post_per_page'; did you mean "
               "'posts_per_page'?\n")
    assert snapshot(minimal_site) == kept


@pytest.mark.parametrize("title", [
    'He said "hi" \\ then left',
    "@handle #tag [draft] {x}: y",
    "- starts like a list item",
    "yes",
    "null",
    "2024-05-01",
    "'single quotes'",
    "   spaced\tout\n  title  ",
    "تعلم معًا",
    "学习 🎉",
    "🎉",
    "a\x7fb\x85c",  # control characters a shell can pass along
])
def test_new_keeps_any_title_exactly(minimal_site: Path, run_cli: RunCli, title: str) -> None:
    code, _, err = new(run_cli, minimal_site, title)
    assert (code, err) == (0, "")
    made = [p for p in (minimal_site / "posts").iterdir() if not p.name.startswith("2024-05")]
    assert len(made) == 1
    cfg = load_config(minimal_site)
    parsed, problems = parse_post(made[0], PurePosixPath("posts", made[0].name), "post", cfg)
    assert problems == []
    assert parsed is not None
    expected = " ".join(title.split()).replace("\x7f", "").replace("\x85", "")
    assert parsed.title == expected


def test_new_makes_the_posts_folder(minimal_site: Path, run_cli: RunCli) -> None:
    for path in (minimal_site / "posts").iterdir():
        path.unlink()
    (minimal_site / "posts").rmdir()
    before = today()
    assert new(run_cli, minimal_site, TITLE)[0] == 0
    assert created(minimal_site, before, today()).is_file()


def test_build_never_writes_into_content(minimal_site: Path, run_cli: RunCli) -> None:
    """Builds (good, with drafts, failing, and repeated) leave content/ byte- and time-exact."""
    write_tree(minimal_site, {
        "pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
        "posts/2024-05-03-draft.md": "---\ntitle: Draft\ndate: 2024-05-03\ncampaign: sel\n"
                                     "draft: true\n---\nNot yet.\n",
        "static/CNAME": "example.org\n",
        "feeds/news.xml": "<?xml version='1.0'?><rss version='2.0'><channel><title>News"
                          "</title><link>https://example.org/</link><description>d"
                          "</description></channel></rss>\n",
    })
    site_yaml = minimal_site / "site.yaml"
    site_yaml.write_text(site_yaml.read_text("utf-8") + "feeds:\n  news:\n    title: News\n"
                         "    url: feeds/news.xml\n", "utf-8")
    old = datetime(2024, 1, 1).timestamp()
    for path in [*minimal_site.rglob("*"), minimal_site]:  # old times, so a rewrite shows
        os.utime(path, (old, old))
    before = snapshot(minimal_site)

    root = minimal_site.parent
    args = ["build", "--content", str(minimal_site), "--output", str(root / "output")]
    for extra in ([], ["--drafts"], [], ["--offline"]):
        code, out, err = run_cli([*args, *extra], root)
        assert (code, err) == (0, ""), out
    assert (root / "output" / "posts" / "first" / "index.html").is_file()
    assert snapshot(minimal_site) == before

    broken = minimal_site / "posts" / "zz-broken.md"
    broken.write_text("---\ntitle: [\n---\n", "utf-8")
    for path in (broken, broken.parent):
        os.utime(path, (old, old))
    before = snapshot(minimal_site)
    assert run_cli(args, root).code == 1
    assert snapshot(minimal_site) == before
