"""``microsite check``: every problem it reports, asserted word for word.

Each test writes the minimal site plus one file with one problem, runs ``microsite check``
from the site's folder, and checks the exact ``path:line: message`` lines on stdout, the
count line and the exit code (1 only when there are errors).
"""

from __future__ import annotations

import io
import random
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from PIL import Image

from generator.check import CHECKS, CheckContext, check_site
from generator.errors import Problem, warning
from tests.conftest import MINIMAL_SITE, CliResult, RunCli, write_tree

REPO = Path(__file__).resolve().parent.parent
GOOD = "title: Third post\ndate: 2024-05-03\ncampaign: equity\nsummary: A third post.\n"
X = "content/posts/x.md"  # the file each test adds; its front matter starts on line 2
ALT_EXAMPLE = "like image_alt: Two students reading in the library"
STRICTER = "(a build only warns about this; check counts it as an error)"


def post(front_matter: str = GOOD, body: str = "Body text.\n") -> str:
    """A Markdown file: ``---``, the front matter (file line 2 on), ``---``, the body."""
    return f"---\n{front_matter}---\n{body}"


def image(width: int, height: int, fmt: str = "PNG", noise: bool = False) -> bytes:
    picture = Image.new("RGB", (width, height), (11, 83, 148))
    if noise:  # random pixels do not compress: a heavy file
        picture = Image.frombytes("RGB", (width, height),
                                  random.Random(7).randbytes(width * height * 3))
    buffer = io.BytesIO()
    picture.save(buffer, fmt)
    return buffer.getvalue()


def check(root: Path, run_cli: RunCli, files: Mapping[str, str | bytes], *args: str
          ) -> CliResult:
    """``microsite check`` on the minimal site plus ``files``, run from ``root``."""
    write_tree(root / "content", {**MINIMAL_SITE, **files})
    result = run_cli(["check", "--content", str(root / "content"), *args], root)
    assert "Traceback" not in result.err
    return result


def lines(result: CliResult) -> list[str]:
    return result.out.splitlines()


# -- a clean site, the sample site, what check leaves alone ------------------------------

def test_clean_site_has_no_problems(tmp_path: Path, run_cli: RunCli) -> None:
    result = check(tmp_path, run_cli, {})
    assert lines(result) == ["0 errors, 0 warnings in 3 files."]
    assert result.code == 0


def test_sample_site_passes(tmp_path: Path, run_cli: RunCli) -> None:
    shutil.copytree(REPO / "content", tmp_path / "content")
    result = run_cli(["check", "--content", str(tmp_path / "content")], tmp_path)
    files = 1 + len(list((tmp_path / "content").glob("p*/*.md")))
    assert lines(result) == [f"0 errors, 0 warnings in {files} files."]
    assert result.code == 0


def test_check_writes_no_site_and_leaves_content_alone(tmp_path: Path, run_cli: RunCli
                                                       ) -> None:
    write_tree(tmp_path / "content", MINIMAL_SITE)
    before = {p: p.read_bytes() for p in (tmp_path / "content").rglob("*") if p.is_file()}
    assert run_cli(["check", "--content", str(tmp_path / "content")], tmp_path).code == 0
    after = {p: p.read_bytes() for p in (tmp_path / "content").rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "content"]


def test_help_says_drafts_and_scheduled_posts_are_checked(tmp_path: Path, run_cli: RunCli
                                                          ) -> None:
    result = run_cli(["check", "--help"], tmp_path)
    assert result.code == 0
    text = " ".join(result.out.split())
    assert "Drafts and posts scheduled for later are checked too, unless --no-drafts or " \
           "--no-future." in text


# -- what the build reports ----------------------------------------------------------------

def test_config_problems_stop_the_check(tmp_path: Path, run_cli: RunCli) -> None:
    result = check(tmp_path, run_cli, {"site.yaml": "title: Test Schools\n"})
    assert lines(result) == [
        "content/site.yaml:1: 'base_url' is required: an absolute http(s) address like "
        "https://example.github.io/site/",
        "content/site.yaml:1: 'campaigns' is required: at least one team or campaign, each "
        "with a 'name'",
        "2 errors, 0 warnings in 1 file."]
    assert result.code == 1


def test_front_matter_problems_are_the_builds(tmp_path: Path, run_cli: RunCli) -> None:
    result = check(tmp_path, run_cli, {"posts/x.md": post(GOOD.replace("title: Third post\n",
                                                                        ""))})
    assert lines(result) == [
        f"{X}:2: 'title' is required: the post's headline, like title: Our first week",
        "1 error, 0 warnings in 4 files."]
    assert result.code == 1


def test_missing_link_target_is_the_builds_error_with_its_line(tmp_path: Path,
                                                               run_cli: RunCli) -> None:
    body = "One.\n\nSee [it](posts/gone.md).\n"
    result = check(tmp_path, run_cli, {"posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:9: link target 'posts/gone.md' was not found under content/; paths start from "
        "the content folder, like images/photo.jpg or posts/other-post.md",
        "1 error, 0 warnings in 4 files."]
    assert result.code == 1


# -- images ----------------------------------------------------------------------------------

def test_image_without_alt_is_an_error_not_also_the_builds_warning(tmp_path: Path,
                                                                   run_cli: RunCli) -> None:
    result = check(tmp_path, run_cli, {"images/circle.png": image(8, 6),
                                       "posts/x.md": post(GOOD + "image: images/circle.png\n")})
    assert lines(result) == [
        f"{X}:6: 'image' images/circle.png has no 'image_alt'; describe the picture for "
        f"readers who use screen readers, {ALT_EXAMPLE} {STRICTER}",
        "1 error, 0 warnings in 4 files."]
    assert result.code == 1


@pytest.mark.parametrize(("alt", "why"), [
    ("photo", "it only says that it is a picture"),
    ("Imagen.", "it only says that it is a picture"),
    ("IMG_1234.jpg", "it is a file name"),
    ("DSC 0042", "it is a file name"),
    ("circle", "it is a file name"),
    ("circle.png", "it is a file name"),
    ("ok", "it is too short"),
])
def test_useless_image_alt_is_an_error(tmp_path: Path, run_cli: RunCli, alt: str, why: str
                                       ) -> None:
    front = GOOD + f"image: images/circle.png\nimage_alt: {alt}\n"
    result = check(tmp_path, run_cli, {"images/circle.png": image(8, 6),
                                       "posts/x.md": post(front)})
    assert lines(result) == [
        f"{X}:7: 'image_alt' \"{alt}\" does not describe the picture: {why}; say what it "
        f"shows, {ALT_EXAMPLE} (check counts this as an error)",
        "1 error, 0 warnings in 4 files."]
    assert result.code == 1


def test_body_images_without_a_description_are_warnings(tmp_path: Path, run_cli: RunCli
                                                        ) -> None:
    body = "Intro.\n\n![](images/circle.png)\n\nMore.\n\n![picture](../images/circle.png)\n"
    result = check(tmp_path, run_cli, {"images/circle.png": image(8, 6),
                                       "posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:9: warning: image images/circle.png has no alt text; describe it between the "
        "brackets, like ![Two students reading in the library](images/circle.png), so "
        "screen-reader users know what it shows",
        f"{X}:13: warning: image images/circle.png has the alt text \"picture\", which does "
        "not describe it: it only says that it is a picture; say what the picture shows",
        "0 errors, 2 warnings in 4 files."]
    assert result.code == 0


def test_images_over_four_megapixels_or_500_kb_are_warnings(tmp_path: Path, run_cli: RunCli
                                                            ) -> None:
    noisy = image(420, 420, noise=True)  # few pixels, but over 500 KB
    assert len(noisy) > 500_000
    front = GOOD + "image: images/wide.jpg\nimage_alt: The whole school on the field\n"
    body = "Intro.\n\n![Rain on the windows of room 12](images/noisy.png)\n"
    result = check(tmp_path, run_cli, {"images/wide.jpg": image(2400, 1800, "JPEG"),
                                       "images/noisy.png": noisy,
                                       "posts/x.md": post(front, body)})
    wide = (tmp_path / "content/images/wide.jpg").stat().st_size
    hint = "resize to 1600 pixels wide and save as JPEG quality 80, about 200 KB"
    assert lines(result) == [
        f"{X}:6: warning: image images/wide.jpg is heavy ({round(wide / 1e3)} KB, "
        f"2400×1800 pixels) and will load slowly on phones; {hint}",
        f"{X}:11: warning: image images/noisy.png is heavy ({round(len(noisy) / 1e3)} KB, "
        f"420×420 pixels) and will load slowly on phones; {hint}",
        "0 errors, 2 warnings in 4 files."]
    assert result.code == 0


# -- links and anchors -----------------------------------------------------------------------

ANCHORED = post(body="Intro.\n\n## Spring dates\n\nSee [the dates](#spring-dates), "
                     "[the top](#top) and a note.[^1]\n\n[^1]: A footnote.\n")


def test_links_to_headings_that_exist_pass(tmp_path: Path, run_cli: RunCli) -> None:
    other = post(GOOD.replace("Third", "Fourth"),
                 "Read [the spring dates](posts/x.md#spring-dates) and "
                 "[the same, by address](/posts/x/#spring-dates).\n")
    result = check(tmp_path, run_cli, {"posts/x.md": ANCHORED, "posts/y.md": other})
    assert lines(result) == ["0 errors, 0 warnings in 5 files."]
    assert result.code == 0


def test_anchor_missing_on_the_same_page(tmp_path: Path, run_cli: RunCli) -> None:
    body = "Intro.\n\n## Spring dates\n\nText.\n\n## Sign up\n\nSee [the dates](#spring-date).\n"
    result = check(tmp_path, run_cli, {"posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:15: the link to #spring-date goes nowhere: this post has no heading with that "
        "anchor; did you mean #spring-dates?",
        "1 error, 0 warnings in 4 files."]
    assert result.code == 1


def test_anchor_missing_on_another_page(tmp_path: Path, run_cli: RunCli) -> None:
    body = ("Intro.\n\nSee [the dates](posts/y.md#when).\n\n"
            "And [again](/posts/y/#where).\n")
    other = post(GOOD.replace("Third", "Fourth"), "## Spring dates\n\n## Sign up\n")
    result = check(tmp_path, run_cli, {"posts/x.md": post(body=body), "posts/y.md": other})
    assert lines(result) == [
        f"{X}:9: the link to posts/y.md#when goes nowhere: that post has no heading with that "
        "anchor; its headings' anchors are #spring-dates, #sign-up",
        f"{X}:11: the link to /posts/y/#where goes nowhere: that post has no heading with "
        "that anchor; its headings' anchors are #spring-dates, #sign-up",
        "2 errors, 0 warnings in 5 files."]
    assert result.code == 1


def test_links_to_addresses_the_site_does_not_have(tmp_path: Path, run_cli: RunCli) -> None:
    """A link to static/flyer.pdf works: the build points it at the file's place, /flyer.pdf."""
    body = ("Intro.\n\nSee [our page](/nowhere/).\n\nRead [the feed](feeds/news.xml).\n\n"
            "Print [the flyer](static/flyer.pdf), see [the bad photo](/images/gone.png).\n\n"
            "![A map of the school](/images/map.png)\n")
    result = check(tmp_path, run_cli, {"feeds/news.xml": "<rss/>", "static/flyer.pdf": "%PDF",
                                       "posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:9: the link to /nowhere/ goes nowhere: the site has no page or file there; "
        "link to a post by its file, like posts/2024-05-01-first.md, or put the file in "
        "content/images/ or content/static/",
        f"{X}:11: the link to feeds/news.xml goes nowhere: it is in content/, but only "
        "content/images/ and content/static/ are published; move it into one of them",
        f"{X}:13: the link to /images/gone.png goes nowhere: the site has no page or file "
        "there; link to a post by its file, like posts/2024-05-01-first.md, or put the file "
        "in content/images/ or content/static/",
        f"{X}:15: the image /images/map.png will not show: the site has no page or file "
        "there; link to a post by its file, like posts/2024-05-01-first.md, or put the file "
        "in content/images/ or content/static/",
        "4 errors, 0 warnings in 4 files."]
    assert result.code == 1


DRAFT = post("title: Coming soon\ndate: 2024-05-04\ncampaign: sel\nsummary: Soon.\n"
             "draft: true\n")
LATER = post("title: Much later\ndate: 2999-01-01\ncampaign: sel\nsummary: Later.\n")
TO_DRAFT = post(body="Intro.\n\nSee [what is coming](posts/soon.md).\n")


def test_a_published_post_linking_to_a_draft_would_stop_the_build(tmp_path: Path,
                                                                   run_cli: RunCli) -> None:
    result = check(tmp_path, run_cli, {"posts/soon.md": DRAFT, "posts/x.md": TO_DRAFT})
    assert lines(result) == [
        f"{X}:9: the link to posts/soon.md points at a draft, so a build without drafts "
        "stops here; publish posts/soon.md first (remove 'draft: true') or take out the link",
        "1 error, 0 warnings in 5 files."]
    assert result.code == 1
    # The build agrees (without drafts it fails on that link), and so does --no-drafts.
    result = run_cli(["check", "--no-drafts", "--content", str(tmp_path / "content")],
                     tmp_path)
    assert lines(result) == [
        f"{X}:9: links to posts/soon.md, which is not published (a draft, scheduled, or has "
        "errors)",
        "1 error, 0 warnings in 5 files."]
    build = run_cli(["build", "--content", str(tmp_path / "content"),
                     "--output", str(tmp_path / "output")], tmp_path)
    assert build.code == 1


def test_drafts_and_scheduled_posts_are_checked_unless_asked_not_to(tmp_path: Path,
                                                                    run_cli: RunCli) -> None:
    no_summary = "title: Coming soon\ndate: {}\ncampaign: sel\n{}"
    files = {"posts/soon.md": post(no_summary.format("2024-05-04", "draft: true\n")),
             "posts/later.md": post(no_summary.format("2999-01-01", ""))}
    result = check(tmp_path, run_cli, files)
    message = ("warning: this post has no 'summary'; add one or two sentences, like summary: "
               "What happened and why it matters, for listings, feeds and share previews")
    assert lines(result) == [f"content/posts/later.md:2: {message}",
                             f"content/posts/soon.md:2: {message}",
                             "0 errors, 2 warnings in 5 files."]
    result = run_cli(["check", "--no-drafts", "--no-future", "--content",
                      str(tmp_path / "content")], tmp_path)
    assert lines(result) == ["0 errors, 0 warnings in 5 files."]


def test_a_draft_may_link_to_a_draft(tmp_path: Path, run_cli: RunCli) -> None:
    draft_link = post(GOOD + "draft: true\n", "See [what is coming](posts/soon.md).\n")
    result = check(tmp_path, run_cli, {"posts/soon.md": DRAFT, "posts/x.md": draft_link})
    assert lines(result) == ["0 errors, 0 warnings in 5 files."]
    assert result.code == 0


def test_a_post_linking_to_one_scheduled_later(tmp_path: Path, run_cli: RunCli) -> None:
    body = "Intro.\n\nSee [what is next](posts/later.md).\n"
    result = check(tmp_path, run_cli, {"posts/later.md": LATER, "posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:9: the link to posts/later.md points at a post scheduled for 2999-01-01 00:00, "
        "after this post goes up, so builds until then stop here; date this post on or "
        "after it, or take out the link",
        "1 error, 0 warnings in 5 files."]
    assert result.code == 1


def vague_link(words: str) -> str:
    return (f"warning: the link text \"{words}\" does not say where the link goes; "
            "screen-reader users often hear links on their own, so describe where it leads, "
            "like [the spring training dates](…)")


@pytest.mark.parametrize("words", ["click here", "Here", "read more…", "this link", "LINK",
                                   "more", "haga clic aquí", "Aquí"])
def test_link_words_that_do_not_say_where_they_go(tmp_path: Path, run_cli: RunCli,
                                                  words: str) -> None:
    body = f"Intro.\n\nThe dates are [{words}](https://example.org/dates).\n"
    result = check(tmp_path, run_cli, {"posts/x.md": post(body=body)})
    assert lines(result) == [f"{X}:9: {vague_link(words)}", "0 errors, 1 warning in 4 files."]
    assert result.code == 0


def test_link_without_words(tmp_path: Path, run_cli: RunCli) -> None:
    body = "Intro.\n\nSee [](posts/2024-05-01-first.md) and [![The team](images/t.png)](/).\n"
    result = check(tmp_path, run_cli, {"images/t.png": image(8, 6),
                                       "posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:9: warning: the link to posts/2024-05-01-first.md has no words, so screen "
        "readers read out its address; write what it leads to between the brackets",
        "0 errors, 1 warning in 4 files."]


def test_each_of_two_same_links_is_found_on_its_own_line(tmp_path: Path, run_cli: RunCli
                                                         ) -> None:
    body = ("Intro [here](https://example.org/a).\n\nText.\n\n"
            "Again [here](https://example.org/a).\n")
    result = check(tmp_path, run_cli, {"posts/x.md": post(body=body)})
    assert lines(result) == [f"{X}:7: {vague_link('here')}", f"{X}:11: {vague_link('here')}",
                             "0 errors, 2 warnings in 4 files."]


# -- headings, tweets, summaries -------------------------------------------------------------

def test_skipped_heading_levels(tmp_path: Path, run_cli: RunCli) -> None:
    body = ("Intro.\n\n## Why\n\nText.\n\n#### Detail\n\nText.\n\n"
            "```\n# not a heading\n```\n\nTop again\n---------\n\n### Fine\n")
    result = check(tmp_path, run_cli, {"posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:13: warning: the heading \"Detail\" is #### after a ## heading, skipping a "
        "level; make it ### (screen-reader users find their way around a page by its "
        "heading levels)",
        "0 errors, 1 warning in 4 files."]
    assert result.code == 0


def test_first_heading_smaller_than_the_top_ones(tmp_path: Path, run_cli: RunCli) -> None:
    body = "### Before\n\nText.\n\n# Top\n\n## Under\n"
    result = check(tmp_path, run_cli, {"posts/x.md": post(body=body)})
    assert lines(result) == [
        f"{X}:7: warning: the heading \"Before\" is ### before any # heading, skipping a "
        "level; make it # (screen-reader users find their way around a page by its heading "
        "levels)",
        "0 errors, 1 warning in 4 files."]


def test_handwritten_tweet_over_280_is_an_error_not_also_a_warning(tmp_path: Path,
                                                                   run_cli: RunCli) -> None:
    tweet = " ".join(["Our students learn together every day"] * 7)  # 265 characters
    # X counts 265 + " " and the link (24) + " #TestEquity" (12) + " via @TestEquity" (16).
    result = check(tmp_path, run_cli, {"posts/x.md": post(GOOD + f"tweet: {tweet}\n")})
    assert lines(result) == [
        f"{X}:6: 'tweet' is 317/280 as X counts it (with the link, hashtags and via), so "
        "the share link would cut it short with …; make it 37 characters shorter "
        f"{STRICTER}",
        "1 error, 0 warnings in 4 files."]
    assert result.code == 1


def test_post_without_summary(tmp_path: Path, run_cli: RunCli) -> None:
    result = check(tmp_path, run_cli,
                   {"posts/x.md": post(GOOD.replace("summary: A third post.\n", ""))})
    assert lines(result) == [
        f"{X}:2: warning: this post has no 'summary'; add one or two sentences, like "
        "summary: What happened and why it matters, for listings, feeds and share previews",
        "0 errors, 1 warning in 4 files."]
    assert result.code == 0


def test_every_problem_is_counted_in_file_and_line_order(tmp_path: Path, run_cli: RunCli
                                                         ) -> None:
    body = "Intro.\n\n## Why\n\n#### Deep\n\nSee [here](#nope).\n"
    files = {"posts/x.md": post(GOOD.replace("summary: A third post.\n", ""), body),
             "pages/about.md": post("title: About\n", "[More](/elsewhere/)\n")}
    result = check(tmp_path, run_cli, files)
    assert [line.split(": ")[0] for line in lines(result)] == [
        "content/pages/about.md:4", "content/pages/about.md:4",
        f"{X}:2", f"{X}:10", f"{X}:12", f"{X}:12", "2 errors, 4 warnings in 5 files."]
    assert result.code == 1


# -- the extension point ---------------------------------------------------------------------

def test_more_checks_can_be_added(tmp_path: Path) -> None:
    def too_many_tags(ctx: CheckContext) -> Iterable[Problem]:
        for article in ctx.site.articles:
            if len(article.post.tags) > 2:
                yield warning(article.post.source, article.post.line("tags"), "too many tags")

    write_tree(tmp_path / "content", {**MINIMAL_SITE, "posts/x.md": post(
        GOOD + "tags: [a, b, c]\n")})
    report = check_site(tmp_path / "content", checks=(*CHECKS, too_many_tags))
    assert [p.format(tmp_path) for p in report.problems] == [
        f"{X}:6: warning: too many tags"]
    assert report.summary == "0 errors, 1 warning in 4 files."

