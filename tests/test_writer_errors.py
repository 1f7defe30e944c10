"""Every message a writer can get from a build, asserted word for word.

Each test starts from a good build of the minimal site, breaks one thing, runs
``microsite build`` from the site's folder, and checks the exact ``path:line: message`` lines
on stderr, exit code 1, and that the previous ``output/`` is byte-for-byte as it was.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import MINIMAL_SITE, SITE_YAML, CliResult, RunCli, write_tree


def post(front_matter: str, body: str = "Body text.\n") -> str:
    """A Markdown file: ``---``, the front matter (file line 2 on), ``---``, the body."""
    return f"---\n{front_matter}---\n{body}"


GOOD = "title: Third post\ndate: 2024-05-03\ncampaign: equity\n"  # file lines 2-4


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (11, 83, 148)).save(buffer, "PNG")
    return buffer.getvalue()


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def good_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The minimal site, built once by the real command; each test gets a copy."""
    from generator.cli import main

    root = tmp_path_factory.mktemp("good")
    write_tree(root / "content", MINIMAL_SITE)
    assert main(["build", "--content", str(root / "content"),
                 "--output", str(root / "output")]) == 0
    return root / "output"


@dataclass(frozen=True)
class Site:
    """A minimal site with a previous good build in ``output/``, in its own folder."""

    root: Path
    run_cli: RunCli

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def output(self) -> Path:
        return self.root / "output"

    def build(self, files: Mapping[str, str | bytes], *args: str) -> CliResult:
        write_tree(self.content, files)
        return self.run_cli(["build", "--content", str(self.content),
                             "--output", str(self.output), *args], self.root)

    def fail(self, files: Mapping[str, str | bytes], *args: str) -> list[str]:
        """Build with ``files`` added; assert it fails safely; return the problem lines."""
        before = tree(self.output)
        result = self.build(files, *args)
        assert result.code == 1, result
        assert "Traceback" not in result.err
        assert tree(self.output) == before, "a failed build changed output/"
        # The spare tree (the build before last, kept to update in place) may stay, and
        # empty pins (see output._pin) in the holder of new trees.
        assert not [p.name for p in self.root.iterdir()
                    if p.name.startswith(".output") and p.name != ".output.spare"
                    and not (p.name == ".output.work"
                             and all(pin.name.startswith("pin-") for pin in p.iterdir()))], \
            "a failed build left a temporary folder behind"
        *problems, summary = result.err.splitlines()
        count = len(problems)
        assert summary == (f"Build failed: {count} problem{'s' * (count != 1)} to fix; "
                           f"{self.output}/ was left as it was.")
        return problems


@pytest.fixture
def site(minimal_site: Path, good_output: Path, run_cli: RunCli) -> Site:
    root = minimal_site.parent
    shutil.copytree(good_output, root / "output")
    return Site(root, run_cli)


def site_yaml(old: str, new: str) -> dict[str, str]:
    assert old in SITE_YAML
    return {"site.yaml": SITE_YAML.replace(old, new)}


# -- YAML syntax ---------------------------------------------------------------------------

def test_front_matter_yaml_error_has_the_file_line(site: Site) -> None:
    bad = post("title: Third post\ndate: 2024-05-03\ncampaign: [equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:4: a list that starts with '[' on this line is not closed; end it "
        "with ']' (and put quotes around items that contain commas or colons)"]


def test_unquoted_colon_on_the_first_front_matter_line_is_file_line_2(site: Site) -> None:
    bad = post("title: Equity: a start\ndate: 2024-05-03\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:2: this value contains ': ', so it needs quotes: "
        'title: "Equity: a start"']


def test_unquoted_colon_in_site_yaml(site: Site) -> None:
    assert site.fail(site_yaml("title: Test Schools", "title: Schools: equity")) == [
        "content/site.yaml:1: this value contains ': ', so it needs quotes: "
        'title: "Schools: equity"']


def test_site_yaml_syntax_error(site: Site) -> None:
    assert site.fail({"site.yaml": SITE_YAML + "languages_extra: [fr, de\n"}) == [
        "content/site.yaml:19: a list that starts with '[' on this line is not closed; end it "
        "with ']' (and put quotes around items that contain commas or colons)"]


def test_site_yaml_that_ends_inside_a_list(site: Site) -> None:
    assert site.fail({"site.yaml": SITE_YAML + "theme: [\n\n"}) == [
        "content/site.yaml:19: a list that starts with '[' on this line is not closed; end it "
        "with ']' (and put quotes around items that contain commas or colons)"]


def test_tab_indentation(site: Site) -> None:
    bad = post("title: Third post\ntags:\n\t- equity\ndate: 2024-05-03\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:4: this line has a tab character; indent with spaces, not tabs"]


def test_indented_key(site: Site) -> None:
    bad = post("title: Third post\n date: 2024-05-03\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:3: this line is indented differently from the lines above; line "
        "up keys at the same level with the same number of spaces"]


def test_value_starting_with_at_sign(site: Site) -> None:
    assert site.fail(site_yaml("handle: TestEquity", "handle: @TestEquity")) == [
        "content/site.yaml:11: a value that starts with '@' needs quotes around it: "
        'handle: "@TestEquity"']


def test_unclosed_quote(site: Site) -> None:
    bad = post('title: "Third post\ndate: 2024-05-03\ncampaign: equity\n')
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:2: the quote mark that opens this value is never closed; end the "
        "value with the same quote mark"]


def test_text_after_a_closing_quote(site: Site) -> None:
    bad = post("title: 'It's here'\ndate: 2024-05-03\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:2: text follows a closing quote or ']' on this line; put the whole "
        "value in double quotes: title: \"It's here\""]


def test_text_after_a_list(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "tags: [equity, sel]]\n")}) == [
        "content/posts/x.md:5: there is text after the ']' that ends this list; remove it"]


def test_list_item_among_keys(site: Site) -> None:
    bad = post("- Third post\ndate: 2024-05-03\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:3: this line does not line up with the lines above; check its "
        "indentation, and do not mix '- ' list items with 'key: value' lines at one level"]


def test_second_document_in_site_yaml(site: Site) -> None:
    assert site.fail({"site.yaml": SITE_YAML + "---\ntitle: Again\n"}) == [
        "content/site.yaml:19: a second '---' line starts another document here; remove it"]


def test_front_matter_that_is_not_keys(site: Site) -> None:
    assert site.fail({"posts/x.md": post("- title\n- date\n")}) == [
        "content/posts/x.md:2: front matter must be keys like 'title: …' (got a list)"]


def test_key_given_twice(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "date: 2024-05-04\n")}) == [
        "content/posts/x.md:5: 'date' is given twice (also on line 3); keep only one"]


def test_campaign_given_twice_in_site_yaml(site: Site) -> None:
    assert site.fail({"site.yaml": SITE_YAML + "  equity:\n    name: Again\n"}) == [
        "content/site.yaml:19: 'equity' is given twice (also on line 9); keep only one"]


# -- front matter values -------------------------------------------------------------------

@pytest.mark.parametrize(("written", "why"), [
    ("May 1", ""),
    ("2024-13-45", "; there is no month 13"),
    ("2023-02-29", "; February 2023 has 28 days"),
    ("2024-05-01 25:00", "; the time must be between 00:00 and 23:59"),
])
def test_bad_date(site: Site, written: str, why: str) -> None:
    bad = post(f"title: Third post\ndate: {written}\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:3: 'date' must look like 2024-05-01 or 2024-05-01 09:30 "
        f'(got "{written}"){why}']


def test_missing_title_date_and_campaign(site: Site) -> None:
    assert site.fail({"posts/x.md": post("summary: Nothing else.\n")}) == [
        "content/posts/x.md:2: 'title' is required: the post's headline, like title: Our "
        "first week",
        "content/posts/x.md:2: 'date' is required: the publication date, like 2024-05-01",
        "content/posts/x.md:2: 'campaign' is required: the id of a campaign in site.yaml, one "
        "of: equity, sel",
    ]


def test_empty_front_matter_lists_what_is_required(site: Site) -> None:
    assert site.fail({"pages/about.md": "---\n---\nAbout us.\n"}) == [
        "content/pages/about.md:2: 'title' is required: the page's headline, like title: Our "
        "first week"]


def test_unknown_campaign_did_you_mean(site: Site) -> None:
    bad = post("title: Third post\ndate: 2024-05-03\ncampaign: equty\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:4: unknown campaign 'equty'; did you mean 'equity'?"]


def test_unknown_campaign_lists_the_campaigns(site: Site) -> None:
    bad = post("title: Third post\ndate: 2024-05-03\ncampaign: budget\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:4: unknown campaign 'budget'; use one of: equity, sel"]


def test_unknown_front_matter_key(site: Site) -> None:
    bad = post("tittle: Third post\ntitle: Third post\ndate: 2024-05-03\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:2: unknown key 'tittle'; did you mean 'title'?"]


def test_post_key_on_a_page(site: Site) -> None:
    bad = post("title: About us\ndate: 2024-05-01\n")
    assert site.fail({"pages/about.md": bad}) == [
        "content/pages/about.md:3: 'date' is for posts, not pages; a page takes title, "
        "summary, image, image_alt, slug, draft, lang, translation_of"]


def test_title_that_yaml_reads_as_a_list(site: Site) -> None:
    bad = post("title: [Draft]\ndate: 2024-05-03\ncampaign: equity\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:2: 'title' must be text (got a list); put quotes around a value "
        "that starts with '[' or '{'"]


def test_flag_that_is_not_true_or_false(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "draft: yes\n")}) == [
        "content/posts/x.md:5: 'draft' must be true or false (got \"yes\")"]


def test_invalid_hashtag_in_front_matter(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "hashtags: [ok, sel-week]\n")}) == [
        "content/posts/x.md:5: hashtag \"sel-week\" may use only letters, digits and _, and "
        "not only digits; try SelWeek"]


def test_hashtags_written_with_hash_signs(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "hashtags: #SELweek\n")}) == [
        "content/posts/x.md:5: 'hashtags' is empty; write hashtags without '#' (a '#' starts "
        "a comment), like hashtags: [NASSP]"]


def test_tag_without_letters(site: Site) -> None:
    """Used to crash in site.py with a KeyError: the tag had no page name."""
    assert site.fail({"posts/x.md": post(GOOD + "tags: [equity, '🎉']\n")}) == [
        "content/posts/x.md:5: tag \"🎉\" has no letters or digits, so it cannot have a page "
        "of its own; use a word"]


def test_file_name_without_letters(site: Site) -> None:
    assert site.fail({"posts/🎉.md": post(GOOD)}) == [
        "content/posts/🎉.md:1: the file name gives this post no web address (it has no "
        "letters or digits); rename the file, or add a 'slug:' like slug: my-post"]


def test_duplicate_slugs_name_both_files(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "slug: first\n")}) == [
        "content/posts/x.md:5: this post's address posts/first/ is already used by "
        "content/posts/2024-05-01-first.md; give one of them a different 'slug'"]


def test_duplicate_slugs_from_file_names(site: Site) -> None:
    assert site.fail({"posts/2024-06-01-first.md": post(GOOD)}) == [
        "content/posts/2024-06-01-first.md:1: this post's address posts/first/ is already "
        "used by content/posts/2024-05-01-first.md; give one of them a different 'slug'"]


def test_slug_that_would_escape_the_output_folder(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "slug: ../../etc\n")}) == [
        "content/posts/x.md:5: 'slug' may use only letters, digits, '-' and '_' "
        "(got \"../../etc\")"]
    assert not (site.root.parent / "etc").exists()


# -- images and links ----------------------------------------------------------------------

def test_missing_image_file(site: Site) -> None:
    bad = post(GOOD + "image: images/missing.jpg\nimage_alt: Students in a circle\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:5: 'image' file images/missing.jpg was not found in content/; "
        "check the name and that the file is in the images folder"]


def test_image_with_the_wrong_capitals(site: Site) -> None:
    bad = post(GOOD + "image: images/Circle.PNG\nimage_alt: Students in a circle\n")
    assert site.fail({"posts/x.md": bad, "images/circle.png": png()}) == [
        "content/posts/x.md:5: 'image' file images/Circle.PNG was not found in content/; did "
        "you mean images/circle.png?"]


def test_image_outside_the_content_folder(site: Site) -> None:
    bad = post(GOOD + "image: ../secret.png\nimage_alt: x\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:5: 'image' must be a file under content/, like images/photo.jpg "
        "(got \"../secret.png\")"]


NO_ALT = ("content/posts/x.md:5: {}'image' images/circle.png has no 'image_alt'; describe the "
          "picture for readers who use screen readers")


def test_image_without_alt_is_a_warning(site: Site) -> None:
    result = site.build({"posts/x.md": post(GOOD + "image: images/circle.png\n"),
                         "images/circle.png": png()})
    assert result.code == 0, result
    assert result.err.splitlines() == [NO_ALT.format("warning: ")]
    assert result.out.rstrip().endswith(", 1 warning.")
    assert (site.output / "posts" / "x" / "index.html").is_file()


def test_image_without_alt_fails_a_strict_build(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "image: images/circle.png\n"),
                      "images/circle.png": png()}, "--strict") == [NO_ALT.format("")]


def test_broken_link_and_missing_image_in_the_body(site: Site) -> None:
    body = "See [x](posts/missing.md).\n"
    bad = post(GOOD, body + "\n![A chart](images/missing.png)\n")
    hint = ("was not found under content/; paths start from the content folder, like "
            "images/photo.jpg or posts/other-post.md")
    assert site.fail({"posts/x.md": bad}) == [
        f"content/posts/x.md:6: link target 'posts/missing.md' {hint}",
        f"content/posts/x.md:8: image target 'images/missing.png' {hint}",
    ]


def test_link_that_breaks_when_its_target_is_deleted(site: Site) -> None:
    """A cached render of the linking post must not hide that its target is gone."""
    assert site.build({}).code == 0  # a good build in this folder, filling any cache
    (site.content / "posts" / "2024-05-02-second.md").unlink()
    assert site.fail({}) == [
        "content/posts/2024-05-01-first.md:8: link target 'posts/2024-05-02-second.md' was not "
        "found under content/; paths start from the content folder, like images/photo.jpg or "
        "posts/other-post.md"]


def test_broken_link_goes_away_when_its_target_is_added(site: Site) -> None:
    """Fixing the problem fixes the build: nothing remembers the old failure."""
    linking = post(GOOD, "See [the notes](posts/notes.md).\n")
    assert len(site.fail({"posts/x.md": linking})) == 1
    result = site.build({"posts/notes.md": post(GOOD.replace("Third", "Notes"))})
    assert result.code == 0, result
    page = (site.output / "posts" / "x" / "index.html").read_text("utf-8")
    assert 'href="../notes/"' in page


def test_broken_link_points_at_its_own_line(site: Site) -> None:
    bad = post(GOOD, "First paragraph.\n\nSee [x](posts/missing.md).\n")
    assert site.fail({"posts/x.md": bad})[0].startswith("content/posts/x.md:8: ")


# -- files that are not posts --------------------------------------------------------------

def test_empty_file(site: Site) -> None:
    assert site.fail({"posts/x.md": ""}) == [
        "content/posts/x.md:1: the file is empty; a post needs front matter between two '---' "
        "lines, with title, date and campaign, and a body"]


def test_file_without_front_matter(site: Site) -> None:
    assert site.fail({"posts/x.md": "# Third post\n\nBody text.\n"}) == [
        "content/posts/x.md:1: a post must start with front matter between two '---' lines, "
        "with title, date and campaign"]


def test_front_matter_without_closing_line(site: Site) -> None:
    assert site.fail({"posts/x.md": "---\n" + GOOD + "\nBody text.\n"}) == [
        "content/posts/x.md:1: the front matter that starts here has no closing '---' line; "
        "add one after the last key"]


def test_utf16_file(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD).encode("utf-16")}) == [
        "content/posts/x.md:1: the file is saved as UTF-16 text; save it as UTF-8 in your "
        "editor (choose UTF-8 under 'Save As' or 'Encoding')"]


def test_file_that_is_not_utf8_names_the_line(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD).encode() + b"Caf\xe9 au lait.\n"}) == [
        "content/posts/x.md:7: this line is not UTF-8 text (byte 0xe9); save the file as "
        "UTF-8 in your editor (choose UTF-8 under 'Save As' or 'Encoding')"]


def test_file_with_nul_characters(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD) + "Body\x00text.\n"}) == [
        "content/posts/x.md:7: the file contains NUL characters, so it is not plain text "
        "(perhaps it is saved as UTF-16); save it as UTF-8 text"]


def test_file_with_an_invisible_control_character(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD) + "Body text.\n\nA bell\x07 rings.\n"}) == [
        "content/posts/x.md:9: this line contains an invisible control character (U+0007) "
        "that web pages and feeds cannot carry; delete it (retype the words around it if you "
        "cannot see it)"]
    assert site.fail({"site.yaml": SITE_YAML + "\x0c\n"})[0].startswith(
        f"content/site.yaml:{SITE_YAML.count(chr(10)) + 1}: this line contains an "
        "invisible control character (U+000C)")


def test_site_yaml_that_is_not_utf8(site: Site) -> None:
    assert site.fail({"site.yaml": b"\xff\xfet\x00i\x00"}) == [
        "content/site.yaml:1: the file is saved as UTF-16 text; save it as UTF-8 in your "
        "editor (choose UTF-8 under 'Save As' or 'Encoding')"]


def test_utf8_byte_order_mark_is_fine(site: Site) -> None:
    result = site.build({"posts/x.md": "\ufeff" + post(GOOD)})
    assert result.code == 0, result
    assert result.err == ""
    assert "Third post" in (site.output / "posts" / "x" / "index.html").read_text("utf-8")


def test_file_over_one_megabyte(site: Site) -> None:
    big = post(GOOD, "word " * 210_000)
    size = len(big.encode())
    assert site.fail({"posts/x.md": big}) == [
        f"content/posts/x.md: the file is {size:,} bytes, over the limit of 1,000,000 for one "
        "file; split it into smaller posts, and keep pictures in content/images/ rather than "
        "pasted into the text"]


# -- translations --------------------------------------------------------------------------

def test_translation_of_a_missing_original(site: Site) -> None:
    bad = post(GOOD + "lang: es\ntranslation_of: posts/2024-05-01-frist.md\n")
    assert site.fail({"posts/x.md": bad}) == [
        "content/posts/x.md:6: 'translation_of' names \"posts/2024-05-01-frist.md\", but no "
        "post has that file name or slug"]


def test_two_translations_in_one_language(site: Site) -> None:
    es = post("title: Primera\ndate: 2024-05-01\ncampaign: equity\n")
    other = post("title: Otra\ndate: 2024-05-01\ncampaign: equity\nlang: es\n"
                 "translation_of: 2024-05-01-first\n")
    assert site.fail({"posts/2024-05-01-first.es.md": es, "posts/otra.md": other}) == [
        "content/posts/otra.md:5: this is a second 'es' version of "
        "content/posts/2024-05-01-first.es.md; change its 'lang' or its 'translation_of'"]


def test_unknown_language(site: Site) -> None:
    assert site.fail({"posts/x.md": post(GOOD + "lang: fr\n")}) == [
        "content/posts/x.md:5: 'lang' is \"fr\", which this site does not publish in; add it "
        "to 'languages:' in site.yaml or use one of en, es"]


# -- site.yaml -----------------------------------------------------------------------------

def test_unknown_site_yaml_key(site: Site) -> None:
    assert site.fail(site_yaml("posts_per_page: 10", "post_per_page: 10")) == [
        "content/site.yaml:7: unknown key 'post_per_page'; did you mean 'posts_per_page'?"]


def test_unknown_campaign_key(site: Site) -> None:
    assert site.fail(site_yaml("    handle: Test_SEL", "    hndle: Test_SEL")) == [
        "content/site.yaml:16: unknown key 'hndle' in 'campaigns: sel'; did you mean 'handle'?"]


def test_site_yaml_that_is_a_list(site: Site) -> None:
    assert site.fail({"site.yaml": "- title: Test Schools\n"}) == [
        "content/site.yaml:1: site.yaml must be keys like 'name: value' (got a list)"]


def test_empty_site_yaml(site: Site) -> None:
    assert site.fail({"site.yaml": "# nothing yet\n"}) == [
        "content/site.yaml:1: 'title' is required: the site's name",
        "content/site.yaml:1: 'base_url' is required: an absolute http(s) address like "
        "https://example.github.io/site/",
        "content/site.yaml:1: 'campaigns' is required: at least one team or campaign, each "
        "with a 'name'",
    ]


def test_missing_site_yaml(site: Site) -> None:
    (site.content / "site.yaml").unlink()
    assert site.fail({}) == [
        "content/site.yaml: no site.yaml here; is --content the folder with your posts/ and "
        "site.yaml?"]


@pytest.mark.parametrize("written", ["example.org/test-site", "ftp://example.org/"])
def test_bad_base_url(site: Site, written: str) -> None:
    assert site.fail(site_yaml("https://example.org/test-site/", written)) == [
        "content/site.yaml:3: 'base_url' must be an absolute http(s) address like "
        f'https://example.github.io/site/ (got "{written}")']


@pytest.mark.parametrize(("written", "shown"), [("ten", '"ten"'), ("0", "0"), ("2.5", "2.5")])
def test_bad_posts_per_page(site: Site, written: str, shown: str) -> None:
    assert site.fail(site_yaml("posts_per_page: 10", f"posts_per_page: {written}")) == [
        f"content/site.yaml:7: 'posts_per_page' must be a whole number from 1 to 100 "
        f"(got {shown})"]


def test_bad_timezone(site: Site) -> None:
    assert site.fail(site_yaml("America/New_York", "Eastern")) == [
        "content/site.yaml:6: 'timezone' must be a time zone name like America/New_York "
        '(got "Eastern")']


def test_bad_colour(site: Site) -> None:
    assert site.fail(site_yaml("    handle: TestEquity\n",
                               "    handle: TestEquity\n    color: navy blue\n")) == [
        "content/site.yaml:12: 'color' must be a colour like \"#0b5394\" (in quotes) "
        "(got \"navy blue\")"]


def test_colour_without_quotes_is_a_comment(site: Site) -> None:
    """``color: #0b5394`` is an empty value in YAML; the writer's colour must not vanish."""
    assert site.fail(site_yaml("    handle: TestEquity\n",
                               "    handle: TestEquity\n    color: #0b5394\n")) == [
        "content/site.yaml:12: 'color' is empty; put a colour in quotes, like "
        "color: \"#0b5394\" (without quotes, '#' starts a comment)"]


def test_bad_handle(site: Site) -> None:
    assert site.fail(site_yaml("handle: TestEquity", "handle: Test Equity Team")) == [
        "content/site.yaml:11: 'handle' must be an X handle: letters, digits or _ , at most "
        "15, without @ (got \"Test Equity Team\")"]


def test_invalid_hashtag_in_site_yaml_names_the_hashtag(site: Site) -> None:
    assert site.fail(site_yaml("[TestEquity]", "[TestEquity, Test-Equity]")) == [
        "content/site.yaml:12: 'hashtags' must be a list of hashtags without '#': letters, "
        "digits and _, not only digits (got \"Test-Equity\")"]


def test_hashtag_x_would_drop_is_refused_when_loaded(site: Site) -> None:
    """The same rule as the share links: '_2024' has no letter, so X would not link it."""
    assert site.fail(site_yaml("[TestEquity]", "[TestEquity, _2024]")) == [
        "content/site.yaml:12: 'hashtags' must be a list of hashtags without '#': letters, "
        "digits and _, not only digits (got \"_2024\")"]


def test_unknown_share_network(site: Site) -> None:
    assert site.fail({"site.yaml": SITE_YAML + "share:\n  networks: [x, twitter]\n"}) == [
        "content/site.yaml:20: 'networks' must be a list of networks from: x, bluesky, "
        "facebook, linkedin, mastodon, email (got \"twitter\")"]


def test_translations_of_the_site_words(site: Site) -> None:
    extra = ("translations:\n  fr:\n    title: Écoles\n  es:\n    title: Escuelas\n"
             "    campaigns:\n      equty:\n        name: Equidad\n")
    assert site.fail({"site.yaml": SITE_YAML + extra}) == [
        "content/site.yaml:20: 'translations' has \"fr\", which is not in 'languages'; add it "
        "there, or remove these translations",
        "content/site.yaml:25: unknown campaign 'equty'; did you mean 'equity'?"]


FEEDS = "feeds:\n  partner-news:\n    title: Partner news\n    url: feeds/news.xml\n"


def test_unknown_feed_in_a_campaign(site: Site) -> None:
    files = site_yaml("    hashtags: [TestSEL]\n", "    hashtags: [TestSEL]\n"
                      "    feeds: [partner-new]\n")
    files["site.yaml"] += FEEDS
    assert site.fail(files) == [
        "content/site.yaml:18: unknown feed 'partner-new' in this campaign's 'feeds'; did you "
        "mean 'partner-news'?"]


def test_feed_in_a_campaign_when_there_are_no_feeds(site: Site) -> None:
    files = site_yaml("    hashtags: [TestSEL]\n", "    hashtags: [TestSEL]\n"
                      "    feeds: [partner-news]\n")
    assert site.fail(files) == [
        "content/site.yaml:18: unknown feed 'partner-news' in this campaign's 'feeds'; "
        "site.yaml defines no feeds yet"]


def test_theme_that_does_not_exist(site: Site) -> None:
    """Used to fall back to the default theme without a word."""
    assert site.fail(site_yaml("posts_per_page: 10", "posts_per_page: 10\ntheme: fancy")) == [
        "content/site.yaml:8: 'theme' is \"fancy\", but there is no themes/fancy/ folder next "
        "to content/ or inside it; add the theme there, or use theme: default"]


def test_base_url_option(site: Site) -> None:
    assert site.fail({}, "--base-url", "notaurl") == [
        "--base-url must be an absolute http(s) address like https://example.github.io/site/ "
        "(got \"notaurl\")"]


# -- many problems, one run ----------------------------------------------------------------

def test_every_problem_in_every_file_in_one_run(site: Site) -> None:
    problems = site.fail({
        "posts/a.md": post("title: A\ndate: May 1\ncampaign: budget\n"),
        "posts/b.md": "",
        "posts/c.md": post(GOOD + "tittle: C\n"),
        "pages/d.md": post("title: D: the page\n"),
    })
    assert problems == [
        "content/posts/a.md:3: 'date' must look like 2024-05-01 or 2024-05-01 09:30 "
        "(got \"May 1\")",
        "content/posts/a.md:4: unknown campaign 'budget'; use one of: equity, sel",
        "content/posts/b.md:1: the file is empty; a post needs front matter between two '---' "
        "lines, with title, date and campaign, and a body",
        "content/posts/c.md:5: unknown key 'tittle'; did you mean 'title'?",
        "content/pages/d.md:2: this value contains ': ', so it needs quotes: "
        'title: "D: the page"',
    ]


def test_every_site_yaml_problem_in_one_run(site: Site) -> None:
    files = site_yaml("posts_per_page: 10", "post_per_page: 10")
    files["site.yaml"] = files["site.yaml"].replace("America/New_York", "Eastern")
    files["site.yaml"] = files["site.yaml"].replace("handle: Test_SEL", "handle: '@Test SEL'")
    assert site.fail(files) == [
        "content/site.yaml:6: 'timezone' must be a time zone name like America/New_York "
        '(got "Eastern")',
        "content/site.yaml:7: unknown key 'post_per_page'; did you mean 'posts_per_page'?",
        "content/site.yaml:16: 'handle' must be an X handle: letters, digits or _ , at most "
        "15, without @ (got \"@Test SEL\")",
    ]


# -- the output folder ---------------------------------------------------------------------

def test_output_under_a_file_is_a_located_error(site: Site, run_cli: RunCli) -> None:
    notes = site.root / "notes.txt"
    notes.write_text("keep me")
    result = run_cli(["build", "--content", str(site.content), "--output",
                      str(notes / "site")], site.root)
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"notes.txt/site: {notes} is a file, so the output cannot go in it; "
        "choose another --output")
    assert "Traceback" not in result.err
    assert notes.read_text() == "keep me"


def test_output_folder_not_made_by_us_is_refused(site: Site, run_cli: RunCli) -> None:
    thesis = site.root / "thesis"
    write_tree(thesis, {"chapter-1.txt": "do not delete", "notes/a.md": "# notes"})
    before = tree(thesis)
    result = run_cli(["build", "--content", str(site.content), "--output", str(thesis)],
                     site.root)
    assert result.code == 1
    assert result.err.splitlines() == [
        "thesis: this folder was not made by campaign-microsite (it has no .microsite-output "
        "file), so the build will not replace it; choose another --output, or empty the folder "
        "yourself",
        f"Build failed: 1 problem to fix; {thesis}/ was left as it was.",
    ]
    assert tree(thesis) == before
    assert not [p.name for p in site.root.iterdir() if p.name.startswith(".thesis")]
