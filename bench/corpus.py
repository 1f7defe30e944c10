"""A deterministic synthetic site for the benchmark, in our format and in Pelican's.

``python -m bench.corpus --posts 1000 --out bench/out/site-1000 [--seed 1]`` writes
``<out>/content/`` (site.yaml, posts, pages, a local feed: builds need no network) and
``<out>/pelican/`` (the same posts and pages with Pelican metadata, and a pelicanconf.py).
The same seed always gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

# Bump when the generated text changes, so bench.run regenerates stale corpora.
CORPUS_VERSION = 1
STAMP = "corpus.json"
# The last block overshoots the drawn target by ~50 words, so bodies average ~740 (the issue).
WORDS_PER_POST = (650, 730)
FIRST_DAY = datetime(2019, 1, 7, 8, 0)
DAYS = 7 * 365  # several years, all in the past so every post is published

_CAMPAIGNS = (
    ("equity", "Metro Equity", "MetroEquity", ["MetroEquity", "EdEquity"], "#0b5394"),
    ("sel", "Metro Social-Emotional Learning", "Metro_SEL", ["MetroSEL", "SELinSchools"],
     "#6a1b9a"),
    ("families", "Metro Family Engagement", "MetroFamilies", ["MetroFamilies"], "#1b5e20"),
    ("wellness", "Metro Student Wellness", "MetroWellness", ["MetroWellness", "K12Health"],
     "#8c2f00"),
)
_TAGS = (
    "equity", "sel", "student voice", "families", "events", "trainings", "principals",
    "teachers", "counselors", "attendance", "belonging", "restorative practice", "literacy",
    "math", "science", "arts", "music", "athletics", "wellness", "nutrition", "mental health",
    "mentoring", "early childhood", "middle school", "high school", "graduation", "college",
    "careers", "community", "partners", "volunteers", "multilingual", "special education",
    "technology", "libraries", "summer", "winter", "research", "data", "budget", "policy",
    "recognition", "awards", "professional learning", "leadership", "culture", "history",
    "climate", "safety", "transportation",
)
_SCHOOLS = (
    "Riverside High School", "Oak Park Elementary", "Lincoln Middle School",
    "Harbor View Academy", "Maple Grove Elementary", "Eastside Career Center",
    "Hillcrest Middle School", "Northgate High School", "Cedar Lane Elementary",
    "Westfield Community School", "Summit Early Learning Center", "Bayside Middle School",
)
_PEOPLE = (
    ("Ms. Alvarez", "a chemistry teacher"), ("Mr. Okafor", "the assistant principal"),
    ("Dr. Chen", "our Director of SEL"), ("Ms. Haile", "a school counselor"),
    ("Mr. Brooks", "a fifth-grade teacher"), ("Principal Whitfield", "the principal"),
    ("Ms. Romero", "a family engagement specialist"), ("Mr. Nguyen", "a librarian"),
)
_PRACTICES = (
    "morning meetings", "restorative circles", "calm-down corners", "peer mentoring",
    "family listening sessions", "student voice panels", "gratitude journals",
    "advisory periods", "lunch-buddy programs", "book clubs", "community walks",
    "reading buddies", "check-in, check-out routines", "goal-setting conferences",
)
_GROUPS = ("students", "teachers", "families", "principals", "counselors", "volunteers",
           "ninth graders", "kindergarteners", "school leaders", "community partners")
_TOPICS = ("belonging", "attendance", "equity", "kindness", "self-awareness", "reading",
           "feedback", "trust", "transitions", "relationships", "resilience", "curiosity")
_VERBS = ("started", "tried", "expanded", "redesigned", "piloted", "celebrated",
          "shared", "studied", "launched", "revisited")
_WHEN = ("this fall", "last spring", "over the winter break", "during the first week",
         "every Tuesday morning", "after the last bell", "at the end of each quarter",
         "before the school day starts", "during professional development days")
_SENTENCES = (
    "At {school}, {group} {verb} {practice} {when}, and the results surprised almost everyone.",
    "{person}, {role}, said the biggest change was how often {group} now talk about {topic}.",
    "The idea was simple: give {group} a few minutes each day to focus on {topic}.",
    "We asked {number} {group} what helps them feel ready to learn, and {topic} came up again "
    "and again.",
    "It took {number} weeks of planning, but {practice} are now part of the routine at {school}.",
    "Nobody expected {practice} to change the mood of a whole hallway, yet that is what "
    "{group} describe.",
    "When {group} see {topic} modeled by adults, they are far more likely to practice it "
    "themselves.",
    "{person} keeps a simple notebook of what works, and it now runs to {number} pages.",
    "The team {verb} the schedule so that {practice} happen {when} instead of squeezed in "
    "at the end.",
    "Families told us that {topic} matters most when it shows up in small, everyday moments.",
    "There were hard days too, and {group} were honest about what still needs to change.",
    "By the end of the term, {number} classrooms across the district had {verb} similar "
    "routines.",
    "If you visit {school} {when}, you will see {group} leading {practice} on their own.",
    "The data are early, but attendance on days with {practice} is up by {number} percent.",
    "Our partners at the public library {verb} a reading list about {topic} for {group}.",
    "\u201cIt is not a program, it is a habit,\u201d {person} told us after a long afternoon "
    "of {practice}.",
)
_HEADINGS = ("What we tried", "What {group} told us", "Why {topic} matters", "How it works",
             "What changed at {school}", "What comes next", "Lessons from {practice}",
             "How to get started", "The numbers", "A closer look at {topic}")
_TITLES = ("How {school} made {practice} part of the day",
           "What {group} taught us about {topic}",
           "{number} ideas for {practice} from {school}",
           "{person} on {topic} and {practice}",
           "Why {group} at {school} asked for more {practice}",
           "A week of {practice} with {group}")
_LINKS = ("planning notes", "the full report", "a short video", "the sign-up form",
          "last year's summary", "the reading list", "a printable guide", "the research brief")


@dataclass(frozen=True, slots=True)
class SynthPost:
    """One generated post, ready to write in either format."""

    slug: str
    title: str
    date: datetime
    campaign: str
    tags: tuple[str, ...]
    summary: str
    body: str


def slugify(text: str) -> str:
    """A lowercase ASCII slug, the same one our generator derives from the file name."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _fill(rng: random.Random, template: str) -> str:
    person, role = rng.choice(_PEOPLE)
    return template.format(
        school=rng.choice(_SCHOOLS), group=rng.choice(_GROUPS), verb=rng.choice(_VERBS),
        practice=rng.choice(_PRACTICES), when=rng.choice(_WHEN), topic=rng.choice(_TOPICS),
        person=person, role=role, number=rng.randint(3, 40))


def _sentence(rng: random.Random) -> str:
    text = _fill(rng, rng.choice(_SENTENCES))
    text = text[0].upper() + text[1:]
    roll = rng.random()
    if roll < 0.12:  # emphasis on a phrase, as writers do
        words = text.split()
        i = rng.randrange(1, max(2, len(words) - 2))
        words[i] = f"*{words[i]}*" if roll < 0.08 else f"**{words[i]}**"
        text = " ".join(words)
    elif roll < 0.2:
        anchor = rng.choice(_LINKS)
        text += f" Read [{anchor}](https://example.org/{slugify(anchor)}/{rng.randint(1, 999)})."
    return text


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 5)))


def _list(rng: random.Random) -> str:
    items = []
    for _ in range(rng.randint(3, 5)):
        item = _fill(rng, rng.choice(_SENTENCES))
        items.append(f"- {item[0].upper()}{item[1:]}")
    return "\n".join(items)


def _body(rng: random.Random, tweet: bool) -> str:
    target = rng.randint(*WORDS_PER_POST)
    blocks = [_paragraph(rng)]
    words = len(blocks[0].split())
    sections = 0
    while words < target:
        block = _paragraph(rng)
        if rng.random() < 0.45:
            heading = _fill(rng, _HEADINGS[sections % len(_HEADINGS)])
            block = f"## {heading}\n\n{block}"
            sections += 1
        roll = rng.random()
        if roll < 0.25:
            block += "\n\n" + _list(rng)
        elif roll < 0.32:
            person, _ = rng.choice(_PEOPLE)
            block += f"\n\n> {_sentence(rng)}\n>\n> \u2014 {person}"
        elif roll < 0.4 and tweet:
            block += f"\n\n> tweet: {_fill(rng, rng.choice(_SENTENCES))}"
            tweet = False
        blocks.append(block)
        words += len(block.split())
    return "\n\n".join(blocks) + "\n"


def make_posts(count: int, seed: int, campaigns: tuple[str, ...]) -> list[SynthPost]:
    """``count`` posts with unique slugs, dates spread over several years."""
    rng = random.Random(seed)
    seen: set[str] = set()
    posts = []
    for i in range(count):
        title = _fill(rng, rng.choice(_TITLES))
        title = title[0].upper() + title[1:]
        slug = slugify(title)
        if slug in seen:  # repeated titles get a part number, as a writer would add
            title, slug = f"{title}, part {i}", f"{slug}-part-{i}"
        seen.add(slug)
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS), minutes=15 * rng.randrange(40))
        tags = tuple(sorted(rng.sample(_TAGS, rng.randint(1, 3))))
        summary = _fill(rng, rng.choice(_SENTENCES))
        posts.append(SynthPost(slug=slug, title=title, date=day, campaign=rng.choice(campaigns),
                               tags=tags, summary=summary[0].upper() + summary[1:],
                               body=_body(rng, tweet=rng.random() < 0.3)))
    return posts


def _yaml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # JSON strings are valid YAML scalars


def site_yaml(campaigns: tuple[str, ...]) -> str:
    lines = ["title: Metro Schools Benchmark", "description: A synthetic site for benchmarks.",
             "base_url: https://example.github.io/bench/", "language: en",
             "timezone: America/New_York", "theme: default", "posts_per_page: 10",
             "campaigns:"]
    for cid, name, handle, hashtags, color in _CAMPAIGNS:
        if cid not in campaigns:
            continue
        lines += [f"  {cid}:", f"    name: {name}",
                  f"    description: Stories from the {name} team.", f"    handle: {handle}",
                  f"    hashtags: [{', '.join(hashtags)}]", f'    color: "{color}"',
                  "    goal_per_day: 1"]
        if cid == campaigns[0]:
            lines.append("    feeds: [partner-news]")
    lines += ["feeds:", "  partner-news:", "    title: Partner news",
              "    url: feeds/partner-news.xml", "    link: https://example.org/", "    limit: 3"]
    return "\n".join(lines) + "\n"


def _feed_xml() -> str:
    items = "".join(
        f"<item><title>Partner story {n}</title><link>https://example.org/news/{n}</link>"
        f"<guid>https://example.org/news/{n}</guid>"
        f"<pubDate>Mon, 0{n} Dec 2025 10:00:00 +0000</pubDate>"
        f"<description>A short partner story, number {n}.</description></item>\n"
        for n in range(1, 6))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            "<title>Partner news</title><link>https://example.org/</link>"
            f"<description>Partner news.</description>\n{items}</channel></rss>\n")


_PAGES = (("about", "About this site", "Who we are and what this site is for."),
          ("contact", "Contact us", "How to reach the teams behind this site."))

PELICANCONF = '''\
"""Pelican settings mirroring what our generator builds (written by bench.corpus)."""
AUTHOR = "Metro Schools"
SITENAME = "Metro Schools Benchmark"
SITEURL = "https://example.github.io/bench"
RELATIVE_URLS = False
PATH = "content"
TIMEZONE = "America/New_York"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 10
LOAD_CONTENT_CACHE = False
CACHE_CONTENT = False
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
CATEGORY_FEED_RSS = "feeds/{slug}.rss.xml"
TAG_FEED_ATOM = "feeds/tag-{slug}.atom.xml"
TAG_FEED_RSS = "feeds/tag-{slug}.rss.xml"
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
LINKS = ()
SOCIAL = ()
'''


def _pelican_post(post: SynthPost) -> str:
    return (f"Title: {post.title}\nDate: {post.date:%Y-%m-%d %H:%M}\n"
            f"Category: {post.campaign}\nTags: {', '.join(post.tags)}\n"
            f"Summary: {post.summary}\nSlug: {post.slug}\n\n{post.body}")


def _our_post(post: SynthPost) -> str:
    tags = ", ".join(_yaml(t) for t in post.tags)
    return (f"---\ntitle: {_yaml(post.title)}\ndate: {post.date:%Y-%m-%d %H:%M}\n"
            f"campaign: {post.campaign}\ntags: [{tags}]\nsummary: {_yaml(post.summary)}\n"
            f"---\n{post.body}")


def write_corpus(out: Path, posts: int, seed: int = 1) -> Path:
    """Write both formats of the corpus under ``out`` (replacing it); return ``out``."""
    rng = random.Random(seed)
    campaigns = tuple(c[0] for c in _CAMPAIGNS[: rng.randint(2, 4)])
    synth = make_posts(posts, seed, campaigns)
    if out.exists():
        shutil.rmtree(out)
    content, pelican = out / "content", out / "pelican" / "content"
    for folder in (content / "posts", content / "pages", content / "feeds", pelican / "pages"):
        folder.mkdir(parents=True)
    (content / "site.yaml").write_text(site_yaml(campaigns), encoding="utf-8")
    (content / "feeds" / "partner-news.xml").write_text(_feed_xml(), encoding="utf-8")
    for post in synth:
        name = f"{post.date:%Y-%m-%d}-{post.slug}.md"
        (content / "posts" / name).write_text(_our_post(post), encoding="utf-8")
        (pelican / name).write_text(_pelican_post(post), encoding="utf-8")
    for slug, title, summary in _PAGES:
        body = "\n\n".join(_paragraph(rng) for _ in range(4)) + "\n"
        (content / "pages" / f"{slug}.md").write_text(
            f"---\ntitle: {title}\nsummary: {summary}\nslug: {slug}\n---\n{body}",
            encoding="utf-8")
        (pelican / "pages" / f"{slug}.md").write_text(
            f"Title: {title}\nSummary: {summary}\nSlug: {slug}\n\n{body}", encoding="utf-8")
    (out / "pelican" / "pelicanconf.py").write_text(PELICANCONF, encoding="utf-8")
    stamp = {"posts": posts, "seed": seed, "version": CORPUS_VERSION}
    (out / STAMP).write_text(json.dumps(stamp) + "\n", encoding="utf-8")
    return out


def is_current(out: Path, posts: int, seed: int) -> bool:
    """True when ``out`` already holds this corpus (same size, seed and generator version)."""
    try:
        stamp = json.loads((out / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(stamp == {"posts": posts, "seed": seed, "version": CORPUS_VERSION})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000, help="how many posts (default 1000)")
    parser.add_argument("--out", type=Path, required=True, help="the folder to (re)write")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args()
    write_corpus(args.out, args.posts, args.seed)
    print(f"Wrote {args.posts} posts to {args.out}/content and {args.out}/pelican/content.")


if __name__ == "__main__":
    main()
