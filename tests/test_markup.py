"""Markdown conventions writers rely on: headings, quotes to share, X embeds, links."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
from markdown.treeprocessors import InlineProcessor

from generator.markup import SITE, SOURCE, Markup
from tests.conftest import write_tree

Found = tuple[tuple[int | None, str], ...]


def render(tmp_path: Path, body: str) -> tuple[str, tuple[str, ...], Found]:
    write_tree(tmp_path, {"images/a.png": b"", "posts/other.md": "x"})
    rendered = Markup(tmp_path).render(body, PurePosixPath("posts/this.md"))
    return rendered.html, rendered.quotes, rendered.problems


def test_headings_start_at_h2(tmp_path: Path) -> None:
    html, _, _ = render(tmp_path, "# Top\n\n## Under\n")
    assert "<h2" in html and "<h3" in html and "<h1" not in html


def test_quotes_to_share_each_become_a_figure(tmp_path: Path) -> None:
    html, quotes, _ = render(tmp_path, "> tweet: First.\n\n> tweet: Second *one*.\n\n> plain\n")
    assert quotes == ("First.", "Second one.")
    assert html.count('<figure class="tweetable">') == 2
    assert html.count("<!--tweetable:") == 2
    assert "<blockquote>\n<p>plain</p>\n</blockquote>" in html


def test_links_resolve_to_late_bound_markers(tmp_path: Path) -> None:
    html, _, problems = render(tmp_path, "[a](posts/other.md#part) ![pic](images/a.png) "
                                         "[out](https://example.org/) [b](/about/)")
    assert f'href="{SOURCE}posts/other.md#part"' in html
    assert f'src="{SITE}images/a.png"' in html
    assert 'href="https://example.org/"' in html
    assert f'href="{SITE}about/"' in html
    assert problems == ()


def test_missing_targets_are_located(tmp_path: Path) -> None:
    _, _, problems = render(tmp_path, "Line one.\n\n[gone](posts/gone.md)\n")
    assert problems and problems[0][0] == 2


def test_x_embed_needs_an_x_address(tmp_path: Path) -> None:
    html, _, problems = render(tmp_path, "[[x https://x.com/CCPSEquity/status/123]]\n\n"
                                         "[[x https://example.com/1]]\n")
    assert 'data-x-embed="post"' in html
    assert "<script" not in html
    assert problems and problems[0][0] == 2 and "x.com" in problems[0][1]


def test_static_files_and_queries(tmp_path: Path) -> None:
    write_tree(tmp_path, {"static/flyer.pdf": b"%PDF"})
    html, _, problems = render(tmp_path, "[flyer](static/flyer.pdf) [x](posts/other.md?a=1#b)")
    assert f'href="{SITE}flyer.pdf"' in html, "content/static/ is published at the root"
    assert f'href="{SOURCE}posts/other.md?a=1#b"' in html
    assert problems == ()


_PIECES = ["word", "Word", " ", "\n", "\n\n", "  \n", "\t", "\r\n", "*", "**", "_", "`", "``",
           "\\", "\\*", "[", "]", "(", ")", "[a](posts/x.md)", "[b][r]", "[r]: https://e.org",
           "![i](images/x.jpg)", "<", ">", "<https://x.org>", "<a@b.org>", "<b>", "</b>", "&",
           "&amp;", "&#35;", "|", " | ", "---", "===", "# ", "## ", "> ", "> tweet: ", "1. ",
           "[TOC]", "- ", ":", ": ", "{", "}", "{: #id}", "[^1]", "[^1]: note",
           "*[HTML]: Hyper Text", "HTML", "    code", "```", "!", "@", "é", "😀",
           '<div markdown="1">', "</div>", "\n#", "\n  #", "\n=", "\n-", "\n---", "\n   -",
           "\n    ***", "* * *", "_ _ _", "\n: ", "\n   : ", "  > ", "\n>", "-", "__", "~~~",
           "\n~~~\n"]


def test_leaving_out_steps_a_body_cannot_use_changes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body is converted without the Markdown steps whose marks it lacks, a run of text
    without the patterns it cannot match, and a block without the block tests it cannot
    pass: the HTML must be exactly what Python-Markdown with every step makes, whatever the
    mix of marks."""
    import random

    from generator import markup
    write_tree(tmp_path, {"posts/x.md": "x", "images/x.jpg": ""})
    rng = random.Random(6)
    bodies = ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 80)))
              for _ in range(1000)]
    bodies += ["Plain words only.", "One *word*.", "A [link](posts/x.md) and a | pipe."]
    monkeypatch.setattr(markup, "_CONVERTERS", 10**6)
    fast = Markup(tmp_path)
    made = [fast.render(body, PurePosixPath("posts/y.md")) for body in bodies]
    passed = sum(getattr(md.treeprocessors["inline"], "passed", -10**6)
                 for md in fast._converters.values())
    assert passed > 1000, "runs of text skip the patterns they cannot match"
    skipped = {name: sum(getattr(md.parser.blockprocessors[name].test, "skipped", [-10**6])[0]
                         for md in fast._converters.values()
                         if name in md.parser.blockprocessors)
               for name, _ in markup._BLOCK_NEEDS}
    assert min(skipped.values()) > 100, f"blocks skip the tests they cannot pass: {skipped}"
    monkeypatch.setattr(markup, "_MARKS", ())
    monkeypatch.setattr(markup, "_BLOCK_NEEDS", ())
    monkeypatch.setattr(markup, "_QuickInline", InlineProcessor)  # Python-Markdown's own
    full = Markup(tmp_path)
    for body, rendered in zip(bodies, made, strict=True):
        assert rendered == full.render(body, PurePosixPath("posts/y.md")), body
    assert len(fast._converters) > 100  # the bodies really were converted differently


def test_an_unusual_mix_of_marks_uses_the_full_converter(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from generator import markup
    monkeypatch.setattr(markup, "_CONVERTERS", 2)
    md = Markup(tmp_path)
    for body in ("plain", "*em*", "`code` & [x]", "| a |"):
        md.render(body, PurePosixPath("posts/y.md"))
    assert len(md._converters) == 3 and frozenset() in md._converters
    assert md.render("`code` & more", PurePosixPath("posts/y.md")).html == \
        "<p><code>code</code> &amp; more</p>"


def test_a_malformed_address_is_reported_not_a_crash(tmp_path: Path) -> None:
    html, _, problems = render(tmp_path, "See [the page](https://[site/page).\n")
    assert 'href="https://[site/page"' in html
    assert problems == ((0, "link address 'https://[site/page' is not a valid web address; "
                             "check it for a stray bracket or space"),)


def test_the_converter_is_made_without_searching_installed_packages(tmp_path: Path) -> None:
    """Extensions given by name make Python-Markdown read every installed package's entry
    points (~25 ms in each process of every build); ours are given as objects, extra's too.
    The HTML is extra's all the same: a table, a footnote and attributes."""
    script = (
        "import sys; from pathlib import Path, PurePosixPath; "
        "from generator.markup import Markup; "
        f"html = Markup(Path({str(tmp_path)!r})).render("
        "'| a | b |\\n|---|---|\\n| 1 | 2 |\\n\\nNote[^1]\\n{: .lede }\\n\\n[^1]: Here.', "
        "PurePosixPath('posts/x.md')).html; "
        "print('<table>' in html, 'class=\"footnote\"' in html, 'class=\"lede\"' in html, "
        "'importlib.metadata' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parent.parent)
    assert done.stdout.split() == ["True", "True", "True", "False"]
